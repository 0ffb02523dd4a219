import { execFileSync } from 'node:child_process';

/** Orders two Debian versions with dpkg's own comparison (dpkg --compare-versions). */
export function compareDebianVersions(a: string, b: string): number {
  if (a === b) return 0;
  try {
    execFileSync('dpkg', ['--compare-versions', a, 'lt', b]);
    return -1;
  } catch {
    return 1;
  }
}
