import { promises as fs } from 'node:fs';
import path from 'node:path';
import { sha256File, hashValue } from './hash';

/** One entry of an output's manifest: what a stage wrote, as it wrote it. */
export interface ManifestEntry {
  path: string;
  type: 'f' | 'd' | 'l';
  mode: number;
  size?: number;
  mtimeMs?: number;
  sha256?: string;
  target?: string;
}

export interface Manifest {
  entries: ManifestEntry[];
  /** Digest of paths, types, modes, sizes and contents (not mtimes): what downstream stages key on. */
  digest: string;
}

/** Walks `root` in sorted order and hashes every file. `skip` names top-level entries to leave out. */
export async function makeManifest(root: string, skip: string[] = []): Promise<Manifest> {
  const entries: ManifestEntry[] = [];
  async function walk(dir: string): Promise<void> {
    const names = (await fs.readdir(dir)).sort();
    for (const name of names) {
      const full = path.join(dir, name);
      const rel = path.relative(root, full);
      if (dir === root && skip.includes(name)) continue;
      const st = await fs.lstat(full);
      const mode = st.mode & 0o7777;
      if (st.isDirectory()) {
        entries.push({ path: rel, type: 'd', mode });
        await walk(full);
      } else if (st.isSymbolicLink()) {
        entries.push({ path: rel, type: 'l', mode, target: await fs.readlink(full) });
      } else if (st.isFile()) {
        entries.push({ path: rel, type: 'f', mode, size: st.size, mtimeMs: st.mtimeMs, sha256: await sha256File(full) });
      }
    }
  }
  await walk(root);
  return { entries, digest: manifestDigest(entries) };
}

export function manifestDigest(entries: ManifestEntry[]): string {
  return hashValue(entries.map((e) => [e.path, e.type, e.mode, e.size ?? null, e.sha256 ?? null, e.target ?? null]));
}

/**
 * The cheap check made on every run: each recorded file is there with its size and
 * mtime. Returns the first problem found, if any.
 */
export async function quickCheck(root: string, entries: ManifestEntry[]): Promise<string | undefined> {
  for (const e of entries) {
    if (e.type !== 'f') continue;
    let st;
    try {
      st = await fs.lstat(path.join(root, e.path));
    } catch {
      return `${e.path} is missing`;
    }
    if (!st.isFile() || st.size !== e.size) return `${e.path} changed size`;
    if (st.mtimeMs !== e.mtimeMs) return `${e.path} was modified`;
  }
  return undefined;
}

/** The deep check of `xcpbuild verify`: every recorded file hashed again. Returns every problem. */
export async function deepCheck(root: string, entries: ManifestEntry[]): Promise<string[]> {
  const problems: string[] = [];
  for (const e of entries) {
    const full = path.join(root, e.path);
    try {
      const st = await fs.lstat(full);
      if (e.type === 'f') {
        if (!st.isFile()) problems.push(`${e.path}: not a regular file`);
        else if (st.size !== e.size) problems.push(`${e.path}: size ${st.size}, recorded ${e.size}`);
        else if ((await sha256File(full)) !== e.sha256) problems.push(`${e.path}: content differs from what was built (sha256)`);
      } else if (e.type === 'l' && (!st.isSymbolicLink() || (await fs.readlink(full)) !== e.target)) {
        problems.push(`${e.path}: symbolic link changed`);
      } else if (e.type === 'd' && !st.isDirectory()) problems.push(`${e.path}: not a directory`);
    } catch {
      problems.push(`${e.path}: missing`);
    }
  }
  return problems;
}
