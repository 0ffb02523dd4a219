import Ajv from 'ajv';
import { Lock, LockedPackage, LockedPackage as LockedPackageSchema, LOCK_VERSION, POOL_PATH_PATTERN } from './schema';
import { printable } from '../util/text';
import { XcpError, describeSystemError } from '../errors';
import { writeFileAtomic, exists } from '../util/fsutil';
import { schemaIssues, documentError, readBounded } from '../recipe/document';
import { parseJsonWithPositions } from '../recipe/json-document';
import { displayPath } from '../util/paths';

export { LOCK_VERSION };
export type { Lock, LockedPackage, LockedArchive } from './schema';

/** A lock of ~1000 packages is ~300 KB; the cap bounds the cost of a hostile one. */
export const MAX_LOCK_BYTES = 32 * 1024 * 1024;

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
const validateLock = ajv.compile<Lock>(Lock);
const validatePackage = ajv.compile<LockedPackage>(LockedPackageSchema);

const POOL_PATH = new RegExp(POOL_PATH_PATTERN);

/** True if an index's file name is one the lock can hold: plain relative segments below `prefix`. */
export function plainPoolPath(filename: unknown, prefix = ''): boolean {
  return typeof filename === 'string' && filename.length <= 500 && filename.startsWith(prefix) && POOL_PATH.test(filename);
}

/**
 * Checks one package entry as an archive index gave it to the resolver, by the rules the
 * lock's reader applies: a hostile index (even one signed by a trusted key) cannot make
 * `lock` write a lock that its own reader refuses, nor make fetch leave the archive.
 */
export function checkIndexedPackage(p: LockedPackage): LockedPackage {
  const entry = p as unknown as Record<string, unknown>;
  if (validatePackage(p)) return p;
  const field = validatePackage.errors?.[0]?.instancePath.slice(1) || 'entry';
  const value = entry[field];
  const expected = field === 'filename' ? 'a plain relative path' : 'a value the lock format allows';
  throw new XcpError(
    `archive ${printable(String(entry.archive))} lists package ${printable(String(entry.name))} with ${field} "${printable(String(value), 200)}", not ${expected}; refused (the index is hostile or broken)`,
    'verification',
  );
}

/** Every file the lock names, each once: what fetch downloads. */
export function allLockedFiles(lock: Lock): LockedPackage[] {
  const seen = new Map<string, LockedPackage>();
  for (const p of [...lock.packages, ...(lock.installer ?? []), ...(lock.test ?? []), ...(lock.build ?? [])]) if (!seen.has(p.sha256)) seen.set(p.sha256, p);
  return [...seen.values()];
}

function sortPackages(list: LockedPackage[]): LockedPackage[] {
  return [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.architecture < b.architecture ? -1 : a.architecture > b.architecture ? 1 : 0));
}

export function serializeLock(lock: Lock): string {
  const sorted: Lock = { ...lock, packages: sortPackages(lock.packages) };
  if (lock.installer) sorted.installer = sortPackages(lock.installer);
  if (lock.test) sorted.test = sortPackages(lock.test);
  if (lock.build) sorted.build = sortPackages(lock.build);
  return JSON.stringify(sorted, null, 2) + '\n';
}

/** Parses and validates lock text; every problem is reported with file:line:col. */
export function parseLock(text: string, file: string): Lock {
  const parsed = parseJsonWithPositions(text);
  if (parsed.issues.length) throw documentError(file, 'lock', displayPath(file), parsed.issues);
  const { data, issues, more } = schemaIssues(validateLock, parsed);
  if (!data) {
    const e = documentError(file, 'lock', displayPath(file), issues, more);
    throw new XcpError(`${e.message}; fix it or re-create it with xcpbuild lock --update`, 'invalidInput', e.details);
  }
  const problems: string[] = [];
  const byPath = new Map<string, string>();
  for (const p of allLockedFiles(data)) {
    const key = `${p.archive} ${p.filename}`;
    const other = byPath.get(key);
    if (other && other !== p.sha256) problems.push(`${file}: two entries name ${key} with different sha256s`);
    byPath.set(key, p.sha256);
  }
  if (problems.length) throw new XcpError(`lock ${displayPath(file)} is inconsistent`, 'invalidInput', problems);
  return data;
}

export async function readLock(file: string): Promise<Lock | undefined> {
  if (!(await exists(file))) return undefined;
  return parseLock(await readBounded(file, 'lock', MAX_LOCK_BYTES), file);
}

export async function writeLock(file: string, lock: Lock): Promise<void> {
  const text = serializeLock(lock);
  try {
    parseLock(text, file);
  } catch (err) {
    throw new XcpError(`the resolved lock would not be readable, so it is not written: ${(err as XcpError).details[0] ?? (err as Error).message}`, 'verification');
  }
  try {
    await writeFileAtomic(file, text);
  } catch (err) {
    throw new XcpError(`cannot write lock ${file}: ${describeSystemError(err)}`, 'invalidInput');
  }
}

export interface LockDiff {
  added: LockedPackage[];
  removed: LockedPackage[];
  changed: { from: LockedPackage; to: LockedPackage }[];
}

export function diffClosures(before: LockedPackage[], after: LockedPackage[]): LockDiff {
  const key = (p: LockedPackage) => `${p.name}:${p.architecture}`;
  const old = new Map(before.map((p) => [key(p), p]));
  const now = new Map(after.map((p) => [key(p), p]));
  const diff: LockDiff = { added: [], removed: [], changed: [] };
  for (const [k, p] of now) {
    const o = old.get(k);
    if (!o) diff.added.push(p);
    else if (o.version !== p.version || o.sha256 !== p.sha256) diff.changed.push({ from: o, to: p });
  }
  for (const [k, p] of old) if (!now.has(k)) diff.removed.push(p);
  return diff;
}

export function diffLocks(before: Lock | undefined, after: Lock): LockDiff {
  return diffClosures(before?.packages ?? [], after.packages);
}

export function formatLockDiff(diff: LockDiff, compareVersions: (a: string, b: string) => number): string[] {
  const lines: string[] = [];
  for (const p of diff.added) lines.push(`+ ${p.name} ${p.version}`);
  for (const p of diff.removed) lines.push(`- ${p.name} ${p.version}`);
  for (const { from, to } of diff.changed) {
    const c = compareVersions(to.version, from.version);
    const verb = c > 0 ? 'upgraded' : c < 0 ? 'downgraded' : 'rebuilt';
    lines.push(`~ ${to.name} ${from.version} → ${to.version} (${verb})`);
  }
  return lines;
}

/**
 * The time of the newest archive state the lock was resolved against (the Date of
 * the newest InRelease, or the newest repomd.xml revision), in seconds. Two
 * resolutions against the same archive state give the same time, whatever the clock
 * says: nightlies take SOURCE_DATE_EPOCH from it.
 */
export function archiveStateTime(lock: Lock): number | undefined {
  let newest: number | undefined;
  for (const a of lock.archives) {
    const t = /^\d+$/.test(a.date) ? Number(a.date) : Math.floor(Date.parse(a.date.replace(/ UTC$/, ' GMT')) / 1000);
    if (Number.isFinite(t) && (newest === undefined || t > newest)) newest = t;
  }
  return newest;
}
