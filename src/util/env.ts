import path from 'node:path';
import { XcpError } from '../errors';
import { hasControlChars, printable } from './text';

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
