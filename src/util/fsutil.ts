import { promises as fs, createReadStream, createWriteStream, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { XcpError, describeSystemError } from '../errors';
import { printable } from './text';

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * `root/rel`, refusing any `rel` that would leave `root` (absolute paths, `..`
 * segments, empty segments): untrusted names (lock filenames, package names) only
 * ever address files below the directory meant for them.
 */
export function confine(root: string, rel: string, what = 'path'): string {
  const segments = rel.split('/');
  if (rel === '' || rel.startsWith('/') || segments.some((s) => s === '' || s === '.' || s === '..') || /[\u0000-\u001f\\]/.test(rel)) {
    throw new XcpError(`${what} "${printable(rel)}" is not a plain relative path below ${root}`, 'invalidInput');
  }
  const full = path.resolve(root, rel);
  if (!full.startsWith(path.resolve(root) + path.sep)) throw new XcpError(`${what} "${printable(rel)}" leaves ${root}`, 'invalidInput');
  return full;
}

/**
 * mkdir -p that creates one level at a time: Node's recursive mkdir spins
 * forever on some pseudo filesystems (e.g. below /proc) instead of failing.
 */
export async function mkdirp(dir: string, mode?: number): Promise<void> {
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
      await fs.mkdir(m, mode);
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

/** Writes a file through a temporary name, fsync and a rename: readers see the old or the new file, whole. */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  // Exclusive: a name planted in the directory is never written through.
  const fh = await fs.open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.chmod(tmp, mode);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** Creates a fresh staging directory beside `finalDir`, so the final rename stays on one filesystem. */
export async function makeStagingDir(finalDir: string): Promise<string> {
  const parent = path.dirname(finalDir);
  await ensureWritableDir(parent);
  const staging = path.join(parent, `.staging-${path.basename(finalDir)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(staging, { mode: 0o755 });
  return staging;
}

/**
 * Puts a finished staging directory in place of `finalDir`. The old output is
 * moved aside first and removed only after the new one is in place, so at every
 * instant `finalDir` is either the complete old output or the complete new one.
 */
export async function publishDir(stagingDir: string, finalDir: string): Promise<void> {
  const old = path.join(path.dirname(finalDir), `.old-${path.basename(finalDir)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  const hadOld = await exists(finalDir);
  if (hadOld) await fs.rename(finalDir, old);
  try {
    await fs.rename(stagingDir, finalDir);
  } catch (err) {
    if (hadOld) await fs.rename(old, finalDir).catch(() => undefined);
    throw err;
  }
  if (hadOld) await fs.rm(old, { recursive: true, force: true });
}

/**
 * Removes what interrupted runs left in an output directory: staging and moved-aside
 * outputs. Only called with the directory's build lock held, so none of them belongs
 * to a live build.
 */
export async function sweepStaging(dir: string): Promise<string[]> {
  let names: string[] = [];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const stale = names.filter((n) => n.startsWith('.staging-') || n.startsWith('.old-'));
  for (const n of stale) await fs.rm(path.join(dir, n), { recursive: true, force: true });
  return stale;
}

/** True if no process with this PID exists (a leftover of a killed run may be removed). */
export function processGone(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Copies a file while hashing what was read, and fails if the bytes are not the
 * expected ones: a published file is a checked copy, never a hard link into the cache,
 * so damage to one never spreads to the other.
 */
export async function copyVerified(src: string, dest: string, sha256: string, size: number, label: string): Promise<void> {
  await mkdirp(path.dirname(dest));
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  await withPath(dest, () => pipeline(createReadStream(src), tap, createWriteStream(dest, { mode: 0o644 })));
  const got = hash.digest('hex');
  if (bytes !== size || got !== sha256) {
    await fs.rm(dest, { force: true });
    throw new XcpError(`${label}: the cached file ${src} does not match the lock (${bytes !== size ? `size ${bytes}, expected ${size}` : `sha256 ${got}`})`, 'verification');
  }
}

/**
 * Runs `fn`, giving a system error that lacks a path (a write that hit a full disk,
 * say) the path of the file being written, so the one-line error can name it.
 */
export async function withPath<T>(file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e && typeof e.code === 'string' && !e.path) e.path = file;
    throw err;
  }
}

/** Copies a file, cloning its blocks where the file system can (btrfs, xfs). */
export async function copyFile(src: string, dest: string): Promise<void> {
  await fs.copyFile(src, dest, fsConstants.COPYFILE_FICLONE);
}
