import { promises as fs, constants as fsConstants } from 'node:fs';
import { ValidateFunction, ErrorObject } from 'ajv';
import { parseDocument, LineCounter, isMap, isSeq, isPair, isScalar, isAlias, Node, Document, visit } from 'yaml';
import { XcpError, describeSystemError } from '../errors';
import { printable } from '../util/text';

/** One problem of a YAML or JSON document, located in its text. */
export interface DocIssue {
  line: number;
  col: number;
  keyPath: string;
  message: string;
}

/** Errors reported in full; the rest are counted. Keeps the cost and the output bounded. */
export const MAX_ISSUES = 50;

export class DocumentErrors extends XcpError {}

/** Reads a document, refusing anything larger than `maxBytes` before parsing it. */
export async function readBounded(file: string, what: string, maxBytes: number, opts: { noFollow?: boolean } = {}): Promise<string> {
  let handle;
  try {
    handle = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | (opts.noFollow ? fsConstants.O_NOFOLLOW : 0));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new XcpError(`cannot read ${what} ${file}: it is a symbolic link (refused)`, 'invalidInput');
    throw new XcpError(`cannot read ${what} ${file}: ${describeSystemError(err)}`, 'invalidInput');
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new XcpError(`cannot read ${what} ${file}: not a regular file`, 'invalidInput');
    if (opts.noFollow && st.nlink > 1) throw new XcpError(`cannot read ${what} ${file}: it is a hard link (${st.nlink} names for one file; refused)`, 'invalidInput');
    if (st.size > maxBytes) {
      throw new XcpError(`${what} ${file} is ${(st.size / 1048576).toFixed(1)} MiB; a ${what} is at most ${(maxBytes / 1048576).toFixed(0)} MiB`, 'invalidInput');
    }
    const buf = await handle.readFile();
    const text = buf.toString('utf8');
    if (text.includes('\uFFFD') && !buf.includes(Buffer.from('\uFFFD'))) {
      throw new XcpError(`${what} ${file} is not UTF-8 text`, 'invalidInput');
    }
    return text;
  } catch (err) {
    if (err instanceof XcpError) throw err;
    throw new XcpError(`cannot read ${what} ${file}: ${describeSystemError(err)}`, 'invalidInput');
  } finally {
    await handle.close();
  }
}

export interface Position {
  line: number;
  col: number;
}

/** Where a value (or a mapping's key) is in the text: asked for at most MAX_ISSUES places, all at once. */
export interface LocationRequest {
  segs: string[];
  /** The key of this name in the mapping at segs, rather than the mapping itself (if there). */
  key?: string;
}
export type Locator = (requests: LocationRequest[]) => Position[];

/** What schemaIssues needs of a parsed document: its data and a way to place errors in the text. */
export interface Located {
  data?: unknown;
  issues: DocIssue[];
  locate: Locator;
}

export interface Parsed extends Located {
  doc: Document;
  lc: LineCounter;
}

/**
 * Parses YAML (JSON is YAML) with positions. Duplicate keys are found here in one
 * linear pass (the yaml library's own check is quadratic in the number of keys), and
 * an alias bomb is reported as an error of the document, not of the program.
 */
export function parseWithPositions(text: string): Parsed {
  const { doc, lc, data, issues } = parseYaml(text);
  return { doc, lc, data, issues, locate: yamlLocator(doc, lc) };
}

function yamlLocator(doc: Document, lc: LineCounter): Locator {
  return (requests) => requests.map(({ segs, key }) => positionOf((key !== undefined ? keyNodeAt(doc, segs, key) : undefined) ?? nodeAt(doc, segs), doc, lc));
}

function parseYaml(text: string): Omit<Parsed, 'locate'> {
  const lc = new LineCounter();
  const tooDeep = nestingBeyond(text, MAX_NESTING, true);
  if (tooDeep !== undefined) {
    const doc = new Document(null);
    return { doc, lc, issues: [{ ...lineColAt(text, tooDeep), keyPath: '', message: `nested more than ${MAX_NESTING} levels deep (refused before parsing)` }] };
  }
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false });
  const issues: DocIssue[] = [];
  for (const err of doc.errors.slice(0, MAX_ISSUES)) {
    const pos = lc.linePos(err.pos[0]);
    issues.push({ line: pos.line, col: pos.col, keyPath: '', message: `malformed YAML: ${printable(err.message.split('\n')[0], 200)}` });
  }
  if (issues.length) return { doc, lc, issues };
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const k = String(pair.key.value);
        if (seen.has(k) && issues.length < MAX_ISSUES) {
          const pos = lc.linePos(pair.key.range?.[0] ?? 0);
          issues.push({ line: pos.line, col: pos.col, keyPath: '', message: `duplicate key "${printable(k)}"` });
        }
        seen.add(k);
      }
    },
  });
  if (issues.length) return { doc, lc, issues };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    const firstAlias = findFirstAlias(doc);
    const pos = lc.linePos(firstAlias?.range?.[0] ?? 0);
    const why = /alias count/i.test((err as Error).message) ? 'too many YAML alias expansions (an alias bomb?); at most 100 are allowed' : printable((err as Error).message, 200);
    return { doc, lc, issues: [{ line: pos.line, col: pos.col, keyPath: '', message: why }] };
  }
  return { doc, lc, data, issues };
}

function findFirstAlias(doc: Document): Node | undefined {
  let found: Node | undefined;
  visit(doc, {
    Alias(_k, node) {
      found = node;
      return visit.BREAK;
    },
  });
  return found;
}

function segments(instancePath: string): string[] {
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function keyPathOf(segs: (string | number)[]): string {
  let out = '';
  for (const s of segs) {
    if (typeof s === 'number' || /^\d+$/.test(String(s))) out += `[${s}]`;
    else out += out ? `.${printable(String(s), 60)}` : printable(String(s), 60);
  }
  return out;
}

export function nodeAt(doc: Document, segs: string[]): Node | undefined {
  let node: unknown = doc.contents;
  for (const s of segs) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === s);
      node = pair?.value;
    } else if (isSeq(node)) {
      node = node.items[Number(s)];
    } else return undefined;
  }
  return node as Node | undefined;
}

function keyNodeAt(doc: Document, segs: string[], key: string): Node | undefined {
  let parent: unknown = nodeAt(doc, segs);
  if (isAlias(parent)) parent = parent.resolve(doc);
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
  return pair?.key as Node | undefined;
}

export function positionOf(node: Node | undefined, doc: Document, lc: LineCounter): { line: number; col: number } {
  const offset = node?.range?.[0] ?? doc.contents?.range?.[0] ?? 0;
  return lc.linePos(offset);
}

function found(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return `a list`;
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${printable(value)}"`;
  return `${typeof value} ${printable(JSON.stringify(value))}`;
}

/** Drops the umbrella errors ajv adds for unions whose branches already explain the problem. */
function simplifyErrors(errors: ErrorObject[]): ErrorObject[] {
  const seen = new Set<string>();
  const out: ErrorObject[] = [];
  const unions = new Map(errors.filter((e) => e.keyword === 'anyOf').map((e) => [e.instancePath, e]));
  for (const e of errors) {
    if (e.keyword === 'anyOf') continue;
    const union = unions.get(e.instancePath);
    if (e.keyword === 'const' && union) {
      const key = `${e.instancePath}:union`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ ...union, keyword: 'enum', params: { allowedValues: (union.schema as { const: unknown }[]).map((s) => s.const) } });
      continue;
    }
    out.push(e);
  }
  return out;
}

interface Described {
  where: LocationRequest;
  keyPath: string;
  message: string;
}

function describeAjvError(e: ErrorObject): Described {
  const segs = segments(e.instancePath);
  const expected = (e.parentSchema as { description?: string } | undefined)?.description;
  const where: LocationRequest = { segs };
  let keyPath = keyPathOf(segs);
  let message: string;
  switch (e.keyword) {
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      const props = (e.parentSchema as { properties?: Record<string, { description?: string }> }).properties;
      const what = props?.[missing]?.description;
      keyPath = keyPathOf([...segs, missing]);
      message = `missing required key "${missing}"${what ? ` (expected ${what})` : ''}`;
      break;
    }
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      where.key = extra;
      keyPath = keyPathOf([...segs, extra]);
      const allowed = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
      message = `unknown key "${printable(extra)}"${allowed.length ? ` (expected one of: ${allowed.join(', ')})` : ''}`;
      break;
    }
    case 'propertyNames':
      message = `invalid key (expected ${expected ?? 'a valid name'})`;
      break;
    case 'type':
      message = `expected ${expected ?? (e.params as { type: string }).type}, found ${found(e.data)}`;
      break;
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
      message = `expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, found ${found(e.data)}`;
      break;
    }
    case 'const':
      message = `expected ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}, found ${found(e.data)}`;
      break;
    case 'minItems':
      message = `expected at least ${(e.params as { limit: number }).limit} item(s): ${expected ?? ''}`.trim();
      break;
    case 'maxItems':
      message = `expected at most ${(e.params as { limit: number }).limit} item(s)${expected ? `: ${expected}` : ''}`;
      break;
    case 'maxProperties':
      message = `expected at most ${(e.params as { limit: number }).limit} keys${expected ? `: ${expected}` : ''}`;
      break;
    case 'maxLength':
      message = `expected at most ${(e.params as { limit: number }).limit} characters${expected ? ` (${expected})` : ''}, found ${typeof e.data === 'string' ? e.data.length : '?'}`;
      break;
    default:
      message = `expected ${expected ?? e.message}, found ${found(e.data)}`;
  }
  return { where, keyPath, message };
}

/**
 * Validates parsed data against a compiled schema and locates each error. Only the
 * first MAX_ISSUES errors are located (each lookup walks the document), so the cost
 * stays linear in the input however many errors it has.
 */
export function schemaIssues<T>(validate: ValidateFunction<T>, parsed: Located): { data?: T; issues: DocIssue[]; more: number } {
  if (validate(parsed.data)) return { data: parsed.data as T, issues: [], more: 0 };
  const errors = simplifyErrors(validate.errors ?? []);
  const described = errors.slice(0, MAX_ISSUES).map(describeAjvError);
  const positions = parsed.locate(described.map((d) => d.where));
  const issues = described.map((d, i) => ({ ...positions[i], keyPath: d.keyPath, message: d.message }));
  return { issues: sortIssues(issues), more: Math.max(0, errors.length - MAX_ISSUES) };
}

/** Documents nest at most this deep: recipes, locks and packaging descriptions need a handful of levels. */
export const MAX_NESTING = 64;

/**
 * The offset at which `text` opens its (max+1)th nested bracket, or undefined: one
 * linear pass before any parser runs, so nesting bombs cost milliseconds, not gigabytes.
 * Brackets inside quoted strings do not count; with `yaml`, single quotes and comments
 * are also skipped and block indentation deeper than `max` levels of two spaces counts too.
 */
export function nestingBeyond(text: string, max: number, yaml = false): number | undefined {
  let depth = 0;
  let lineStart = true;
  let indent = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (lineStart) {
      if (c === 32) {
        indent++;
        continue;
      }
      lineStart = false;
      if (yaml && indent > 2 * max + 2 && c !== 10) return i;
    }
    if (c === 10) {
      lineStart = true;
      indent = 0;
    } else if ((c === 34 || (yaml && c === 39)) && (!yaml || i === 0 || QUOTE_OPENERS.includes(text[i - 1]))) {
      i = skipQuoted(text, i, c);
    } else if (yaml && c === 35 && (i === 0 || /\s/.test(text[i - 1]))) {
      while (i + 1 < text.length && text.charCodeAt(i + 1) !== 10) i++;
    } else if (c === 91 || c === 123) {
      if (++depth > max) return i;
    } else if (c === 93 || c === 125) depth = Math.max(0, depth - 1);
  }
  return undefined;
}

/** In YAML a quote opens a quoted scalar only after these (elsewhere it is a letter of a plain scalar). */
const QUOTE_OPENERS = ' \t\n:[{,-?';

function skipQuoted(text: string, start: number, quote: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quote === 34 && c === 92) i++;
    else if (c === quote) {
      if (quote === 39 && text.charCodeAt(i + 1) === 39) i++;
      else return i;
    }
  }
  return text.length;
}

export function lineColAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, col: offset - lineStart + 1 };
}

export function sortIssues(issues: DocIssue[]): DocIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.col - b.col);
}

/** The error for a document with issues: one line of cause, then `file:line:col: key: message` lines. */
export function documentError(file: string, what: string, display: string, issues: DocIssue[], more = 0): XcpError {
  const total = issues.length + more;
  const lines = issues.slice(0, MAX_ISSUES).map((i) => `${file}:${i.line}:${i.col}: ${i.keyPath ? `${i.keyPath}: ` : ''}${i.message}`);
  if (more > 0) lines.push(`… and ${more} more error${more === 1 ? '' : 's'} (only the first ${MAX_ISSUES} are shown)`);
  return new DocumentErrors(`${what} ${display} is invalid (${total} error${total === 1 ? '' : 's'})`, 'invalidInput', lines);
}
