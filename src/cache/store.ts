import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { sha256File } from '../util/hash';
import { exists, mkdirp, processGone } from '../util/fsutil';
import { ownDirectory } from '../util/nofollow';
import { XcpError, describeSystemError, systemErrorKind } from '../errors';

export function defaultCacheDir(): string {
  if (process.env.XCPBUILD_CACHE) return process.env.XCPBUILD_CACHE;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'xcpbuild');
}

/**
 * Every committed entry gets this mtime. An entry with another mtime or size was
 * changed behind the store's back: the cheap check every run catches that, and the
 * copy that publishes a file hashes it, which catches the rest.
 */
export const STORE_MTIME = 946684800; // 2000-01-01T00:00:00Z

/**
 * Files stored by sha256, shared by any number of concurrent builds. There is no
 * index to race on: an entry exists only because a verified file was renamed into
 * place (rename is atomic, and two processes committing the same hash commit the
 * same bytes). Downloads write to partial files private to their process; a partial
 * left by a killed process is claimed by renaming it, so exactly one process resumes it.
 */
export class ContentStore {
  constructor(readonly root: string) {}

  static async open(root: string): Promise<ContentStore> {
    const store = new ContentStore(root);
    try {
      await mkdirp(root);
      await fs.access(root, fs.constants.W_OK);
    } catch (err) {
      throw new XcpError(`cannot use cache directory ${root}: ${describeSystemError(err)}`, systemErrorKind(err));
    }
    for (const d of ['sha256', 'partial', 'trees', 'locks']) await ownDirectory(path.join(root, d), 'the cache directory');
    return store;
  }

  pathOf(hash: string): string {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new XcpError(`not a sha256 digest: ${hash.slice(0, 80)}`, 'invalidInput');
    return path.join(this.root, 'sha256', hash.slice(0, 2), hash);
  }

  get partialDir(): string {
    return path.join(this.root, 'partial');
  }

  lockFile(name: string): string {
    return path.join(this.root, 'locks', `${name}.lock`);
  }

  /** The cheap check: present, with the expected size and the store's mtime. */
  async looksIntact(hash: string, size: number): Promise<boolean> {
    try {
      const st = await fs.lstat(this.pathOf(hash));
      return st.isFile() && st.nlink === 1 && st.size === size && Math.floor(st.mtimeMs / 1000) === STORE_MTIME;
    } catch {
      return false;
    }
  }

  /** How many of `entries` fail the cheap check, 64 at a time (a lock may name 80,000 files). */
  async countNotIntact(entries: { sha256: string; size: number }[]): Promise<number> {
    let missing = 0;
    let next = 0;
    const worker = async () => {
      while (next < entries.length) {
        const e = entries[next++];
        if (!(await this.looksIntact(e.sha256, e.size))) missing++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(64, entries.length) }, worker));
    return missing;
  }

  /** True if an intact entry is present. With `deep`, hashes it; a corrupt entry is removed. */
  async has(hash: string, size: number, deep = false): Promise<boolean> {
    if (!(await this.looksIntact(hash, size))) {
      if (await exists(this.pathOf(hash))) await this.discard(hash);
      return false;
    }
    if (!deep) return true;
    if ((await sha256File(this.pathOf(hash))) === hash) return true;
    await this.discard(hash);
    return false;
  }

  /** Removes a damaged entry so the next fetch replaces it. */
  async discard(hash: string): Promise<void> {
    const file = this.pathOf(hash);
    const aside = path.join(this.partialDir, `${hash}.discard-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await fs.rename(file, aside);
      await fs.rm(aside, { force: true });
    } catch {
      // Already gone (another process discarded or replaced it).
    }
  }

  /**
   * A partial file for `hash` owned by this process. If a killed run left one behind,
   * it is claimed (renamed) and returned, so the download continues where it stopped.
   */
  async claimPartial(hash: string): Promise<string> {
    const mine = path.join(this.partialDir, `${hash}.${process.pid}-${randomBytes(4).toString('hex')}`);
    let names: string[] = [];
    try {
      names = await fs.readdir(this.partialDir);
    } catch {
      names = [];
    }
    const stale = [];
    for (const n of names) {
      const m = new RegExp(`^${hash}\\.(\\d+)-[0-9a-f]+$`).exec(n);
      // Left by a killed run, or by an earlier attempt of this one (one download per hash at a time here).
      if (m && (Number(m[1]) === process.pid || processGone(Number(m[1])))) stale.push(n);
    }
    // Only a regular file with one name is resumed: appending through a planted link would write anywhere.
    const stats = await Promise.all(stale.map((n) => fs.lstat(path.join(this.partialDir, n)).catch(() => undefined)));
    const order = stale.map((n, i) => [n, stats[i]] as const).sort((a, b) => (b[1]?.size ?? -1) - (a[1]?.size ?? -1));
    let claimed = false;
    for (const [n, st] of order) {
      try {
        if (!claimed && st?.isFile() && st.nlink === 1) {
          await fs.rename(path.join(this.partialDir, n), mine);
          claimed = true;
        } else {
          await fs.rm(path.join(this.partialDir, n), { force: true });
        }
      } catch {
        // Another process claimed it first.
      }
    }
    return mine;
  }

  /**
   * Moves a downloaded file into the store after hashing it as it lies on disk (not as
   * it streamed past): what is committed is exactly what was checked.
   */
  async commit(hash: string, size: number, partial: string): Promise<void> {
    const st = await fs.stat(partial);
    const got = await sha256File(partial);
    if (st.size !== size || got !== hash) {
      await fs.rm(partial, { force: true });
      throw new XcpError(st.size !== size ? `size ${st.size}, expected ${size}` : `sha256 mismatch (got ${got})`, 'verification');
    }
    const file = this.pathOf(hash);
    await mkdirp(path.dirname(file));
    await fs.chmod(partial, 0o444);
    await fs.utimes(partial, STORE_MTIME, STORE_MTIME);
    await fs.rename(partial, file);
  }

  /** Adds a local file (e.g. a built package) to the store, returning its hash. */
  async addFile(src: string): Promise<{ sha256: string; size: number }> {
    const sha256 = await sha256File(src);
    const size = (await fs.stat(src)).size;
    if (await this.has(sha256, size)) return { sha256, size };
    const partial = await this.claimPartial(sha256);
    await fs.copyFile(src, partial);
    await this.commit(sha256, size, partial);
    return { sha256, size };
  }
}
