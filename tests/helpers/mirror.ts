import { mkdirSync, copyFileSync, existsSync, readFileSync, chmodSync, rmSync } from 'node:fs';
import path from 'node:path';
import { xcpbuild, projectRoot } from './cli';
import { startNginx, Nginx } from './nginx';
import { tempDir } from './tmp';

interface LockFile {
  packages: { sha256: string; filename: string; archive: string }[];
  installer?: { sha256: string; filename: string; archive: string }[];
  test?: { sha256: string; filename: string; archive: string }[];
  build?: { sha256: string; filename: string; archive: string }[];
}

export interface Mirror {
  /** Global options that make xcpbuild fetch every archive from this mirror. */
  args: string[];
  nginx: Nginx;
  dir: string;
  stop(): Promise<void>;
}

export const defaultRecipe = path.join(projectRoot, 'recipes/xcp-bookworm.yaml');

/**
 * A copy of the Debian archive holding exactly the default lock's files, served by a
 * real nginx on 127.0.0.1: tests that fetch into fresh caches again and again (kills,
 * concurrent builds) use it instead of the public archive. The files come from the
 * shared cache (filled from the real archive once if needed).
 */
export async function startMirror(): Promise<Mirror> {
  const warm = xcpbuild(['--locked', '--out', tempDir('mirror-out'), 'fetch', defaultRecipe]);
  if (warm.code !== 0) throw new Error(`filling the shared cache failed: ${warm.stderr}`);
  const cache = process.env.XCPBUILD_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(process.env.HOME ?? '/root', '.cache'), 'xcpbuild');
  const lock = JSON.parse(readFileSync(defaultRecipe.replace(/\.yaml$/, '.lock'), 'utf8')) as LockFile;
  const dir = tempDir('mirror');
  chmodSync(dir, 0o755);
  for (const p of [...lock.packages, ...(lock.installer ?? []), ...(lock.test ?? []), ...(lock.build ?? [])]) {
    const dest = path.join(dir, p.archive, p.filename);
    if (existsSync(dest)) continue;
    mkdirSync(path.dirname(dest), { recursive: true });
    // A copy, never a hard link: the store refuses entries with more than one link (they could be changed from outside).
    copyFileSync(path.join(cache, 'sha256', p.sha256.slice(0, 2), p.sha256), dest);
  }
  const archives = [...new Set(lock.packages.map((p) => p.archive))];
  const nginx = await startNginx(Object.fromEntries(archives.map((a) => [a, path.join(dir, a)])));
  const stop = async () => {
    await nginx.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { args: archives.flatMap((a) => ['--mirror', `${a}=${nginx.url(a)}`]), nginx, dir, stop };
}
