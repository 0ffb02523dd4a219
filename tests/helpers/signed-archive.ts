import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { tempDir } from './tmp';

export interface SignedArchive {
  /** The archive root (holding dists/), world-readable for nginx. */
  dir: string;
  /** A binary keyring with the key that signed every InRelease. */
  keyring: string;
}

export interface ArchiveOptions {
  suites: string[];
  /** The text of main/binary-amd64/Packages in every suite. */
  packages: string;
  /** Release fields as RFC 2822 dates. */
  date: string;
  validUntil?: string;
}

function gpg(home: string, args: string[]): string {
  const res = spawnSync('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`gpg ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

/**
 * A small Debian archive signed by a key of its own, as a hostile or broken mirror
 * that holds a trusted key would serve it: real InRelease files made by gpg, whose
 * Date, Valid-Until and Packages the test chooses.
 */
export function signedArchive(opts: ArchiveOptions): SignedArchive {
  const dir = tempDir('signed-archive');
  chmodSync(dir, 0o755);
  const home = path.join(dir, '.gnupg');
  mkdirSync(home, { mode: 0o700 });
  gpg(home, ['--quick-generate-key', 'xcpbuild test archive <archive@localhost>', 'ed25519', 'sign', 'never']);
  const keyring = path.join(dir, 'keyring.gpg');
  gpg(home, ['--output', keyring, '--export']);
  chmodSync(keyring, 0o644);
  for (const suite of opts.suites) {
    const dists = path.join(dir, 'dists', suite);
    mkdirSync(path.join(dists, 'main/binary-amd64'), { recursive: true });
    writeFileSync(path.join(dists, 'main/binary-amd64/Packages'), opts.packages);
    const sum = createHash('sha256').update(opts.packages).digest('hex');
    const release = [
      'Origin: xcpbuild-test',
      `Suite: ${suite}`,
      `Codename: ${suite}`,
      `Date: ${opts.date}`,
      ...(opts.validUntil ? [`Valid-Until: ${opts.validUntil}`] : []),
      'Architectures: amd64',
      'Components: main',
      'SHA256:',
      ` ${sum} ${Buffer.byteLength(opts.packages)} main/binary-amd64/Packages`,
      '',
    ].join('\n');
    writeFileSync(path.join(dists, 'Release'), release);
    gpg(home, ['--clearsign', '--output', path.join(dists, 'InRelease'), path.join(dists, 'Release')]);
  }
  spawnSync('chmod', ['-R', 'a+rX', path.join(dir, 'dists')]);
  return { dir, keyring };
}
