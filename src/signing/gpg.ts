import { promises as fs, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { BuildLog } from '../util/log';
import { run } from '../util/proc';
import { XcpError, describeSystemError } from '../errors';
import { exists, processGone, writeFileAtomic } from '../util/fsutil';
import { onCleanup } from '../util/signals';
import { checkedPath, secretFromEnv } from '../util/env';
import { printable } from '../util/text';

export function defaultKeyDir(): string {
  const config = process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(config, 'xcpbuild', 'keys');
}

export function defaultKeyFile(): string {
  return path.join(defaultKeyDir(), 'dev.key.asc');
}

export interface KeySource {
  file: string;
  origin: string;
  /** Where the passphrase comes from, if the key has one. */
  passphrase?: { value: string } | { file: string };
}

/** Where the signing key comes from: --signing-key, then XCPBUILD_SIGNING_KEY, then the development key. */
export function signingKeySource(option?: string, passphraseFileOption?: string): KeySource {
  const passphrase = passphraseFileOption
    ? { file: checkedPath(passphraseFileOption, '--signing-key-passphrase-file') }
    : process.env.XCPBUILD_SIGNING_KEY_PASSPHRASE_FILE
      ? { file: checkedPath(process.env.XCPBUILD_SIGNING_KEY_PASSPHRASE_FILE, 'XCPBUILD_SIGNING_KEY_PASSPHRASE_FILE') }
      : secretFromEnv('XCPBUILD_SIGNING_KEY_PASSPHRASE') !== undefined
        ? { value: secretFromEnv('XCPBUILD_SIGNING_KEY_PASSPHRASE')! }
        : undefined;
  if (option) return { file: checkedPath(option, '--signing-key'), origin: '--signing-key', passphrase };
  if (process.env.XCPBUILD_SIGNING_KEY) return { file: checkedPath(process.env.XCPBUILD_SIGNING_KEY, 'XCPBUILD_SIGNING_KEY'), origin: 'XCPBUILD_SIGNING_KEY', passphrase };
  return { file: defaultKeyFile(), origin: 'the development key', passphrase };
}

/**
 * Private GnuPG homes live here: the per-user runtime directory (a tmpfs, 0700) when
 * there is one, else the system temp directory. Their names carry the owner's PID so
 * the homes of killed runs can be recognised and removed.
 */
function homesBase(): string {
  const runtime = process.env.XDG_RUNTIME_DIR;
  return runtime && runtime.startsWith('/') && !/["\\\s]/.test(runtime) ? runtime : os.tmpdir();
}

const HOME_PREFIX = 'xcpbuild-gpg-';

/** Removes GnuPG homes (and stops their agents) left by runs that were killed with SIGKILL. */
export async function sweepStaleHomes(log: BuildLog): Promise<number> {
  const base = homesBase();
  let names: string[] = [];
  try {
    names = await fs.readdir(base);
  } catch {
    return 0;
  }
  let swept = 0;
  for (const n of names) {
    const m = new RegExp(`^${HOME_PREFIX}(\\d+)-`).exec(n);
    if (!m || !processGone(Number(m[1]))) continue;
    await removeHome(log, path.join(base, n));
    swept++;
  }
  if (swept) log.line(`removed ${swept} GnuPG home(s) left by killed runs`);
  return swept;
}

/** Stops a GnuPG home's agent and removes the home with the secret key in it. */
async function removeHome(log: BuildLog, home: string): Promise<void> {
  await run(log, 'gpgconf', ['--homedir', home, '--kill', 'all'], { allowFailure: true });
  // An agent that is still exiting may remove its sockets while the tree is removed: retried, not failed.
  await fs.rm(home, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

/** The same, synchronously: for a process that must end now (a second signal). */
function removeHomeNow(home: string): void {
  spawnSync('gpgconf', ['--homedir', home, '--kill', 'all'], { stdio: 'ignore', timeout: 5000 });
  rmSync(home, { recursive: true, force: true });
}

async function makeHome(): Promise<string> {
  const home = await fs.mkdtemp(path.join(homesBase(), `${HOME_PREFIX}${process.pid}-`));
  await fs.chmod(home, 0o700);
  return home;
}

interface KeyInfo {
  fingerprint: string;
  /** Creation time of the primary key and of the newest signing-capable key, in seconds. */
  created: number;
  expires?: number;
}

function parseSecretKeys(colons: string): KeyInfo | undefined {
  let info: KeyInfo | undefined;
  let lastType = '';
  for (const line of colons.split('\n')) {
    const f = line.split(':');
    if (f[0] === 'sec' || f[0] === 'ssb') {
      lastType = f[0];
      const created = Number(f[5]);
      const expires = f[6] ? Number(f[6]) : undefined;
      if (f[0] === 'sec') info = { fingerprint: '', created, expires };
      else if (info && /s/i.test(f[11] ?? '')) info.created = Math.max(info.created, created);
    } else if (f[0] === 'fpr' && lastType === 'sec' && info && !info.fingerprint) {
      info.fingerprint = f[9];
    }
  }
  return info?.fingerprint ? info : undefined;
}

/**
 * A secret key imported into a private GnuPG home (mode 0700, in the runtime or temp
 * directory, never near the outputs). The home is removed and its agent stopped on
 * every way out: dispose(), errors, Ctrl-C and SIGTERM (via the cleanup registry);
 * after a kill -9 the next run sweeps it.
 */
export class SigningKey {
  private disposed = false;
  private constructor(
    readonly home: string,
    readonly fingerprint: string,
    readonly created: number,
    readonly expires: number | undefined,
    private readonly passphrase: string,
    private readonly log: BuildLog,
    private readonly unregister: () => void,
  ) {}

  static async load(src: KeySource, log: BuildLog): Promise<SigningKey> {
    if (!(await exists(src.file))) {
      throw new XcpError(
        `no signing key at ${src.file} (${src.origin}): run "xcpbuild genkey" for a development key, or pass --signing-key FILE / XCPBUILD_SIGNING_KEY`,
        'invalidInput',
      );
    }
    let passphrase = '';
    if (src.passphrase && 'file' in src.passphrase) {
      try {
        passphrase = (await fs.readFile(src.passphrase.file, 'utf8')).replace(/\r?\n$/, '');
      } catch (err) {
        throw new XcpError(`cannot read the passphrase file ${src.passphrase.file}: ${describeSystemError(err)}`, 'invalidInput');
      }
    } else if (src.passphrase) passphrase = src.passphrase.value;
    await sweepStaleHomes(log);
    const home = await makeHome();
    let unregister: () => void = () => undefined;
    const cleanup = () => removeHome(log, home);
    unregister = onCleanup(cleanup, () => removeHomeNow(home));
    try {
      await run(log, 'gpg', ['--homedir', home, '--batch', '--import', src.file], { purpose: `importing the signing key ${src.file} (${src.origin})`, failAs: 'invalidInput' });
      const res = await run(log, 'gpg', ['--homedir', home, '--batch', '--with-colons', '--list-secret-keys'], { purpose: 'listing the signing key' });
      const info = parseSecretKeys(res.stdout);
      if (!info) throw new XcpError(`${src.file} (${src.origin}) holds no secret key`, 'invalidInput');
      const key = new SigningKey(home, info.fingerprint, info.created, info.expires, passphrase, log, unregister);
      await key.selfTest(src);
      return key;
    } catch (err) {
      unregister();
      await cleanup();
      throw err;
    }
  }

  /** Signs a few bytes, so a wrong passphrase or an unusable key fails before any stage runs. */
  private async selfTest(src: KeySource): Promise<void> {
    const probe = path.join(this.home, 'self-test.txt');
    await fs.writeFile(probe, 'xcpbuild signing key self-test\n');
    const res = await run(this.log, 'gpg', [...this.baseArgs(undefined), '--clearsign', '--output', `${probe}.asc`, probe], { input: `${this.passphrase}\n`, allowFailure: true });
    if (res.exitCode !== 0) {
      const why = /bad passphrase|No passphrase|Operation cancelled/i.test(res.stderr)
        ? src.passphrase
          ? 'the passphrase is wrong'
          : 'the key is protected by a passphrase: give it with XCPBUILD_SIGNING_KEY_PASSPHRASE_FILE (or --signing-key-passphrase-file) or XCPBUILD_SIGNING_KEY_PASSPHRASE'
        : /expired/i.test(res.stderr)
          ? 'the key has expired'
          : printable(res.stderr.trim().split('\n').pop() ?? `gpg exit ${res.exitCode}`, 200);
      throw new XcpError(`cannot sign with ${src.file} (${src.origin}): ${why}`, 'invalidInput');
    }
  }

  /**
   * Signatures carry their creation time; made at SOURCE_DATE_EPOCH they are identical
   * from one build to the next. gpg refuses a time before the key existed, so a key
   * created after SOURCE_DATE_EPOCH signs at the real time (and says so).
   */
  signingTimeFor(epoch: number): number | undefined {
    if (epoch < this.created) return undefined;
    if (this.expires !== undefined && epoch >= this.expires) return undefined;
    return epoch;
  }

  private baseArgs(time: number | undefined): string[] {
    return [
      '--homedir',
      this.home,
      '--batch',
      '--yes',
      '--pinentry-mode',
      'loopback',
      '--passphrase-fd',
      '0',
      ...(time !== undefined ? ['--faked-system-time', `${time}!`] : []),
      '--local-user',
      this.fingerprint,
    ];
  }

  private async gpg(args: string[], purpose: string, time: number | undefined): Promise<void> {
    if (this.disposed) throw new XcpError('internal: the signing key was already disposed', 'internal');
    await run(this.log, 'gpg', [...this.baseArgs(time), ...args], { purpose, input: `${this.passphrase}\n` });
  }

  async clearsign(input: string, output: string, time: number | undefined): Promise<void> {
    await this.gpg(['--digest-algo', 'SHA512', '--clearsign', '--output', output, input], `signing ${path.basename(output)}`, time);
  }

  async detachSign(input: string, output: string, time: number | undefined): Promise<void> {
    await this.gpg(['--digest-algo', 'SHA512', '--armor', '--detach-sign', '--output', output, input], `signing ${path.basename(output)}`, time);
  }

  /**
   * Signs RPM packages in place (rpmsign --addsign) with this key. rpmsign runs gpg
   * through macros: Debian's rpm names a gpg2 binary bookworm lacks, and a passphrase
   * reaches gpg through a file inside the private home, never the command line.
   */
  async signRpms(files: string[], time: number | undefined): Promise<void> {
    if (this.disposed) throw new XcpError('internal: the signing key was already disposed', 'internal');
    if (!files.length) return;
    const passFile = path.join(this.home, 'rpmsign.pass');
    await fs.writeFile(passFile, `${this.passphrase}\n`, { mode: 0o600 });
    try {
      const extra = ['--batch', '--pinentry-mode loopback', `--passphrase-file ${passFile}`, ...(time !== undefined ? [`--faked-system-time ${time}!`] : [])].join(' ');
      const defines = {
        __gpg: '/usr/bin/gpg',
        _gpg_path: this.home,
        _gpg_name: this.fingerprint,
        _gpg_digest_algo: 'sha256',
        _gpg_sign_cmd_extra_args: extra,
      };
      await run(this.log, 'rpmsign', [...Object.entries(defines).flatMap(([k, v]) => ['--define', `${k} ${v}`]), '--addsign', ...files], {
        purpose: `signing ${files.length} RPM package(s)`,
      });
    } finally {
      await fs.rm(passFile, { force: true });
    }
  }

  async exportPublic(output: string, armor: boolean): Promise<void> {
    await run(this.log, 'gpg', ['--homedir', this.home, '--batch', '--yes', ...(armor ? ['--armor'] : []), '--export-options', 'export-minimal', '--output', output, '--export', this.fingerprint], {
      purpose: 'exporting the public key',
    });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.unregister();
    await removeHome(this.log, this.home);
  }
}

/** The fingerprints of the primary keys in a public keyring file (binary or armored). */
export async function keyringFingerprints(log: BuildLog, file: string): Promise<string[]> {
  const home = await makeHome();
  try {
    const res = await run(log, 'gpg', ['--homedir', home, '--batch', '--with-colons', '--show-keys', file], { purpose: `reading the keys in ${file}`, failAs: 'invalidInput' });
    const out: string[] = [];
    let primary = false;
    for (const f of res.stdout.split('\n').map((l) => l.split(':'))) {
      if (f[0] === 'pub') primary = true;
      else if (f[0] === 'fpr' && primary) {
        out.push(f[9]);
        primary = false;
      } else if (f[0] === 'sub') primary = false;
    }
    return out;
  } finally {
    await removeHome(log, home);
  }
}

/** Development keys are made as of this time, so any realistic SOURCE_DATE_EPOCH can sign with them. */
export const DEV_KEY_CREATION = '20000101T000000';

/** Makes a development signing key: the secret half in keyDir (mode 0600), never in an output. */
export async function generateKey(log: BuildLog, keyDir: string, name: string, uid: string, force: boolean): Promise<{ secret: string; public: string; fingerprint: string }> {
  const secret = path.join(keyDir, `${name}.key.asc`);
  const pub = path.join(keyDir, `${name}.pub.asc`);
  if (!force && (await exists(secret))) {
    throw new XcpError(`a key already exists at ${secret}; pass --force to replace it`, 'usage');
  }
  try {
    await fs.mkdir(keyDir, { recursive: true, mode: 0o700 });
    await fs.chmod(keyDir, 0o700);
  } catch (err) {
    throw new XcpError(`cannot create key directory ${keyDir}: ${describeSystemError(err)}`, 'invalidInput');
  }
  await sweepStaleHomes(log);
  const home = await makeHome();
  const unregister = onCleanup(() => removeHome(log, home), () => removeHomeNow(home));
  try {
    const gpg = (args: string[], purpose: string) => run(log, 'gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { purpose });
    await gpg(['--faked-system-time', `${DEV_KEY_CREATION}!`, '--quick-generate-key', uid, 'ed25519', 'sign', 'never'], 'generating the key');
    const list = await gpg(['--with-colons', '--list-secret-keys'], 'listing the key');
    const info = parseSecretKeys(list.stdout);
    if (!info) throw new XcpError('gpg made no key', 'build');
    const sec = await gpg(['--armor', '--export-secret-keys', info.fingerprint], 'exporting the secret key');
    const pubOut = await gpg(['--armor', '--export', info.fingerprint], 'exporting the public key');
    await writeFileAtomic(secret, sec.stdout, 0o600);
    await writeFileAtomic(pub, pubOut.stdout, 0o644);
    return { secret, public: pub, fingerprint: info.fingerprint };
  } finally {
    unregister();
    await removeHome(log, home);
  }
}
