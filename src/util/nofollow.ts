import { constants, promises as fs, openSync, fstatSync, closeSync, lstatSync, Stats } from 'node:fs';
import path from 'node:path';
import { XcpError, describeSystemError, isDiskFull, systemErrorKind } from '../errors';
import { printable } from './text';
import { mkdirp } from './fsutil';

/**
 * Opening files without following links. A path below a directory that others can
 * write (a shared cache, out/, TMPDIR, a source tree from a checkout) may have been
 * planted as a symbolic link, a hard link to a file elsewhere, a FIFO or a device:
 * xcpbuild must neither write through it (as root, to any file) nor read it into an
 * output (a signed package).
 */
const { O_NOFOLLOW, O_CREAT, O_RDWR, O_RDONLY, O_NONBLOCK, O_APPEND, O_EXCL, O_WRONLY } = constants;

/** What kind of file system object `st` is, in words for an error message. */
export function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isFile() && st.nlink > 1) return `a hard link (${st.nlink} names for one file)`;
  return 'a regular file';
}

/** True if `st` is a regular file with one name: the only kind xcpbuild reads from a user tree or reuses as its own. */
function plainFile(st: Stats): boolean {
  return st.isFile() && st.nlink === 1;
}

function refusal(file: string, what: string, found: string): XcpError {
  return new XcpError(`${what} ${file} is ${found}; refused (xcpbuild neither follows links nor reuses files it did not make)`, 'invalidInput');
}

function openFailure(err: unknown, file: string, what: string): XcpError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return refusal(file, what, 'a symbolic link');
  if (isDiskFull(err)) return new XcpError(`${file}: ${describeSystemError(err)}`, 'build');
  return new XcpError(`cannot open ${what} ${file}: ${describeSystemError(err)}`, 'invalidInput');
}

/**
 * Opens for reading and appending a file that xcpbuild keeps in a shared directory (a
 * lock file), creating it if missing. A link, a hard-linked file or anything not a
 * regular file is refused, never truncated.
 */
export function openOwnFileSync(file: string, what: string): number {
  let fd: number;
  try {
    fd = openSync(file, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o644);
  } catch (err) {
    throw openFailure(err, file, what);
  }
  const st = fstatSync(fd);
  if (!plainFile(st)) {
    closeSync(fd);
    throw refusal(file, what, kindOf(st));
  }
  return fd;
}

/** Creates a new file that must not exist yet (a log named by time and pid); a planted name of any kind is refused. */
export function createNewFileSync(file: string, what: string): number {
  try {
    return openSync(file, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw refusal(file, what, `already there (${kindOfPath(file)})`);
    throw openFailure(err, file, what);
  }
}

function kindOfPath(file: string): string {
  try {
    return kindOf(lstatSync(file));
  } catch {
    return 'gone';
  }
}

/** A directory xcpbuild keeps its own files in: created if missing, refused if it is a link or not a directory. */
export async function ownDirectory(dir: string, what: string): Promise<void> {
  try {
    await mkdirp(dir);
  } catch (err) {
    throw new XcpError(`cannot create ${what} ${dir}: ${describeSystemError(err)}`, systemErrorKind(err));
  }
  const st = await fs.lstat(dir);
  if (!st.isDirectory()) throw refusal(dir, what, kindOf(st));
}

/**
 * The directories of `rel` below `root`, each owned as by ownDirectory (`root` itself is
 * the user's choice and may be a link); returns the deepest.
 */
export async function ownDirectoryBelow(root: string, rel: string, what: string): Promise<string> {
  let dir = root;
  for (const segment of rel.split('/')) {
    dir = path.join(dir, segment);
    await ownDirectory(dir, what);
  }
  return dir;
}

/**
 * Reads `rel` below `root` (a source tree), refusing it unless every component below
 * the root is a real directory and the file itself a regular file with one name: a
 * symbolic link, a hard link, a FIFO or a device is refused with `where` (file:line of
 * the packaging description that lists it).
 */
export async function readPlainFileBelow(root: string, rel: string, where: string): Promise<Buffer> {
  await checkPlainPathBelow(root, rel, where);
  const file = path.join(root, rel);
  let fh;
  try {
    fh = await fs.open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    throw new XcpError(`${where}: ${openFailure(err, rel, 'the file').message}`, 'invalidInput');
  }
  try {
    const st = await fh.stat();
    if (!plainFile(st)) throw new XcpError(`${where}: ${refusal(rel, 'the file', kindOf(st)).message}`, 'invalidInput');
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** Checks, without opening it, that `rel` below `root` is a plain file reached through real directories only. */
export async function checkPlainPathBelow(root: string, rel: string, where: string): Promise<void> {
  const segments = rel.split('/');
  let p = root;
  for (let i = 0; i < segments.length; i++) {
    p = path.join(p, segments[i]);
    const st = await fs.lstat(p).catch(() => undefined);
    const shown = printable(segments.slice(0, i + 1).join('/'));
    if (!st) throw new XcpError(`${where}: ${shown} is not in the source tree`, 'invalidInput');
    const last = i === segments.length - 1;
    if (last ? !plainFile(st) : !st.isDirectory()) {
      throw new XcpError(`${where}: ${shown} in the source tree is ${kindOf(st)}; refused (only regular files and directories are packaged, as for tarball members)`, 'invalidInput');
    }
  }
}
