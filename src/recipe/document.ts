import { promises as fs } from 'node:fs';
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
export async function readBounded(file: string, what: string, maxBytes: number): Promise<string> {
  let handle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    throw new XcpError(`cannot read ${what} ${file}: ${describeSystemError(err)}`, 'invalidInput');
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new XcpError(`cannot read ${what} ${file}: not a regular file`, 'invalidInput');
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

export interface Parsed {
  doc: Document;
  lc: LineCounter;
  data?: unknown;
  issues: DocIssue[];
}

/**
 * Parses YAML (JSON is YAML) with positions. Duplicate keys are found here in one
 * linear pass (the yaml library's own check is quadratic in the number of keys), and
 * an alias bomb is reported as an error of the document, not of the program.
 */
export function parseWithPositions(text: string): Parsed {
  const lc = new LineCounter();
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

function describeAjvError(e: ErrorObject, doc: Document, lc: LineCounter): DocIssue {
  const segs = segments(e.instancePath);
  const expected = (e.parentSchema as { description?: string } | undefined)?.description;
  let node = nodeAt(doc, segs);
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
      node = keyNodeAt(doc, segs, extra) ?? node;
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
  return { ...positionOf(node, doc, lc), keyPath, message };
}

/**
 * Validates parsed data against a compiled schema and locates each error. Only the
 * first MAX_ISSUES errors are located (each lookup walks the document), so the cost
 * stays linear in the input however many errors it has.
 */
export function schemaIssues<T>(validate: ValidateFunction<T>, parsed: Parsed): { data?: T; issues: DocIssue[]; more: number } {
  if (validate(parsed.data)) return { data: parsed.data as T, issues: [], more: 0 };
  const errors = simplifyErrors(validate.errors ?? []);
  const issues = errors.slice(0, MAX_ISSUES).map((e) => describeAjvError(e, parsed.doc, parsed.lc));
  return { issues: sortIssues(issues), more: Math.max(0, errors.length - MAX_ISSUES) };
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
