import { promises as fs } from 'node:fs';
import { BuildLog } from '../util/log';
import { run } from '../util/proc';
import { XcpError } from '../errors';
import { printable } from '../util/text';

/**
 * Unpacks a source tarball that came from the network: only regular files and
 * directories with plain relative names are allowed (no links, devices, absolute
 * paths or ..), checked from tar's own listing before anything is written.
 */
export async function extractSourceTarball(log: BuildLog, file: string, dest: string, label: string): Promise<void> {
  const listing = await run(log, 'tar', ['--list', '--verbose', '--numeric-owner', '--quoting-style=escape', '--file', file], { purpose: `listing ${label}`, logStdout: false, failAs: 'invalidInput' });
  for (const line of listing.stdout.split('\n').filter(Boolean)) {
    const kind = line[0];
    const name = line.split(/\s+/).slice(5).join(' ');
    if (kind !== '-' && kind !== 'd') throw new XcpError(`${label}: the tarball holds ${printable(name)}, which is not a regular file or directory (refused)`, 'invalidInput');
    if (name.startsWith('/') || name.split('/').includes('..') || /[\\\s]/.test(name)) throw new XcpError(`${label}: the tarball holds an unsafe name ${printable(name)} (refused)`, 'invalidInput');
  }
  await fs.mkdir(dest, { recursive: true });
  await run(log, 'tar', ['--extract', '--file', file, '--directory', dest, '--no-same-owner', '--no-same-permissions', '--strip-components', '1'], { purpose: `unpacking ${label}`, failAs: 'invalidInput' });
}
