import { Document, isScalar, parseDocument, Scalar } from 'yaml';
import { XcpError } from '../errors';

export interface TextEdit {
  from: number;
  to: number;
  insert: string;
}

/** Applies edits (by offset in `text`, none overlapping) from the last to the first. */
export function applyEdits(text: string, edits: TextEdit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.from - a.from)) out = out.slice(0, e.from) + e.insert + out.slice(e.to);
  return out;
}

/** A YAML scalar's source for `value`, in the style the old one was written (plain stays plain where YAML allows it). */
function scalarSource(old: Scalar, value: string): string {
  const plainOk = /^[0-9A-Za-z][0-9A-Za-z.+~_-]*$/.test(value);
  if (old.type === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
  if (old.type === Scalar.QUOTE_DOUBLE || !plainOk) return JSON.stringify(value);
  return value;
}

/**
 * The text with the scalars at `path`s set to new values, every other byte (comments,
 * order, flow or block style, quoting of the rest) as it was.
 */
export function setScalars(text: string, changes: { path: (string | number)[]; value: string }[], doc: Document = parseDocument(text)): string {
  const edits: TextEdit[] = changes.map(({ path, value }) => {
    const node = doc.getIn(path, true);
    if (!isScalar(node) || !node.range) throw new XcpError(`no scalar at ${path.join('.')} to set`, 'invalidInput');
    return { from: node.range[0], to: node.range[1], insert: scalarSource(node, value) };
  });
  return applyEdits(text, edits);
}
