import { mkdirSync, readdirSync, existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { xcpbuild, startXcpbuild, waitForText } from '../helpers/cli';
import { startMirror, Mirror, defaultRecipe } from '../helpers/mirror';
import { tempDir, removeDir } from '../helpers/tmp';

jest.setTimeout(600_000);

/**
 * Signing material never outlives a run: the private GnuPG home is removed and its
 * agent stopped on every way out, and one left by a kill -9 is swept by the next run.
 * A passphrase-protected key works, and a wrong or missing passphrase fails before
 * any stage has run.
 */
let mirror: Mirror;
let dir: string;
let tmp: string;
let protectedKey: string;
const passphrase = 'correct horse battery staple';

function gpg(home: string, args: string[]): string {
  const res = spawnSync('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', ...args], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`gpg ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

beforeAll(async () => {
  mirror = await startMirror();
  dir = tempDir('signing');
  tmp = path.join(dir, 'tmp');
  mkdirSync(tmp);
  const home = path.join(dir, 'gnupg');
  mkdirSync(home, { mode: 0o700 });
  gpg(home, ['--passphrase', passphrase, '--faked-system-time', '20000101T000000!', '--quick-generate-key', 'protected test key <t@example.org>', 'ed25519', 'sign', 'never']);
  protectedKey = path.join(dir, 'protected.key.asc');
  writeFileSync(protectedKey, gpg(home, ['--passphrase', passphrase, '--armor', '--export-secret-keys']), { mode: 0o600 });
  spawnSync('gpgconf', ['--homedir', home, '--kill', 'all']);
  writeFileSync(path.join(dir, 'passphrase'), `${passphrase}\n`, { mode: 0o600 });
  writeFileSync(path.join(dir, 'wrong'), 'not the passphrase\n', { mode: 0o600 });
});

afterAll(async () => {
  await mirror?.stop();
  if (dir) removeDir(dir);
});

const env = () => ({ TMPDIR: tmp, XDG_RUNTIME_DIR: '', XCPBUILD_CACHE: path.join(dir, 'cache') });
const homes = () => readdirSync(tmp).filter((n) => n.startsWith('xcpbuild-gpg-'));
const agents = () => spawnSync('pgrep', ['-af', 'gpg-agent'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(tmp));

describe('a passphrase-protected signing key', () => {
  test('signs with the passphrase from a file', () => {
    const out = path.join(dir, 'out-pp');
    const res = xcpbuild(['--locked', '--out', out, ...mirror.args, '--signing-key', protectedKey, '--signing-key-passphrase-file', path.join(dir, 'passphrase'), 'repo', defaultRecipe], { env: env() });
    expect({ code: res.code, err: res.stderr }).toEqual({ code: 0, err: expect.any(String) });
    const repo = path.join(out, 'xcp-bookworm/repo');
    const v = spawnSync('gpgv', ['--keyring', path.join(repo, 'xcp-bookworm-archive-keyring.gpg'), path.join(repo, 'dists/bookworm/InRelease')], { encoding: 'utf8' });
    expect(v.stderr).toMatch(/Good signature from "protected test key/);
    expect(homes()).toEqual([]);
  });

  test.each([
    ['without a passphrase', [], /the key is protected by a passphrase: give it with XCPBUILD_SIGNING_KEY_PASSPHRASE_FILE/],
    ['with a wrong one', ['--signing-key-passphrase-file', 'WRONG'], /cannot sign with .*protected\.key\.asc \(--signing-key\): the passphrase is wrong/],
  ])('fails %s before any stage runs', (_what, extra, message) => {
    const out = path.join(dir, `out-nopp-${extra.length}`);
    const args = extra.map((a) => (a === 'WRONG' ? path.join(dir, 'wrong') : a));
    const res = xcpbuild(['--locked', '--out', out, ...mirror.args, '--signing-key', protectedKey, ...args, 'repo', defaultRecipe], { env: env() });
    expect(res).toExitWith(3);
    expect(res.stderr).toMatch(message);
    expect(existsSync(path.join(out, 'xcp-bookworm/meta'))).toBe(false);
    expect(existsSync(path.join(out, 'xcp-bookworm/fetch'))).toBe(false);
    expect(homes()).toEqual([]);
  });
});

describe('the private GnuPG home', () => {
  async function startAndWaitForKey(out: string) {
    const run = startXcpbuild(['--locked', '--out', out, ...mirror.args, 'repo', defaultRecipe], { env: { ...env(), XCPBUILD_CACHE: path.join(dir, `cache-${path.basename(out)}`) } });
    const logDir = path.join(out, 'xcp-bookworm/logs');
    await waitForText(() => (existsSync(logDir) ? readdirSync(logDir).map((f) => path.join(logDir, f))[0] : undefined), /\$ gpg .*--clearsign --output .*self-test/, 60_000);
    return run;
  }

  test.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('is removed, its agent stopped, when the build gets %s', async (signal, code) => {
    const run = await startAndWaitForKey(path.join(dir, `out-${signal}`));
    expect(homes()).toHaveLength(1);
    run.kill(signal);
    const res = await run.done;
    expect(res.code).toBe(code);
    expect(res.stderr).toMatch(new RegExp(`interrupted by ${signal}`));
    expect(homes()).toEqual([]);
    expect(agents()).toEqual([]);
  });

  test('left by a kill -9 is readable by its owner only, and the next run removes it', async () => {
    const run = await startAndWaitForKey(path.join(dir, 'out-kill'));
    run.kill('SIGKILL');
    await run.done;
    const left = homes();
    expect(left).toHaveLength(1);
    expect(statSync(path.join(tmp, left[0])).mode & 0o777).toBe(0o700);
    const next = xcpbuild(['--locked', '--out', path.join(dir, 'out-after'), ...mirror.args, 'meta', defaultRecipe], { env: env() });
    expect(next).toExitWith(0);
    // meta needs no key; the key is loaded (and the sweep runs) by a build that signs.
    const signs = xcpbuild(['--locked', '--out', path.join(dir, 'out-after'), ...mirror.args, 'repo', defaultRecipe], { env: env() });
    expect(signs).toExitWith(0);
    expect(homes()).toEqual([]);
    expect(agents()).toEqual([]);
  });
});
