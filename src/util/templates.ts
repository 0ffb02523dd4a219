import { promises as fs } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { shellQuote, deb822Value, cmdlineWords, hasControlChars, printable, specValue, specText } from './text';
import { XcpError } from '../errors';

/** The project root: templates/, isolinux/, preseed/ and kickstart/ live here. */
export const projectRoot = path.resolve(__dirname, '..', '..');

/**
 * A template directory of the project for code that is not a stage (the boot test,
 * the answer-file checker, `kickstart render`). Stages get theirs from a TemplateGrant.
 */
export function templateDir(name: string): string {
  return path.join(projectRoot, 'templates', name);
}

/** A file of xcpbuild's own source that is not TypeScript (the dnf scripts), by its project-relative path. */
export function projectSource(rel: string): string {
  return path.join(projectRoot, rel);
}

/** A project directory of templates by its project-relative name (templates/rpm, isolinux). */
export function projectDir(name: string): string {
  if (!/^[a-z][a-z0-9-]*(\/[a-z][a-z0-9-]*){0,2}$/.test(name)) throw new XcpError(`not a template directory name: ${printable(name)}`, 'internal');
  return path.join(projectRoot, name);
}

/**
 * The template directories a running stage declared (plan/reads.ts makes it from the
 * stage's reads): the only way stage code reaches a template, so an undeclared one
 * fails loudly instead of going stale.
 */
export class TemplateGrant {
  constructor(private readonly names: readonly string[]) {}

  /** The absolute path of a declared template directory. */
  dir(name: string): string {
    if (!this.names.includes(name)) throw new XcpError(`${name} is read but not declared in the running stage's reads (declared: ${this.names.join(', ') || 'none'})`, 'internal');
    return projectDir(name);
  }

  /** A file in a declared template directory. */
  file(name: string, ...rel: string[]): string {
    return path.join(this.dir(name), ...rel);
  }

  get declared(): readonly string[] {
    return this.names;
  }
}

/**
 * Templates hold literal file text, so nothing is HTML-escaped; instead a value is
 * escaped for the language of the file it lands in, by a helper the template names:
 *   {{sh v}}      one shell word (single-quoted when needed)
 *   {{field v}}   a single-line deb822 / config value (refuses control characters)
 *   {{cmdline v}} kernel / Xen options (a restricted character set)
 *   {{line v}}    any single line of text (comments, answer-file values)
 *   {{spec v}}    a one-line value in an RPM spec (% doubled, no control characters)
 *   {{spectext v}} paragraphs in an RPM spec (%description)
 * A plain {{v}} is only for values the schema restricts to names and numbers.
 */
const hb = Handlebars.create();
hb.registerHelper('sh', (v: unknown) => shellQuote(String(v ?? '')));
hb.registerHelper('field', (v: unknown) => deb822Value('template', String(v ?? '')));
hb.registerHelper('cmdline', (v: unknown) => cmdlineWords('a kernel command line', String(v ?? '')));
hb.registerHelper('spec', (v: unknown) => specValue('a value', String(v ?? '')));
hb.registerHelper('spectext', (v: unknown) => specText(String(v ?? '')));
hb.registerHelper('line', (v: unknown) => {
  const s = String(v ?? '');
  if (hasControlChars(s)) throw new XcpError(`refusing to write a line with control characters: ${printable(s)}`, 'invalidInput');
  return s;
});

/**
 * Renders a template file. It is read (and compiled) on every call, never cached across
 * stages: each stage's reads are its own, which is what its declared inputs promise.
 */
export async function render(file: string, data: object): Promise<string> {
  return hb.compile(await fs.readFile(file, 'utf8'), { noEscape: true, strict: true })(data);
}
