import { BuildLog } from '../../util/log';
import { run } from '../../util/proc';
import { ChangelogEntry, DeclaredLicense } from '../types';
import { compareEvr } from './version';
import { rpmLicenseToSpdx } from '../../license/spdx-map';

/**
 * The %changelog entries of an RPM newer than `since` (an [epoch:]version-release),
 * newest first. An entry's version is what its header names after " - "; entries
 * without one cannot be placed and end the list.
 */
export async function rpmChangelogSince(log: BuildLog, rpm: string, since: string): Promise<ChangelogEntry[] | undefined> {
  const res = await run(log, 'rpm', ['-qp', '--nosignature', '--changelog', rpm], { allowFailure: true, logStdout: false, purpose: `reading the changelog of ${rpm}` });
  if (res.exitCode !== 0) return undefined;
  const entries: ChangelogEntry[] = [];
  const sinceNoEpoch = since.replace(/^\d+:/, '');
  for (const block of res.stdout.split(/\n(?=\* )/)) {
    const [head, ...body] = block.trim().split('\n');
    const m = /^\* (\S+ \S+ \d+ \d+) (.*?)(?: - (\S+))?$/.exec(head ?? '');
    if (!m || !m[3]) break;
    const version = m[3];
    // Changelog headers rarely carry the epoch: compare version-release only.
    if (compareEvr(version.replace(/^\d+:/, ''), sinceNoEpoch) <= 0) break;
    entries.push({ version, date: m[1], text: body.join('\n').trim() });
  }
  return entries;
}

/** The License tag of an RPM (Fedora's are SPDX expressions). */
export async function rpmDeclaredLicense(log: BuildLog, rpm: string): Promise<DeclaredLicense | undefined> {
  const res = await run(log, 'rpm', ['-qp', '--nosignature', '--queryformat', '%{LICENSE}', rpm], { allowFailure: true, purpose: `reading the license of ${rpm}` });
  const license = res.stdout.trim();
  if (res.exitCode !== 0 || !license || license === '(none)') return undefined;
  return { ...rpmLicenseToSpdx(license), declared: license };
}
