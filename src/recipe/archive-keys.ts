import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Archive } from './schema';
import { LoadedRecipe, keyringPath } from './load';
import { BuildLog } from '../util/log';
import { run } from '../util/proc';
import { XcpError } from '../errors';
import { writeFileAtomic, mkdirp, exists } from '../util/fsutil';
import { printable } from '../util/text';
import { fetchWithRetries } from '../util/http';
import { scratchDir } from '../util/scratch';

/**
 * The file holding an archive's signing key: the recipe's keyring file, or a key given
 * by URL and fingerprint, downloaded once into the cache and kept only if it is that
 * key (the file then holds exactly the pinned key, armored). `network` false: the
 * cached copy or an error, never a download.
 */
export async function archiveKeyFile(loaded: LoadedRecipe, archive: Archive, cacheDir: string, log: BuildLog, network: boolean): Promise<string> {
  if (archive.keyring) return keyringPath(loaded, archive.keyring);
  const key = archive.key!;
  const cached = path.join(cacheDir, 'keys', `${key.fingerprint}.asc`);
  if (await exists(cached)) return cached;
  if (!network) throw new XcpError(`the key of archive ${archive.name} (${key.fingerprint}) is not in the cache; run xcpbuild lock or fetch with network`, 'network');
  const body = await download(key.url, archive.name);
  const home = await scratchDir('key');
  try {
    const file = path.join(home, 'key');
    await fs.writeFile(file, body);
    await run(log, 'gpg', ['--homedir', home, '--batch', '--import', file], { allowFailure: true });
    const res = await run(log, 'gpg', ['--homedir', home, '--batch', '--armor', '--export-options', 'export-minimal', '--export', key.fingerprint], { logStdout: false, allowFailure: true });
    if (res.exitCode !== 0 || !res.stdout.includes('BEGIN PGP PUBLIC KEY BLOCK')) {
      throw new XcpError(`${key.url} (the key of archive ${archive.name}) does not hold the key ${key.fingerprint} the recipe pins`, 'verification');
    }
    await mkdirp(path.dirname(cached));
    await writeFileAtomic(cached, res.stdout);
    return cached;
  } finally {
    await run(log, 'gpgconf', ['--homedir', home, '--kill', 'all'], { allowFailure: true });
    await fs.rm(home, { recursive: true, force: true });
  }
}

async function download(url: string, archive: string): Promise<Buffer> {
  if (url.startsWith('file://')) return fs.readFile(decodeURIComponent(new URL(url).pathname));
  const got = await fetchWithRetries(url, 'GET');
  if (got.ok) return Buffer.from(await got.res.arrayBuffer());
  throw new XcpError(`cannot download the key of archive ${archive} from ${url} (3 attempts): ${printable(got.cause, 200)}`, 'network');
}
