import path from 'node:path';
import os from 'node:os';
import { statSync, readFileSync, openSync, readSync, writeSync, closeSync } from 'node:fs';
import { XcpError, describeSystemError } from '../errors';
import { hasControlChars, printable } from './text';
import { APT_SAFE_PATH } from './apt-path';

/**
 * The environment every build runs in, whatever the caller's: outputs must not depend
 * on the umask (file modes), the time zone (mtools writes FAT times in local time) or
 * the locale (sorting, tool messages that are parsed). Children inherit all three.
 */
export function normalizeProcessEnvironment(): void {
  process.umask(0o022);
  process.env.TZ = 'UTC';
  process.env.LC_ALL = 'C.UTF-8';
  delete process.env.LANGUAGE;
  takeSecrets();
  absoluteTmpdir();
}

/** Variables that hold secrets: read once, then removed, so no child process (mmdebstrap, tar, apt) inherits them. */
const SECRET_VARIABLES = ['XCPBUILD_SIGNING_KEY_PASSPHRASE'];
const secrets = new Map<string, string>();

function takeSecrets(): void {
  for (const name of SECRET_VARIABLES) {
    const value = process.env[name];
    if (value === undefined) continue;
    secrets.set(name, value);
    delete process.env[name];
    scrubInitialEnvironment(name);
  }
}

/**
 * Overwrites NAME's value in the environment block the kernel shows as
 * /proc/<pid>/environ. Deleting it from process.env only unlinks it: the bytes stay in
 * that block, and every child is a copy of this process until it execs, so for that
 * moment its environ showed the secret too.
 */
function scrubInitialEnvironment(name: string): void {
  let fd: number | undefined;
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // env_start and env_end are fields 50 and 51 of stat (the list after the name starts at field 3).
    const start = Number(fields[50 - 3]);
    const end = Number(fields[51 - 3]);
    if (!(start > 0 && end > start && end - start < 16 * 1024 * 1024)) return;
    fd = openSync('/proc/self/mem', 'r+');
    const block = Buffer.alloc(end - start);
    readSync(fd, block, 0, block.length, start);
    const prefix = Buffer.from(`${name}=`);
    for (let at = block.indexOf(prefix); at >= 0; at = block.indexOf(prefix, at + 1)) {
      if (at > 0 && block[at - 1] !== 0) continue;
      const valueStart = at + prefix.length;
      const valueEnd = block.indexOf(0, valueStart);
      const length = (valueEnd < 0 ? block.length : valueEnd) - valueStart;
      if (length > 0) writeSync(fd, Buffer.alloc(length, 'x'), 0, length, start + valueStart);
    }
  } catch {
    // No /proc (or no write to it): the variable is still out of process.env and of every child's own environment.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A secret the environment gave this process (it is no longer in process.env). */
export function secretFromEnv(name: string): string | undefined {
  takeSecrets();
  return secrets.get(name);
}

/**
 * TMPDIR as the children see it: a relative TMPDIR would name another directory for
 * each child that runs elsewhere (mmdebstrap in its chroot), so it is made absolute
 * here; one that is not a usable directory is refused before any work starts.
 */
function absoluteTmpdir(): void {
  const raw = process.env.TMPDIR;
  if (raw === undefined || raw === '') return;
  process.env.TMPDIR = path.resolve(raw);
}

/** Refuses a TMPDIR that cannot hold xcpbuild's scratch directories, with one line that says why. */
export function checkTmpdir(): void {
  const dir = os.tmpdir();
  const where = process.env.TMPDIR ? 'TMPDIR' : 'the system temporary directory';
  checkedPath(dir, where);
  if (!APT_SAFE_PATH.test(dir)) {
    throw new XcpError(`${where}: ${printable(dir)} cannot be used: paths below it are given to apt and mmdebstrap, which split them on whitespace; choose a path of letters, digits and . _ + - / @ = ~`, 'invalidInput');
  }
  let st;
  try {
    st = statSync(dir);
  } catch (err) {
    throw new XcpError(`${where}: ${dir} cannot be used: ${describeSystemError(err)}`, 'invalidInput');
  }
  if (!st.isDirectory()) throw new XcpError(`${where}: ${dir} is not a directory`, 'invalidInput');
}

/**
 * A path from the environment or the command line. Besides being hostile like any input,
 * paths end up quoted in apt.conf and in hook command lines, where a double quote,
 * backslash or control character would change the meaning.
 */
export function checkedPath(value: string, what: string): string {
  if (value === '' || hasControlChars(value) || /["\\]/.test(value)) {
    throw new XcpError(`${what}: expected a path without control characters, quotes or backslashes, found "${printable(value)}"`, 'invalidInput');
  }
  const resolved = path.resolve(value);
  for (const forbidden of ['/proc', '/sys', '/dev']) {
    if (resolved === forbidden || resolved.startsWith(`${forbidden}/`)) {
      throw new XcpError(`${what}: ${resolved} is on a kernel pseudo file system (${forbidden}); choose a directory on a disk`, 'invalidInput');
    }
  }
  return resolved;
}

/** SOURCE_DATE_EPOCH as the reproducible-builds specification defines it: a whole number of seconds. */
export function sourceDateEpochFromEnv(): number | undefined {
  const raw = process.env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,11}$/.test(raw) || Number(raw) > 253402300799) {
    throw new XcpError(`SOURCE_DATE_EPOCH: expected a whole number of seconds since 1970 (at most 253402300799), found "${printable(raw)}"`, 'usage');
  }
  return Number(raw);
}
