import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { XcpError, describeSystemError } from '../errors';

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Creates a fresh staging directory beside `finalDir`, so the final rename stays on one filesystem. */
export async function makeStagingDir(finalDir: string): Promise<string> {
  const parent = path.dirname(finalDir);
  await ensureWritableDir(parent);
  const staging = path.join(parent, `.staging-${path.basename(finalDir)}-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(staging, { recursive: true });
  return staging;
}

/**
 * Puts a finished staging directory in place of `finalDir`. The old output is
 * moved aside first and removed only after the new one is in place, so at every
 * instant `finalDir` is either the complete old output or the complete new one.
 */
export async function publishDir(stagingDir: string, finalDir: string): Promise<void> {
  const old = `${finalDir}.old-${randomBytes(4).toString('hex')}`;
  const hadOld = await exists(finalDir);
  if (hadOld) await fs.rename(finalDir, old);
  await fs.rename(stagingDir, finalDir);
  if (hadOld) await fs.rm(old, { recursive: true, force: true });
}

/** Writes a file through a temporary name and a rename. */
export async function writeFileAtomic(file: string, data: string | Buffer, mode?: number): Promise<void> {
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  await fs.writeFile(tmp, data, { mode });
  await fs.rename(tmp, file);
}

/**
 * mkdir -p that creates one level at a time: Node's recursive mkdir spins
 * forever on some pseudo filesystems (e.g. below /proc) instead of failing.
 */
export async function mkdirp(dir: string): Promise<void> {
  const missing: string[] = [];
  let p = path.resolve(dir);
  while (!(await exists(p))) {
    missing.unshift(p);
    const parent = path.dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (const m of missing) {
    try {
      await fs.mkdir(m);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

export async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await mkdirp(dir);
    const probe = path.join(dir, `.write-probe-${randomBytes(4).toString('hex')}`);
    await fs.writeFile(probe, '');
    await fs.rm(probe);
  } catch (err) {
    throw new XcpError(`cannot write to ${dir}: ${describeSystemError(err)}`, 'invalidInput');
  }
}

/** Removes staging leftovers of interrupted runs beside `finalDir`. */
export async function removeStaleStaging(finalDir: string): Promise<void> {
  const parent = path.dirname(finalDir);
  const base = path.basename(finalDir);
  let names: string[] = [];
  try {
    names = await fs.readdir(parent);
  } catch {
    return;
  }
  await Promise.all(
    names
      .filter((n) => n.startsWith(`.staging-${base}-`) || n.startsWith(`${base}.old-`))
      .map((n) => fs.rm(path.join(parent, n), { recursive: true, force: true })),
  );
}
