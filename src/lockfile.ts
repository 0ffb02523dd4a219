import { promises as fs } from 'node:fs';
import { XcpError, describeSystemError } from './errors';
import { writeFileAtomic } from './util/fsutil';

export const LOCK_VERSION = 1;

export interface LockedPackage {
  name: string;
  version: string;
  architecture: string;
  sha256: string;
  size: number;
  /** Name of the recipe archive the file comes from. */
  archive: string;
  suite: string;
  /** Path of the file below the archive URL, e.g. pool/main/x/xen/…deb. */
  filename: string;
  source: string;
}

export interface LockedArchive {
  name: string;
  uri: string;
  suite: string;
  /** sha256 of the InRelease file the closure was resolved against. */
  inRelease: string;
  date: string;
}

export interface Lock {
  lockVersion: number;
  recipe: string;
  /** Digests of the recipe fields and keyrings that decide the closure; a lock whose inputs differ is stale. */
  inputs: Record<string, string>;
  /** When the closure was resolved; the default SOURCE_DATE_EPOCH of the outputs. */
  resolvedAt: string;
  archives: LockedArchive[];
  /** The install closure of the target system: base + every pinned package. */
  packages: LockedPackage[];
  /** The closure of the installer environment, if the recipe has one. */
  installer?: LockedPackage[];
}

/** Every file the lock names, each once: what fetch downloads. */
export function allLockedFiles(lock: Lock): LockedPackage[] {
  const seen = new Map<string, LockedPackage>();
  for (const p of [...lock.packages, ...(lock.installer ?? [])]) if (!seen.has(p.sha256)) seen.set(p.sha256, p);
  return [...seen.values()];
}

function sortPackages(list: LockedPackage[]): LockedPackage[] {
  return [...list].sort((a, b) => a.name.localeCompare(b.name) || a.architecture.localeCompare(b.architecture));
}

export function serializeLock(lock: Lock): string {
  return JSON.stringify({ ...lock, packages: sortPackages(lock.packages), ...(lock.installer ? { installer: sortPackages(lock.installer) } : {}) }, null, 2) + '\n';
}

export async function readLock(file: string): Promise<Lock | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new XcpError(`cannot read lock ${file}: ${describeSystemError(err)}`, 'invalidInput');
  }
  let lock: Lock;
  try {
    lock = JSON.parse(text) as Lock;
  } catch (err) {
    throw new XcpError(`lock ${file} is not valid JSON (${(err as Error).message}); re-create it with xcpbuild lock`, 'invalidInput');
  }
  if (lock.lockVersion !== LOCK_VERSION || !Array.isArray(lock.packages)) {
    throw new XcpError(`lock ${file} has lockVersion ${lock.lockVersion}, expected ${LOCK_VERSION}; re-create it with xcpbuild lock`, 'invalidInput');
  }
  return lock;
}

export async function writeLock(file: string, lock: Lock): Promise<void> {
  try {
    await writeFileAtomic(file, serializeLock(lock));
  } catch (err) {
    throw new XcpError(`cannot write lock ${file}: ${describeSystemError(err)}`, 'invalidInput');
  }
}

export interface LockDiff {
  added: LockedPackage[];
  removed: LockedPackage[];
  changed: { from: LockedPackage; to: LockedPackage }[];
}

export function diffLocks(before: Lock | undefined, after: Lock): LockDiff {
  const key = (p: LockedPackage) => `${p.name}:${p.architecture}`;
  const old = new Map((before?.packages ?? []).map((p) => [key(p), p]));
  const now = new Map(after.packages.map((p) => [key(p), p]));
  const diff: LockDiff = { added: [], removed: [], changed: [] };
  for (const [k, p] of now) {
    const o = old.get(k);
    if (!o) diff.added.push(p);
    else if (o.version !== p.version || o.sha256 !== p.sha256) diff.changed.push({ from: o, to: p });
  }
  for (const [k, p] of old) if (!now.has(k)) diff.removed.push(p);
  return diff;
}

export function formatLockDiff(diff: LockDiff, compareVersions: (a: string, b: string) => number): string[] {
  const lines: string[] = [];
  for (const p of diff.added) lines.push(`+ ${p.name} ${p.version}`);
  for (const p of diff.removed) lines.push(`- ${p.name} ${p.version}`);
  for (const { from, to } of diff.changed) {
    const verb = compareVersions(to.version, from.version) > 0 ? 'upgraded' : compareVersions(to.version, from.version) < 0 ? 'downgraded' : 'rebuilt';
    lines.push(`~ ${to.name} ${from.version} → ${to.version} (${verb})`);
  }
  return lines;
}

