import { promises as fs, createReadStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { sha256File } from '../util/hash';
import { writeFileAtomic, exists } from '../util/fsutil';
import { XcpError, describeSystemError } from '../errors';

export function defaultCacheDir(): string {
  if (process.env.XCPBUILD_CACHE) return path.resolve(process.env.XCPBUILD_CACHE);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'xcpbuild');
}

interface Verified {
  size: number;
  mtimeMs: number;
  ino: number;
}

/**
 * Files stored by sha256. An entry is only ever created by renaming a fully
 * downloaded and verified file into place, so an interrupted download never
 * leaves a complete-looking entry. Entries changed behind our back (different
 * size, mtime or inode than when last verified) are hashed again, and removed if
 * they no longer match.
 */
export class ContentStore {
  private verified: Record<string, Verified> = {};
  private dirty = false;

  constructor(readonly root: string) {}

  static async open(root: string): Promise<ContentStore> {
    const store = new ContentStore(root);
    try {
      await fs.mkdir(path.join(root, 'sha256'), { recursive: true });
      await fs.mkdir(path.join(root, 'partial'), { recursive: true });
    } catch (err) {
      throw new XcpError(`cannot use cache directory ${root}: ${describeSystemError(err)}`, 'invalidInput');
    }
    try {
      store.verified = JSON.parse(await fs.readFile(store.indexFile, 'utf8')) as Record<string, Verified>;
    } catch {
      store.verified = {};
    }
    return store;
  }

  private get indexFile(): string {
    return path.join(this.root, 'verified.json');
  }

  pathOf(hash: string): string {
    return path.join(this.root, 'sha256', hash.slice(0, 2), hash);
  }

  partialPathOf(hash: string): string {
    return path.join(this.root, 'partial', hash);
  }

  /** True if a verified entry is present. With `deep`, hashes the content even if it looks unchanged. */
  async has(hash: string, deep = false): Promise<boolean> {
    const file = this.pathOf(hash);
    let stat;
    try {
      stat = await fs.stat(file);
    } catch {
      return false;
    }
    const v = this.verified[hash];
    if (!deep && v && v.size === stat.size && v.mtimeMs === stat.mtimeMs && v.ino === stat.ino) return true;
    if ((await sha256File(file)) === hash) {
      this.verified[hash] = { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino };
      this.dirty = true;
      return true;
    }
    await fs.rm(file, { force: true });
    delete this.verified[hash];
    this.dirty = true;
    return false;
  }

  /** Quick check used for up-to-date decisions: present and unchanged since verified. */
  async looksIntact(hash: string): Promise<boolean> {
    const v = this.verified[hash];
    if (!v) return false;
    try {
      const stat = await fs.stat(this.pathOf(hash));
      return v.size === stat.size && v.mtimeMs === stat.mtimeMs && v.ino === stat.ino;
    } catch {
      return false;
    }
  }

  /** Moves a verified partial file into the store. */
  async commit(hash: string, partial: string): Promise<void> {
    const file = this.pathOf(hash);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.chmod(partial, 0o444);
    await fs.rename(partial, file);
    const stat = await fs.stat(file);
    this.verified[hash] = { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino };
    this.dirty = true;
  }

  /** Adds a local file (e.g. a built package) to the store, returning its hash. */
  async addFile(src: string): Promise<string> {
    const hash = await sha256File(src);
    if (await this.has(hash)) return hash;
    const partial = this.partialPathOf(hash);
    await fs.copyFile(src, partial);
    await this.commit(hash, partial);
    return hash;
  }

  private treePath(kind: string, hash: string): string {
    return path.join(this.root, 'trees', kind, hash);
  }

  /**
   * Keeps a copy (hard links) of an expensive stage output under its input hash, so
   * a rebuild with the same inputs restores it instead of making it again.
   */
  async saveTree(kind: string, hash: string, dir: string): Promise<void> {
    const final = this.treePath(kind, hash);
    if (await exists(final)) return;
    const tmp = `${final}.tmp-${process.pid}`;
    await fs.rm(tmp, { recursive: true, force: true });
    await fs.mkdir(path.dirname(final), { recursive: true });
    await fs.cp(dir, tmp, { recursive: true, preserveTimestamps: true });
    await fs.rename(tmp, final);
  }

  /** Copies a saved stage output into `dir`; false if there is none. */
  async restoreTree(kind: string, hash: string, dir: string): Promise<boolean> {
    const saved = this.treePath(kind, hash);
    if (!(await exists(saved))) return false;
    await fs.cp(saved, dir, { recursive: true, preserveTimestamps: true });
    return true;
  }

  async save(): Promise<void> {
    if (!this.dirty) return;
    await writeFileAtomic(this.indexFile, JSON.stringify(this.verified));
    this.dirty = false;
  }
}

/** Hash of a partial file's existing bytes, to continue a resumed download. */
export async function hashPrefix(file: string): Promise<{ hash: ReturnType<typeof createHash>; size: number }> {
  const hash = createHash('sha256');
  if (!(await exists(file))) return { hash, size: 0 };
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { hash, size };
}
