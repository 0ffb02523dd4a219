import { visit, JSONPath } from 'jsonc-parser';
import { DocIssue, Located, LocationRequest, Position, MAX_NESTING, nestingBeyond, lineColAt } from './document';
import { printable } from '../util/text';

/**
 * Parses a JSON document (a lock) with bounded cost: nesting is checked in one linear
 * pass first, then JSON.parse builds the data. Positions are found only when there are
 * errors to place, in one streaming pass over the text for all of them at once, so a
 * lock at its maximum size costs what JSON.parse costs.
 */
export function parseJsonWithPositions(text: string): Located {
  const locate = jsonLocator(text);
  const tooDeep = nestingBeyond(text, MAX_NESTING);
  if (tooDeep !== undefined) return { issues: [issueAt(text, tooDeep, `nested more than ${MAX_NESTING} levels deep (refused before parsing)`)], locate };
  try {
    return { data: JSON.parse(text), issues: [], locate };
  } catch (err) {
    const offset = Number(/at position (\d+)/.exec((err as Error).message)?.[1] ?? 0);
    return { issues: [issueAt(text, offset, `malformed JSON: ${printable((err as Error).message.split('\n')[0], 200)}`)], locate };
  }
}

function issueAt(text: string, offset: number, message: string): DocIssue {
  return { ...lineColAt(text, offset), keyPath: '', message };
}

function jsonLocator(text: string) {
  return (requests: LocationRequest[]): Position[] => {
    const wanted = new Map<string, Position | undefined>();
    // Each request's path and all its ancestors, from the document's root down.
    const chains = requests.map(({ segs, key }) => {
      const full = key === undefined ? segs : [...segs, key];
      const chain = Array.from({ length: full.length + 1 }, (_, i) => pathKey(full.slice(0, i)));
      for (const k of chain) wanted.set(k, undefined);
      return chain;
    });
    const found = (path: JSONPath, line: number, col: number) => {
      const k = pathKey(path.map(String));
      if (wanted.has(k) && wanted.get(k) === undefined) wanted.set(k, { line: line + 1, col: col + 1 });
    };
    visit(text, {
      onObjectBegin: (_o, _l, line, col, path) => found(path(), line, col),
      onArrayBegin: (_o, _l, line, col, path) => found(path(), line, col),
      onLiteralValue: (_v, _o, _l, line, col, path) => found(path(), line, col),
      onObjectProperty: (property, _o, _l, line, col, path) => found([...path(), property], line, col),
    });
    // The deepest place that exists: a missing key is placed at the mapping that lacks it.
    return chains.map((chain) => [...chain].reverse().map((k) => wanted.get(k)).find(Boolean) ?? { line: 1, col: 1 });
  };
}

function pathKey(segs: string[]): string {
  return JSON.stringify(segs);
}
