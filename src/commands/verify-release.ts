import path from 'node:path';
import { promises as fs } from 'node:fs';
import { Session } from './session';
import { XcpError } from '../errors';
import { checkedPath } from '../util/env';
import { exists } from '../util/fsutil';
import { displayPath } from '../util/paths';
import { BuildLog } from '../util/log';
import { KEY_FILES } from '../nightly/release';
import { verifyRelease } from '../nightly/verify';

/**
 * Checks a published release: SHA256SUMS and SHA512SUMS signatures (against --keyring,
 * or the key the release carries), every checksum, and that the SBOM lists exactly
 * the packages of the repository's indexes, with the same sha256.
 */
export async function verifyReleaseCommand(session: Session, dirArg: string, opts: { keyring?: string }): Promise<void> {
  const dir = await fs.realpath(checkedPath(dirArg, 'release directory')).catch(() => {
    throw new XcpError(`no release at ${dirArg}`, 'invalidInput');
  });
  const log = new BuildLog(undefined, session.opts().verbose && !session.json);
  const keyring = opts.keyring ? checkedPath(opts.keyring, '--keyring') : path.join(dir, KEY_FILES[1]);
  if (!(await exists(keyring))) throw new XcpError(`no keyring at ${keyring}`, 'invalidInput');
  const { problems, record, sbomPackages } = await verifyRelease(dir, keyring, log);
  const keyNote = opts.keyring ? `the key in ${displayPath(keyring)}` : `the key the release carries (${KEY_FILES[1]}; pass --keyring with a key you trust to check who signed it)`;
  if (problems.length) throw new XcpError(`release ${displayPath(dir)} does not verify (${problems.length} problem${problems.length === 1 ? '' : 's'})`, 'verification', problems.slice(0, 50).concat(problems.length > 50 ? [`… and ${problems.length - 50} more`] : []));
  if (session.json) session.emit({ ok: true, release: dir, version: record?.version, keyring, sbomPackages });
  else console.log(`${displayPath(dir)}: ${record?.recipe} ${record?.version} verifies: signatures by ${keyNote}, every checksum, and the SBOM's ${sbomPackages} packages match the repository`);
}
