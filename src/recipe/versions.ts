import { Document, isMap, isPair, isScalar, Pair, Node } from 'yaml';
import { applyEdits, TextEdit } from './edit';

/** The recipe format this xcpbuild writes; every earlier one it has shipped is still read. */
export const CURRENT_API = 'xcpbuild/v2';

/** A key an earlier recipe format had, and what replaced it. */
export interface RemovedKey {
  path: string[];
  /** Why it went and what does its job now, for messages and `xcpbuild migrate`. */
  replacedBy: string;
}

/**
 * An earlier recipe format: how to recognise it and what moving it to the current
 * format changes. The first shape of xcpbuild/v1 (before the installer became a layer
 * over the target image) carries the same apiVersion as the later one, so it is
 * recognised by its keys.
 */
interface EarlierFormat {
  name: string;
  recognise(data: Record<string, unknown>): boolean;
  removed: RemovedKey[];
}

const INSTALLER_KEYS: RemovedKey[] = [
  {
    path: ['installer', 'priorities'],
    replacedBy: "the installer environment is a layer over the target image, whose base is base.priorities; installer.packages lists only what the layer adds",
  },
  {
    path: ['installer', 'kernel'],
    replacedBy: "the installer boots the target image's own kernel, which the recipe's packages pin",
  },
];

const EARLIER: EarlierFormat[] = [
  {
    name: 'xcpbuild/v1 (first shape, with installer.priorities and installer.kernel)',
    recognise: (d) => d.apiVersion === 'xcpbuild/v1' && INSTALLER_KEYS.some((k) => hasPath(d, k.path)),
    removed: INSTALLER_KEYS,
  },
  { name: 'xcpbuild/v1', recognise: (d) => d.apiVersion === 'xcpbuild/v1', removed: [] },
];

/** Keys that no longer exist in the current format: a current recipe that has one is told what replaced it. */
export const REMOVED_KEYS: RemovedKey[] = INSTALLER_KEYS;

function hasPath(data: unknown, segs: string[]): boolean {
  let at = data;
  for (const s of segs) {
    if (!at || typeof at !== 'object' || !(s in at)) return false;
    at = (at as Record<string, unknown>)[s];
  }
  return true;
}

function deletePath(data: Record<string, unknown>, segs: string[]): void {
  let at: unknown = data;
  for (const s of segs.slice(0, -1)) at = (at as Record<string, unknown>)[s];
  delete (at as Record<string, unknown>)[segs[segs.length - 1]];
}

export interface Migration {
  /** The format the recipe was written in. */
  from: string;
  /** Each change, for the user: "installer.kernel: removed (…)". */
  changes: string[];
  removed: RemovedKey[];
}

/** What reading `data` as the current format takes, or undefined if it is current (or not a recipe at all). */
export function migrationOf(data: unknown): Migration | undefined {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const d = data as Record<string, unknown>;
  const format = EARLIER.find((f) => f.recognise(d));
  if (!format) return undefined;
  const removed = format.removed.filter((k) => hasPath(d, k.path));
  const changes = [`apiVersion: ${String(d.apiVersion)} → ${CURRENT_API}`, ...removed.map((k) => `${k.path.join('.')}: removed (${k.replacedBy})`)];
  return { from: format.name, changes, removed };
}

/** The recipe data in the current format (a copy; the data is not changed). */
export function migrateData(data: Record<string, unknown>, m: Migration): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
  for (const k of m.removed) deletePath(copy, k.path);
  copy.apiVersion = CURRENT_API;
  return copy;
}

function pairAt(doc: Document, segs: string[]): Pair | undefined {
  let node: unknown = doc.contents;
  let pair: Pair | undefined;
  for (const s of segs) {
    if (!isMap(node)) return undefined;
    pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === s) as Pair | undefined;
    node = pair?.value;
  }
  return pair;
}

/** The start of the line `offset` is on, and the end of the line `end` is on (its newline included). */
function wholeLines(text: string, offset: number, end: number): [number, number] {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  const nl = text.indexOf('\n', Math.max(end - 1, offset));
  return [start, nl < 0 ? text.length : nl + 1];
}

/**
 * The recipe text in the current format, changed only where the format changed: removed
 * keys lose their lines, apiVersion gets the new value; every other byte (comments, key
 * order, quoting) stays as it was.
 */
export function migrateText(text: string, doc: Document, m: Migration): string {
  const edits: TextEdit[] = [];
  for (const k of m.removed) {
    const pair = pairAt(doc, k.path);
    const key = pair?.key as Node | undefined;
    const value = pair?.value as Node | undefined;
    if (!key?.range) continue;
    const [from, to] = wholeLines(text, key.range[0], value?.range?.[1] ?? key.range[1]);
    edits.push({ from, to, insert: '' });
  }
  const api = pairAt(doc, ['apiVersion'])?.value as Node | undefined;
  if (api?.range) edits.push({ from: api.range[0], to: api.range[1], insert: CURRENT_API });
  return applyEdits(text, edits);
}
