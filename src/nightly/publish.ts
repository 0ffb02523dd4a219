import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { exists, makeStagingDir, sweepStaging } from '../util/fsutil';
import { XcpError } from '../errors';
import { isNightlyOf, compareNightly } from './version';

/**
 * A recipe's release directory: <publish>/<recipe>/<version>/ for each release, and
 * `latest`, a symlink to one of them. Releases appear whole (staged beside, then
 * renamed), `latest` is swapped by renaming a new symlink over it, and only then are
 * old releases removed: at every instant `latest` names a complete release.
 */
export class ReleaseDir {
  constructor(
    readonly root: string,
    readonly base: string,
  ) {}

  /** The published nightlies of this base version, oldest first. */
  async releases(): Promise<string[]> {
    const names = await fs.readdir(this.root).catch(() => [] as string[]);
    const out: string[] = [];
    for (const n of names) if (isNightlyOf(this.base, n) && (await fs.lstat(path.join(this.root, n)).catch(() => undefined))?.isDirectory()) out.push(n);
    return out.sort(compareNightly);
  }

  /** The release `latest` points to, if any. */
  async latest(): Promise<string | undefined> {
    const target = await fs.readlink(path.join(this.root, 'latest')).catch(() => undefined);
    if (!target || target.includes('/') || !(await exists(path.join(this.root, target)))) return undefined;
    return target;
  }

  /** Removes what killed runs left (staging, half-made links). Call with the publish lock held. */
  async sweep(): Promise<string[]> {
    const swept = await sweepStaging(this.root);
    for (const n of await fs.readdir(this.root).catch(() => [] as string[])) {
      if (n.startsWith('.latest-')) {
        await fs.rm(path.join(this.root, n), { force: true });
        swept.push(n);
      }
    }
    return swept;
  }

  /** A staging directory for `version`, renamed into place by `commit`. */
  async stage(version: string): Promise<string> {
    if (await exists(path.join(this.root, version))) throw new XcpError(`${path.join(this.root, version)} exists already: a release is never overwritten`, 'invalidInput');
    return makeStagingDir(path.join(this.root, version));
  }

  async commit(staging: string, version: string): Promise<string> {
    const final = path.join(this.root, version);
    await fs.rename(staging, final);
    const link = path.join(this.root, `.latest-${process.pid}-${randomBytes(4).toString('hex')}`);
    await fs.symlink(version, link);
    await fs.rename(link, path.join(this.root, 'latest'));
    return final;
  }

  /** Keeps the newest `keep` releases (and whatever `latest` names); returns the removed ones. */
  async prune(keep: number): Promise<string[]> {
    const all = await this.releases();
    const latest = await this.latest();
    const doomed = all.slice(0, Math.max(0, all.length - keep)).filter((v) => v !== latest);
    for (const v of doomed) {
      // Renamed away first, so a kill halfway through never leaves a partial release under its name.
      const aside = path.join(this.root, `.old-${v}-${process.pid}`);
      await fs.rename(path.join(this.root, v), aside);
      await fs.rm(aside, { recursive: true, force: true });
    }
    return doomed;
  }
}
