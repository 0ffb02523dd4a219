import { promises as fs, readFileSync, writeFileSync, readdirSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { xcpbuild, json, projectRoot } from '../helpers/cli';
import { startNginx, Nginx } from '../helpers/nginx';
import { tempDir, removeDir } from '../helpers/tmp';
import { buildYumArchive, testFedoraRecipe, copySources, YumArchive } from '../helpers/yum-archive';
import { defaultKeyFile } from '../../src/signing/gpg';

jest.setTimeout(600_000);

/**
 * The RPM family end to end with real tools: a yum archive built by rpmbuild from
 * tests/fixtures/rpm and served by nginx; xcpbuild lock (dnf's solver) → fetch
 * (signatures checked) → meta (rpmbuild) → repo (rpmsign, createrepo_c, signed
 * repomd.xml); then the admin's dnf install into an empty installroot from our
 * repository, served by nginx too, with gpgcheck and repo_gpgcheck on.
 */
let dir: string;
let archive: YumArchive;
let nginx: Nginx;
let cache: string;
const EPOCH = '1780000000';
const env = () => ({ XCPBUILD_CACHE: cache, SOURCE_DATE_EPOCH: EPOCH });

interface LockJson {
  archives: { name: string; repomd?: string; date: string }[];
  packages: { name: string; version: string; architecture: string; sha256: string; size: number; filename: string; source: string; sourceRpm?: string }[];
}

function sh(cmd: string, args: string[]): { code: number; out: string } {
  const res = spawnSync(cmd, args, { encoding: 'utf8' });
  return { code: res.status ?? -1, out: `${res.stdout}\n${res.stderr}` };
}

/** Writes a recipe (the default one, or with other xen pins) and returns its path. */
function recipe(name: string, pins?: string): string {
  const d = path.join(dir, name);
  mkdirSync(d, { recursive: true });
  const file = path.join(d, 'xcp-test-fedora.yaml');
  writeFileSync(file, testFedoraRecipe(nginx.url('upstream'), archive.key, nginx.url('xcp'), pins));
  copySources(d);
  return file;
}

function run(args: string[]) {
  return xcpbuild(['--json', ...args], { env: env() });
}

/** dnf as an admin runs it: only our .repo, a private cache, an empty installroot. */
function dnfInstall(repoFile: string, root: string, packages: string[]): { code: number; out: string } {
  const reposdir = path.join(dir, `reposdir-${path.basename(root)}`);
  mkdirSync(reposdir, { recursive: true });
  writeFileSync(path.join(reposdir, 'xcp.repo'), repoFile);
  return sh('dnf', [
    '-y',
    '--installroot', root,
    '--releasever', '99',
    '--disableplugin=*',
    '--setopt=reposdir=' + reposdir,
    '--setopt=cachedir=' + path.join(root, '.dnf-cache'),
    '--setopt=skip_if_unavailable=0',
    '--setopt=install_weak_deps=0',
    'install',
    ...packages,
  ]);
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

let mainRecipe: string;
let repo: string;
let published: string;

beforeAll(async () => {
  dir = tempDir('yum');
  await fs.chmod(dir, 0o755);
  cache = path.join(dir, 'cache');
  archive = buildYumArchive();
  published = path.join(dir, 'published');
  mkdirSync(published);
  nginx = await startNginx({ upstream: archive.dir, xcp: published, tampered: path.join(dir, 'tampered'), unsigned: path.join(dir, 'unsigned') });
  mainRecipe = recipe('main');
});
afterAll(async () => {
  await nginx?.stop();
  if (!process.env.KEEP) removeDir(dir);
});

describe('the rpm family: lock → fetch → meta → repo → dnf install', () => {
  test('lock resolves with dnf and records NEVRA, sha256, size, archive and source RPM', () => {
    const res = run(['lock', mainRecipe]);
    expect(res).toExitWith(0);
    const lock = JSON.parse(readFileSync(mainRecipe.replace('.yaml', '.lock'), 'utf8')) as LockJson;
    const got = lock.packages.map((p) => `${p.name} ${p.version} ${p.architecture}`).sort();
    expect(got).toEqual([
      'xcptest-Base_Data 1:2.1.0-1.fc99 noarch',
      'xcptest-shell 5.2-1.fc99 noarch',
      'xcptest-toolstack 1:2.1.0-1.fc99 noarch',
      'xcptest-xen 4.17.7-1.fc99 x86_64',
      'xcptest-xen-libs 4.17.7-1.fc99 x86_64',
      'xcptest-xen-runtime 4.17.7-1.fc99 noarch',
    ]);
    const libs = lock.packages.find((p) => p.name === 'xcptest-xen-libs')!;
    expect(libs.source).toBe('xcptest-xen');
    expect(libs.sourceRpm).toBe('xcptest-xen-4.17.7-1.fc99.src.rpm');
    expect(sha256(path.join(archive.dir, libs.filename))).toBe(libs.sha256);
    expect(lock.archives[0].repomd).toBe(sha256(path.join(archive.dir, 'repodata/repomd.xml')));
  });

  test('repo builds xcp-host from its packaging description, signed noarch metapackages with exact requires, rpmlint-clean, and a signed yum repository', async () => {
    const res = run(['--locked', '--out', path.join(dir, 'out'), 'repo', mainRecipe]);
    expect(res).toExitWith(0);
    repo = path.join(dir, 'out/xcp-test-fedora/repo');
    // rpmbuild ran inside the clean Debian root made from the lock's build closure, not on the host
    const lock = JSON.parse(readFileSync(mainRecipe.replace('.yaml', '.lock'), 'utf8')) as LockJson & { build?: { name: string; archive: string }[] };
    expect(lock.build?.map((p) => p.name)).toEqual(expect.arrayContaining(['rpm', 'dpkg', 'base-files']));
    expect(new Set(lock.build?.map((p) => p.archive))).toEqual(new Set(['debian-build-root']));
    expect(lock.archives.map((a) => a.name)).toEqual(['upstream', 'debian-build-root']);
    const logDir = path.join(dir, 'out/xcp-test-fedora/logs');
    const logs = readdirSync(logDir).map((f) => readFileSync(path.join(logDir, f), 'utf8')).join('\n');
    expect(logs).toContain('Wrote: /build/out/xcp-host-1.1.0-1.noarch.rpm');
    expect(logs).toMatch(/build: xcp-host-1\.1\.0-1\.noarch\.rpm from xcp-host: rpmbuild ran in a clean bookworm root .*\(\d+ packages: Priority required \+ rpm\)/);
    expect(readdirSync(repo).sort()).toEqual(['.xcpbuild-stage.json', 'Packages', 'RPM-GPG-KEY-xcp-test-fedora', 'RPM-GPG-KEY-xcp-test-fedora-upstream', 'repodata', 'xcp-test-fedora.repo']);
    expect(readdirSync(path.join(repo, 'repodata'))).toEqual(expect.arrayContaining(['repomd.xml', 'repomd.xml.asc']));
    const core = path.join(repo, 'Packages/x/xenserver-core-1.0.0-1.noarch.rpm');
    expect(sh('rpm', ['-qpR', core]).out).toMatch(/xcptest-toolstack = 1:2\.1\.0-1\.fc99\nxcptest-xen = 4\.17\.7-1\.fc99\nxcptest-xen-runtime = 4\.17\.7-1\.fc99/);
    expect(sh('rpm', ['-qpR', path.join(repo, 'Packages/x/xcp-full-1.0.0-1.noarch.rpm')]).out).toMatch(/xcp-host = 1\.1\.0-1\nxenserver-core = 1\.0\.0-1/);
    const host = path.join(repo, 'Packages/x/xcp-host-1.1.0-1.noarch.rpm');
    expect(sh('rpm', ['-qplv', host]).out).toMatch(/-rwxr-xr-x .* \/usr\/bin\/xcp-host-info\n/);
    expect(sh('rpm', ['-qpl', host]).out).toContain('/usr/lib/systemd/system/multi-user.target.wants/xcp-host-firstboot.service');
    const info = sh('rpm', ['-qpi', core]).out;
    expect(info).toMatch(/Signature\s*: EdDSA\/SHA256|Signature\s*: RSA\/SHA256/);
    expect(info).toMatch(/100%\s+of\s+them/); // a % in the recipe's description is text, not a macro
    const lint = sh('rpmlint', ['-c', path.join(projectRoot, 'templates/rpm/rpmlint.toml'), ...readdirSync(path.join(repo, 'Packages/x')).filter((f) => /^x(enserver-core|cp-full|cp-host)-/.test(f)).map((f) => path.join(repo, 'Packages/x', f))]);
    expect(lint.out).toContain('3 packages and 0 specfiles checked; 0 errors, 0 warnings');
    const repoFile = readFileSync(path.join(repo, 'xcp-test-fedora.repo'), 'utf8');
    expect(repoFile).toMatch(/^gpgcheck=1$/m);
    expect(repoFile).toMatch(/^repo_gpgcheck=1$/m);
    expect(repoFile).toContain(`gpgkey=${nginx.url('xcp')}/RPM-GPG-KEY-xcp-test-fedora ${nginx.url('xcp')}/RPM-GPG-KEY-xcp-test-fedora-upstream`);
    // published for the admin tests below
    sh('cp', ['-a', `${repo}/.`, published]);
    sh('chmod', ['-R', 'a+rX', published]);
    // the same build elsewhere is bit-identical (SOURCE_DATE_EPOCH, fixed revision, faked signing time)
    const again = run(['--locked', '--out', path.join(dir, 'out2'), 'repo', mainRecipe]);
    expect(again).toExitWith(0);
    const files = (root: string) => sh('find', [root, '-type', 'f', '!', '-name', '.xcpbuild-stage.json', '-printf', '%P\\n']).out.trim().split('\n').sort();
    const repo2 = path.join(dir, 'out2/xcp-test-fedora/repo');
    expect(files(repo2)).toEqual(files(repo));
    for (const f of files(repo).filter(Boolean)) expect(`${f} ${sha256(path.join(repo2, f))}`).toBe(`${f} ${sha256(path.join(repo, f))}`);
  });

  test("the admin's dnf install xenserver-core xcp-full gets exactly the pinned versions, signatures checked", () => {
    const root = path.join(dir, 'root-good');
    const res = dnfInstall(readFileSync(path.join(published, 'xcp-test-fedora.repo'), 'utf8'), root, ['xenserver-core', 'xcp-full']);
    expect(res.out).not.toMatch(/GPG check FAILED|not signed/);
    expect(`${res.code} ${res.code ? res.out : ''}`).toBe('0 ');
    const q = sh('rpm', ['--root', root, '-qa', '--qf', '%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE}\\n']);
    const installed = q.out.trim().split('\n').sort();
    // dnf imported both keys of the .repo: ours (metapackages, repomd.xml) and the archive's (its packages)
    expect(installed.filter((l) => l.startsWith('gpg-pubkey ')).length).toBe(2);
    expect(installed.filter((l) => !l.startsWith('gpg-pubkey '))).toEqual([
      'xcp-full 0:1.0.0-1',
      'xcp-host 0:1.1.0-1',
      'xcptest-Base_Data 1:2.1.0-1.fc99',
      'xcptest-shell 0:5.2-1.fc99',
      'xcptest-toolstack 1:2.1.0-1.fc99',
      'xcptest-xen 0:4.17.7-1.fc99',
      'xcptest-xen-libs 0:4.17.7-1.fc99',
      'xcptest-xen-runtime 0:4.17.7-1.fc99',
      'xenserver-core 0:1.0.0-1',
    ]);
    expect(sh('rpm', ['--root', root, '-Va']).code).toBe(0);
  });

  test('a tampered repomd.xml is refused by dnf', async () => {
    const tampered = path.join(dir, 'tampered');
    sh('cp', ['-a', `${published}/.`, tampered]);
    const repomd = path.join(tampered, 'repodata/repomd.xml');
    const text = readFileSync(repomd, 'utf8').replace(/<revision>\d+</, '<revision>1<');
    await fs.unlink(repomd);
    writeFileSync(repomd, text, { mode: 0o644 });
    const repoFile = readFileSync(path.join(published, 'xcp-test-fedora.repo'), 'utf8').replace(/^baseurl=.*$/m, `baseurl=${nginx.url('tampered')}`);
    const res = dnfInstall(repoFile, path.join(dir, 'root-tampered'), ['xenserver-core']);
    expect(res.code).not.toBe(0);
    expect(res.out).toMatch(/repomd\.xml GPG signature verification error|Bad GPG signature/);
  });

  test('an unsigned package in the repository is refused by dnf', () => {
    const unsigned = path.join(dir, 'unsigned');
    sh('cp', ['-a', `${published}/.`, unsigned]);
    // The metapackage as the meta stage built it, before the repository signed it; the index and its signature are made anew.
    const built = path.join(dir, 'out/xcp-test-fedora/meta/xenserver-core-1.0.0-1.noarch.rpm');
    const target = path.join(unsigned, 'Packages/x/xenserver-core-1.0.0-1.noarch.rpm');
    sh('rm', ['-f', target]);
    sh('cp', [built, target]);
    expect(sh('createrepo_c', ['--no-database', '--quiet', unsigned]).code).toBe(0);
    const home = tempDir('yum-gpg');
    expect(sh('gpg', ['--homedir', home, '--batch', '--import', defaultKeyFile()]).code).toBe(0);
    expect(sh('gpg', ['--homedir', home, '--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '', '--armor', '--detach-sign', path.join(unsigned, 'repodata/repomd.xml')]).code).toBe(0);
    sh('gpgconf', ['--homedir', home, '--kill', 'all']);
    removeDir(home);
    sh('chmod', ['-R', 'a+rX', unsigned]);
    const repoFile = readFileSync(path.join(published, 'xcp-test-fedora.repo'), 'utf8').replace(/^baseurl=.*$/m, `baseurl=${nginx.url('unsigned')}`);
    const res = dnfInstall(repoFile, path.join(dir, 'root-unsigned'), ['xenserver-core']);
    expect(res.code).not.toBe(0);
    expect(res.out).toMatch(/is not signed|GPG check FAILED/);
  });

  test('xcpbuild verify finds a damaged package in a published yum repository', async () => {
    const res = run(['--locked', '--out', path.join(dir, 'out'), 'verify', mainRecipe]);
    expect(res).toExitWith(0);
    const file = path.join(repo, 'Packages/x/xcptest-xen-libs-4.17.7-1.fc99.x86_64.rpm');
    const bytes = readFileSync(file);
    bytes[bytes.length - 10] ^= 0xff;
    await fs.unlink(file);
    writeFileSync(file, bytes);
    const bad = run(['--locked', '--out', path.join(dir, 'out'), 'verify', mainRecipe]);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain('xcptest-xen-libs-4.17.7-1.fc99.x86_64.rpm');
  });
});

describe('the rpm family refuses what it cannot trust, and says why', () => {
  test('a missing version lists the versions that exist', () => {
    const r = recipe('missing', '    - { name: xcptest-xen-runtime, version: 4.17.5-1.fc99 }');
    const res = run(['lock', r]);
    expect(res).toExitWith(4);
    const out = json<{ error: { message: string } }>(res).error.message;
    expect(out).toContain('packages.xen[0]: xcptest-xen-runtime version 4.17.5-1.fc99 is not in the archives; available: 4.17.7-1.fc99 (upstream), 4.17.6-1.fc99 (upstream)');
  });

  test("unsatisfiable pins give dnf's problem in words", () => {
    const r = recipe('conflict', '    - { name: xcptest-xen-runtime, version: 4.17.7-1.fc99 }\n    - { name: xcptest-xen-libs, version: 4.17.6-1.fc99 }');
    const res = run(['lock', r]);
    expect(res).toExitWith(4);
    const err = json<{ error: { message: string; details?: string[] } }>(res).error;
    expect(err.message).toContain('the pinned packages cannot be installed together: cannot install both xcptest-xen-libs-4.17.7-1.fc99.x86_64 and xcptest-xen-libs-4.17.6-1.fc99.x86_64');
    expect((err.details ?? []).join('\n')).toContain('xcptest-xen-runtime-4.17.7-1.fc99.noarch requires xcptest-xen-libs = 4.17.7-1.fc99');
  });

  test('fetch refuses an unsigned upstream package', () => {
    const r = recipe('unsigned-pin', '    - { name: xcptest-xen-runtime, version: 4.17.7-1.fc99 }\n    - { name: xcptest-unsigned, version: 1.0-1.fc99 }');
    expect(run(['lock', r]).code).toBe(0);
    const res = run(['--out', path.join(dir, 'out-unsigned'), 'fetch', r]);
    expect(res).toExitWith(7);
    const err = json<{ error: { message: string } }>(res).error.message;
    expect(err).toContain('xcptest-unsigned 1.0-1.fc99 (Packages/xcptest-unsigned-1.0-1.fc99.noarch.rpm): not signed (archive upstream)');
  });

  test('an unreachable yum archive is retried, then one line of cause', () => {
    const r = recipe('unreachable');
    writeFileSync(r, readFileSync(r, 'utf8').replace(nginx.url('upstream'), 'http://127.0.0.1:9/fedora'));
    const res = run(['lock', r]);
    expect(res).toExitWith(5);
    expect(json<{ error: { message: string } }>(res).error.message).toMatch(/^cannot read the archives \(after retries\): .*127\.0\.0\.1/);
  });

  test('a repository whose packages need something it lacks is not published (repoclosure)', () => {
    const r = recipe('no-shell');
    writeFileSync(r, readFileSync(r, 'utf8').replace('    - { name: xcptest-toolstack, version: "1:2.1.0-1.fc99" }', '    - { name: xcptest-xen-libs, version: 4.17.7-1.fc99 }'));
    expect(run(['lock', r]).code).toBe(0);
    const res = run(['--out', path.join(dir, 'out-no-shell'), 'repo', r]);
    expect(res).toExitWith(6);
    const err = json<{ error: { message: string } }>(res).error.message;
    expect(err).toBe('the repository is not complete; not publishing it: xcp-host-1.1.0-1.noarch requires /bin/sh, which nothing in the repository provides');
    expect(readdirSync(path.join(dir, 'out-no-shell/xcp-test-fedora'))).not.toContain('repo');
  });

  test('a source tree given as a tarball by URL and sha256 is fetched, checked and built', async () => {
    const tarball = path.join(archive.dir, 'xcp-host-1.0.0.tar.gz');
    expect(sh('tar', ['-czf', tarball, '-C', path.join(projectRoot, 'sources'), '--transform', 's,^xcp-host,xcp-host-1.0.0,', 'xcp-host']).code).toBe(0);
    sh('chmod', ['a+r', tarball]);
    const size = (await fs.stat(tarball)).size;
    const r = recipe('tarball');
    const byUrl = (sum: string) => writeFileSync(r, readFileSync(r, 'utf8').replace(/^  xcp-host: .*$/m, `  xcp-host: { version: 1.1.0-1, url: ${nginx.url('upstream')}/xcp-host-1.0.0.tar.gz, sha256: ${sum}, size: ${size} }`));
    byUrl('f'.repeat(64));
    const locked = run(['lock', r]);
    expect(`${locked.code} ${locked.code ? locked.stdout : ''}`).toBe('0 ');
    const bad = run(['--out', path.join(dir, 'out-tarball'), 'build', r]);
    expect(bad).toExitWith(5);
    expect(json<{ error: { message: string } }>(bad).error.message).toMatch(/source xcp-host 1\.1\.0-1/);
    byUrl(sha256(tarball));
    const good = run(['--out', path.join(dir, 'out-tarball'), 'build', r]);
    expect(`${good.code} ${good.code ? good.stdout : ""}`).toBe("0 ");
    expect(readdirSync(path.join(dir, 'out-tarball/xcp-test-fedora/build')).filter((f) => f.endsWith('.rpm'))).toEqual(['xcp-host-1.1.0-1.noarch.rpm']);
  });

  test('a key given by URL is used only if it has the pinned fingerprint', () => {
    const fpr = (file: string) => {
      const home = tempDir('yum-fpr');
      sh('gpg', ['--homedir', home, '--batch', '--import', file]);
      const out = sh('gpg', ['--homedir', home, '--batch', '--with-colons', '--list-keys']).out;
      sh('gpgconf', ['--homedir', home, '--kill', 'all']);
      removeDir(home);
      return out.split('\n').find((l) => l.startsWith('fpr'))!.split(':')[9];
    };
    writeFileSync(path.join(archive.dir, 'KEY'), readFileSync(archive.key));
    const byUrl = (fingerprint: string) => {
      const r = recipe(`key-url-${fingerprint.slice(0, 8)}`);
      writeFileSync(r, readFileSync(r, 'utf8').replace(`    keyring: ${archive.key}`, `    key:\n      url: ${nginx.url('upstream')}/KEY\n      fingerprint: ${fingerprint}`));
      return run(['lock', r]);
    };
    expect(byUrl(fpr(archive.key)).code).toBe(0);
    const wrong = byUrl(fpr(archive.otherKey));
    expect(wrong).toExitWith(7);
    expect(json<{ error: { message: string } }>(wrong).error.message).toContain(`does not hold the key ${fpr(archive.otherKey)} the recipe pins`);
  });

  test('lock refuses an archive whose repomd.xml is signed by another key than the recipe names', () => {
    const r = recipe('wrong-key');
    writeFileSync(r, readFileSync(r, 'utf8').replace(archive.key, archive.otherKey));
    const res = run(['lock', r]);
    expect(res.code).not.toBe(0);
    expect(json<{ error: { message: string } }>(res).error.message).toMatch(/an archive failed verification: .*GPG/);
  });
});

describe('yum update channels: nightly N, then N+1, and the admin\'s dnf upgrade', () => {
  const OLD_PINS = '    - { name: xcptest-xen-runtime, version: 4.17.6-1.fc99 }\n    - { name: xcptest-xen, version: 4.17.6-1.fc99 }';
  let pub: string;
  const channel = (c: string) => path.join(pub, 'xcp-test-fedora/channels', c);
  const revision = (c: string) => Number(/<revision>(\d+)<\/revision>/.exec(readFileSync(path.join(channel(c), 'repodata/repomd.xml'), 'utf8'))![1]);
  const channelRepo = (c: string) =>
    [
      '[xcp-channel]',
      'name=xcp channel',
      `baseurl=${nginx.url('channels')}/${c}/`,
      'gpgcheck=1',
      'repo_gpgcheck=1',
      'skip_if_unavailable=0',
      'metadata_expire=0',
      `gpgkey=file://${channel(c)}/RPM-GPG-KEY-xcp-test-fedora file://${channel(c)}/RPM-GPG-KEY-xcp-test-fedora-upstream`,
      '',
    ].join('\n');
  const dnf = (root: string, c: string, ...args: string[]) => {
    const reposdir = path.join(dir, `reposdir-channel-${path.basename(root)}`);
    mkdirSync(reposdir, { recursive: true });
    writeFileSync(path.join(reposdir, 'xcp.repo'), channelRepo(c));
    return sh('dnf', ['-y', '--installroot', root, '--releasever', '99', '--disableplugin=*', `--setopt=reposdir=${reposdir}`, `--setopt=cachedir=${path.join(root, '.dnf-cache')}`, '--setopt=install_weak_deps=0', ...args]);
  };
  const nightly = (r: string) => {
    const res = run(['--out', path.join(dir, 'out-nightly'), 'nightly', r, '--publish', pub]);
    expect(res).toExitWith(0);
    return json<{ version: string; release: string; channel?: { name: string } }>(res);
  };
  const xen = (root: string) => sh('rpm', ['--root', root, '-q', '--qf', '%{VERSION}-%{RELEASE}', 'xcptest-xen']).out.trim();

  test('a host installed from the nightly channel at N upgrades to N+1 with dnf upgrade (gpgcheck, repo_gpgcheck); the revision only increases', async () => {
    pub = path.join(dir, 'pub');
    mkdirSync(pub, { recursive: true });
    const channels = path.join(pub, 'xcp-test-fedora/channels');
    mkdirSync(channels, { recursive: true });
    await nginx.stop();
    nginx = await startNginx({ upstream: archive.dir, xcp: published, channels });
    const older = recipe('channel-old', OLD_PINS);
    const n = nightly(older);
    expect(n.channel?.name).toBe('nightly');
    const root = path.join(dir, 'root-channel');
    const install = dnf(root, 'nightly', 'install', 'xenserver-core');
    expect(`${install.code} ${install.code ? install.out : ''}`).toBe('0 ');
    expect(xen(root)).toBe('4.17.6-1.fc99');
    const firstRevision = revision('nightly');

    const n1 = nightly(recipe('channel-new'));
    expect(revision('nightly')).toBeGreaterThan(firstRevision);
    const upgrade = dnf(root, 'nightly', 'upgrade', '--refresh');
    expect(upgrade.out).not.toMatch(/GPG check FAILED|not signed/);
    expect(`${upgrade.code} ${upgrade.code ? upgrade.out : ''}`).toBe('0 ');
    expect(xen(root)).toBe('4.17.7-1.fc99');
    expect(sh('rpm', ['--root', root, '-q', 'xenserver-core']).out).toContain(`xenserver-core-${n1.version}-1`);

    // Promoting the older release after the newer still moves the channel's revision forward.
    expect(run(['promote', n1.release, '--channel', 'stable'])).toExitWith(0);
    const stableFirst = revision('stable');
    expect(run(['promote', n.release, '--channel', 'stable'])).toExitWith(0);
    expect(revision('stable')).toBeGreaterThan(stableFirst);
    // The channel's repodata is the release's, byte for byte, except the revision.
    const names = readdirSync(path.join(n.release, 'repo/repodata')).filter((f) => !f.startsWith('repomd.xml'));
    for (const f of names) expect(sha256(path.join(channel('stable'), 'repodata', f))).toBe(sha256(path.join(n.release, 'repo/repodata', f)));
    const refresh = run(['channel', 'refresh', channel('stable')]);
    expect(refresh).toExitWith(2);
    expect(json<{ error: { message: string } }>(refresh).error.message).toContain('no Valid-Until');
  });
});
