import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildLog } from '../util/log';
import { run } from '../util/proc';
import { XcpError, describeSystemError } from '../errors';
import { exists } from '../util/fsutil';

export function defaultKeyDir(): string {
  const config = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(config, 'xcpbuild', 'keys');
}

export function defaultKeyFile(): string {
  return path.join(defaultKeyDir(), 'dev.key.asc');
}

/** Where the signing key comes from: --signing-key, then XCPBUILD_SIGNING_KEY, then the development key. */
export function signingKeySource(option?: string): { file: string; origin: string } {
  if (option) return { file: path.resolve(option), origin: '--signing-key' };
  if (process.env.XCPBUILD_SIGNING_KEY) return { file: path.resolve(process.env.XCPBUILD_SIGNING_KEY), origin: 'XCPBUILD_SIGNING_KEY' };
  return { file: defaultKeyFile(), origin: 'the development key' };
}

/**
 * A secret key imported into a throw-away GnuPG home in the system temp directory,
 * so the private key is never written anywhere near the build outputs.
 */
export class SigningKey {
  private constructor(
    readonly home: string,
    readonly fingerprint: string,
    private readonly log: BuildLog,
  ) {}

  static async load(file: string, origin: string, log: BuildLog): Promise<SigningKey> {
    if (!(await exists(file))) {
      throw new XcpError(
        `no signing key at ${file} (${origin}): run "xcpbuild genkey" for a development key, or pass --signing-key FILE / XCPBUILD_SIGNING_KEY`,
        'invalidInput',
      );
    }
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'xcpbuild-gpg-'));
    await fs.chmod(home, 0o700);
    try {
      await run(log, 'gpg', ['--homedir', home, '--batch', '--import', file], { purpose: `importing the signing key ${file}`, failAs: 'invalidInput' });
      const res = await run(log, 'gpg', ['--homedir', home, '--batch', '--with-colons', '--list-secret-keys'], { purpose: 'listing the signing key' });
      const fpr = res.stdout.split('\n').find((l) => l.startsWith('fpr:'))?.split(':')[9];
      if (!fpr) throw new XcpError(`${file} (${origin}) holds no secret key`, 'invalidInput');
      return new SigningKey(home, fpr, log);
    } catch (err) {
      await fs.rm(home, { recursive: true, force: true });
      throw err;
    }
  }

  private gpg(args: string[], purpose: string) {
    return run(this.log, 'gpg', ['--homedir', this.home, '--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '', '--local-user', this.fingerprint, ...args], { purpose });
  }

  async clearsign(input: string, output: string): Promise<void> {
    await this.gpg(['--digest-algo', 'SHA512', '--clearsign', '--output', output, input], 'signing InRelease');
  }

  async detachSign(input: string, output: string): Promise<void> {
    await this.gpg(['--digest-algo', 'SHA512', '--armor', '--detach-sign', '--output', output, input], 'signing Release.gpg');
  }

  async exportPublic(output: string, armor: boolean): Promise<void> {
    await this.gpg([...(armor ? ['--armor'] : []), '--export-options', 'export-minimal', '--output', output, '--export', this.fingerprint], 'exporting the public key');
  }

  async dispose(): Promise<void> {
    await run(this.log, 'gpgconf', ['--homedir', this.home, '--kill', 'all'], { allowFailure: true });
    await fs.rm(this.home, { recursive: true, force: true });
  }
}

/** Makes a development signing key: the secret half in keyDir (mode 0600), never in an output. */
export async function generateKey(log: BuildLog, keyDir: string, name: string, uid: string, force: boolean): Promise<{ secret: string; public: string; fingerprint: string }> {
  const secret = path.join(keyDir, `${name}.key.asc`);
  const pub = path.join(keyDir, `${name}.pub.asc`);
  if (!force && (await exists(secret))) {
    throw new XcpError(`a key already exists at ${secret}; pass --force to replace it`, 'usage');
  }
  try {
    await fs.mkdir(keyDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new XcpError(`cannot create key directory ${keyDir}: ${describeSystemError(err)}`, 'invalidInput');
  }
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'xcpbuild-gpg-'));
  try {
    const gpg = (args: string[], purpose: string) => run(log, 'gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { purpose });
    await gpg(['--quick-generate-key', uid, 'ed25519', 'sign', '3y'], 'generating the key');
    const list = await gpg(['--with-colons', '--list-secret-keys'], 'listing the key');
    const fingerprint = list.stdout.split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9];
    const sec = await gpg(['--armor', '--export-secret-keys', fingerprint], 'exporting the secret key');
    const pubOut = await gpg(['--armor', '--export', fingerprint], 'exporting the public key');
    await fs.writeFile(`${secret}.tmp`, sec.stdout, { mode: 0o600 });
    await fs.rename(`${secret}.tmp`, secret);
    await fs.writeFile(pub, pubOut.stdout);
    return { secret, public: pub, fingerprint };
  } finally {
    await run(log, 'gpgconf', ['--homedir', home, '--kill', 'all'], { allowFailure: true });
    await fs.rm(home, { recursive: true, force: true });
  }
}
