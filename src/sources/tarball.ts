import { promises as fs } from 'node:fs';
import { BuildLog } from '../util/log';
import { run } from '../util/proc';
import { XcpError } from '../errors';
import { printable } from '../util/text';

/** A source tarball may expand to this many times its declared size (at least MIN_EXPANSION bytes), in at most MAX_MEMBERS members. */
const EXPANSION_FACTOR = 20;
const MIN_EXPANSION = 64 * 1024 * 1024;
const MAX_MEMBERS = 100_000;

function expansionLimits(declaredSize: number): { bytes: number; members: number } {
  return { bytes: Math.max(declaredSize * EXPANSION_FACTOR, MIN_EXPANSION), members: MAX_MEMBERS };
}

/**
 * Unpacks a source tarball that came from the network: only regular files and
 * directories with plain relative names are allowed (no links, devices, absolute
 * paths or ..), checked from tar's own listing before anything is written.
 */
export async function extractSourceTarball(log: BuildLog, file: string, dest: string, label: string, declaredSize: number): Promise<void> {
  const listing = await run(log, 'tar', ['--list', '--verbose', '--numeric-owner', '--quoting-style=escape', '--file', file], { purpose: `listing ${label}`, logStdout: false, failAs: 'invalidInput' });
  const limits = expansionLimits(declaredSize);
  let members = 0;
  let bytes = 0;
  for (const line of listing.stdout.split('\n').filter(Boolean)) {
    const kind = line[0];
    const fields = line.split(/\s+/);
    const name = fields.slice(5).join(' ');
    bytes += Number(fields[2]) || 0;
    if (++members > limits.members || bytes > limits.bytes) {
      throw new XcpError(
        `${label}: the tarball expands to more than ${members > limits.members ? `${limits.members} members` : `${(limits.bytes / 1048576).toFixed(0)} MiB`} (its declared size ${declaredSize} bytes × ${EXPANSION_FACTOR}); refused before unpacking (a decompression bomb?)`,
        'invalidInput',
      );
    }
    if (kind !== '-' && kind !== 'd') throw new XcpError(`${label}: the tarball holds ${printable(name)}, which is not a regular file or directory (refused)`, 'invalidInput');
    if (name.startsWith('/') || name.split('/').includes('..') || /[\\\s]/.test(name)) throw new XcpError(`${label}: the tarball holds an unsafe name ${printable(name)} (refused)`, 'invalidInput');
  }
  await fs.mkdir(dest, { recursive: true });
  await run(log, 'tar', ['--extract', '--file', file, '--directory', dest, '--no-same-owner', '--no-same-permissions', '--strip-components', '1'], { purpose: `unpacking ${label}`, failAs: 'invalidInput' });
}
