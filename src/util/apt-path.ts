import { promises as fs } from 'node:fs';
import path from 'node:path';
import { scratchDir } from './scratch';

/** What apt and mmdebstrap take in a one-line source, in Signed-By and in option lists: no whitespace, quotes, #, $ or commas' friends. */
export const APT_SAFE_PATH = /^\/[A-Za-z0-9._+/@=~-]*$/;

/**
 * Paths as apt can take them. apt splits Signed-By and one-line sources on whitespace,
 * so a checkout, output or cache path with a space (or a quote, #, $, non-ASCII) is
 * reached through a symbolic link in a scratch directory of plain name. The directory
 * is world-readable because apt reads keyrings as its _apt user; it holds only links.
 */
export class AptPaths {
  private dir: string | undefined;
  private count = 0;

  async of(target: string): Promise<string> {
    if (APT_SAFE_PATH.test(target)) return target;
    if (!this.dir) {
      this.dir = await scratchDir('apt-paths');
      await fs.chmod(this.dir, 0o755);
    }
    const alias = path.join(this.dir, `${this.count++}-${path.basename(target).replace(/[^A-Za-z0-9._+-]/g, '_')}`);
    await fs.symlink(target, alias);
    return alias;
  }

  async dispose(): Promise<void> {
    if (this.dir) await fs.rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}
