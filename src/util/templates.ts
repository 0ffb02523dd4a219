import { promises as fs } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';

/** The project root: templates/, isolinux/, preseed/ and kickstart/ live here. */
export const projectRoot = path.resolve(__dirname, '..', '..');

export function templateDir(name: string): string {
  return path.join(projectRoot, 'templates', name);
}

const compiled = new Map<string, HandlebarsTemplateDelegate>();

/** Renders a template file; templates hold literal file text, so nothing is HTML-escaped. */
export async function render(file: string, data: object): Promise<string> {
  let tpl = compiled.get(file);
  if (!tpl) {
    tpl = Handlebars.compile(await fs.readFile(file, 'utf8'), { noEscape: true, strict: true });
    compiled.set(file, tpl);
  }
  return tpl(data);
}
