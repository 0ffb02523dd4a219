import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FileLock } from '../util/flock';
import { ownDirectoryBelow } from '../util/nofollow';
import { mkdirp, processGone, copyFile } from '../util/fsutil';
import { makeManifest, quickCheck, deepCheck, Manifest } from '../util/manifest';

const MANIFEST = '.manifest.json';
/** Trees kept per kind; older ones are removed when a new one is saved. */
const KEEP = 3;

/**
 * Outputs of expensive offline stages (the target image, the installer environment)
 * kept in the cache under their input hash, shared by concurrent builds: the first
 * build of a hash makes it while holding that hash's lock, the others wait and then
 * copy it. A tree is written under a temporary name and renamed when complete, with
 * a manifest of every file's size and sha256.
 */
export class TreeCache {
  constructor(private readonly root: string) {}

  private dir(kind: string): string {
    return path.join(this.root, 'trees', kind);
  }

  /** The complete tree for `hash`, made by `build` if no intact one is cached. */
  async obtain(kind: string, hash: string, build: (dir: string) => Promise<void>, onWait: (holder: string) => void): Promise<{ dir: string; restored: boolean }> {
    const base = await ownDirectoryBelow(this.root, `trees/${kind}`, 'the tree cache');
    const final = path.join(base, hash);
    const lock = await FileLock.acquire(path.join(base, `${hash}.lock`), `building the ${kind} tree ${hash.slice(0, 12)}`, onWait);
    try {
      await this.sweep(kind);
      if (await this.intact(final)) {
        await fs.utimes(path.join(final, MANIFEST), new Date(), new Date());
        return { dir: final, restored: true };
      }
      await fs.rm(final, { recursive: true, force: true });
      const tmp = path.join(base, `.tmp-${hash}-${process.pid}-${randomBytes(4).toString('hex')}`);
      await fs.mkdir(tmp, { mode: 0o755 });
      try {
        await build(tmp);
        const manifest = await makeManifest(tmp);
        await fs.writeFile(path.join(tmp, MANIFEST), JSON.stringify(manifest));
        await fs.rename(tmp, final);
      } catch (err) {
        await fs.rm(tmp, { recursive: true, force: true });
        throw err;
      }
      await this.evict(kind, hash);
      return { dir: final, restored: false };
    } finally {
      lock.release();
    }
  }

  private async intact(dir: string): Promise<boolean> {
    try {
      const m = JSON.parse(await fs.readFile(path.join(dir, MANIFEST), 'utf8')) as Manifest;
      return (await quickCheck(dir, m.entries)) === undefined;
    } catch {
      return false;
    }
  }

  /** Deep check of every cached tree (xcpbuild verify): returns problems, removes damaged trees. */
  async verifyAll(): Promise<{ checked: number; problems: string[] }> {
    const problems: string[] = [];
    let checked = 0;
    let kinds: string[] = [];
    try {
      kinds = await fs.readdir(path.join(this.root, 'trees'));
    } catch {
      return { checked, problems };
    }
    for (const kind of kinds) {
      for (const name of await fs.readdir(this.dir(kind))) {
        if (!/^[0-9a-f]{64}$/.test(name)) continue;
        const dir = path.join(this.dir(kind), name);
        const lock = await FileLock.tryAcquire(path.join(this.dir(kind), `${name}.lock`), 'verifying');
        if (!lock) continue;
        try {
          checked++;
          let found: string[];
          try {
            const m = JSON.parse(await fs.readFile(path.join(dir, MANIFEST), 'utf8')) as Manifest;
            found = await deepCheck(dir, m.entries);
          } catch {
            found = ['no manifest'];
          }
          if (found.length) {
            problems.push(...found.map((p) => `cache tree ${kind}/${name.slice(0, 12)}: ${p} (removed; the next build makes it again)`));
            await fs.rm(dir, { recursive: true, force: true });
          }
        } finally {
          lock.release();
        }
      }
    }
    return { checked, problems };
  }

  /** Removes temporary trees of killed runs. */
  private async sweep(kind: string): Promise<void> {
    for (const n of await fs.readdir(this.dir(kind))) {
      const m = /^\.tmp-[0-9a-f]{64}-(\d+)-[0-9a-f]+$/.exec(n);
      if (m && processGone(Number(m[1]))) await fs.rm(path.join(this.dir(kind), n), { recursive: true, force: true });
    }
  }

  private async evict(kind: string, keep: string): Promise<void> {
    const base = this.dir(kind);
    const trees = [];
    for (const n of await fs.readdir(base)) {
      if (!/^[0-9a-f]{64}$/.test(n) || n === keep) continue;
      const st = await fs.stat(path.join(base, n, MANIFEST)).catch(() => undefined);
      trees.push({ n, t: st?.mtimeMs ?? 0 });
    }
    trees.sort((a, b) => b.t - a.t);
    for (const { n } of trees.slice(KEEP - 1)) {
      const lock = await FileLock.tryAcquire(path.join(base, `${n}.lock`), 'evicting');
      if (!lock) continue;
      try {
        await fs.rm(path.join(base, n), { recursive: true, force: true });
        await fs.rm(path.join(base, `${n}.lock`), { force: true });
      } finally {
        lock.release();
      }
    }
  }
}

/** Copies a tree (files cloned where the file system can), leaving out its manifest. */
export async function copyTree(src: string, dest: string): Promise<void> {
  await mkdirp(dest);
  for (const entry of await fs.readdir(src, { withFileTypes: true })) {
    if (entry.name === MANIFEST) continue;
    const from = path.join(src, entry.name);
    const to = path.join(dest, entry.name);
    const st = await fs.lstat(from);
    if (entry.isDirectory()) {
      await copyTree(from, to);
      await fs.chmod(to, st.mode & 0o7777);
    } else if (entry.isSymbolicLink()) {
      await fs.symlink(await fs.readlink(from), to);
    } else {
      await copyFile(from, to);
      await fs.chmod(to, st.mode & 0o7777);
    }
    if (!entry.isSymbolicLink()) await fs.utimes(to, st.atime, st.mtime);
  }
}

