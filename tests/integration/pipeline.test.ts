import { promises as fs, readFileSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { xcpbuild, json } from '../helpers/cli';
import { tempDir, removeDir, copyDefaultRecipe } from '../helpers/tmp';
import { parseDeb822 } from '../../src/format/deb/deb822';

jest.setTimeout(600_000);

interface StageResult {
  id: string;
  status: 'up-to-date' | 'built';
  reasons: string[];
}
interface RunResult {
  ok: boolean;
  stages: StageResult[];
  notes: string[];
  log: string;
}

let dir: string;
let recipe: string;
let out: string;
let cache: string;
const env = () => ({ XCPBUILD_CACHE: cache, SOURCE_DATE_EPOCH: '1780000000' });

function build(target: string, ...extra: string[]): RunResult {
  const res = xcpbuild(['--json', '--locked', '--out', out, ...extra, target, recipe], { env: env() });
  if (res.code !== 0) throw new Error(`xcpbuild ${target} failed (${res.code}): ${res.stdout}\n${res.stderr}`);
  return json<RunResult>(res);
}
const statuses = (r: RunResult) => Object.fromEntries(r.stages.map((s) => [s.id, s.status]));

beforeAll(() => {
  dir = tempDir('pipeline');
  recipe = copyDefaultRecipe(dir);
  out = path.join(dir, 'out');
  cache = path.join(dir, 'cache');
});
afterAll(() => removeDir(dir));

describe('recipe → lock → fetch → meta → repo', () => {
  test('a cold build makes every stage, and the repository holds the closure and the metapackages', () => {
    const r = build('repo');
    expect(statuses(r)).toEqual({ lock: 'up-to-date', fetch: 'built', build: 'built', meta: 'built', repo: 'built' });
    expect(existsSync(r.log)).toBe(true);
    const repo = path.join(out, 'xcp-bookworm', 'repo');
    const packages = readFileSync(path.join(repo, 'dists/bookworm/main/binary-amd64/Packages'), 'utf8');
    const lock = JSON.parse(readFileSync(recipe.replace('.yaml', '.lock'), 'utf8')) as { packages: { name: string; version: string }[] };
    const published = parseDeb822(packages).map((st) => `${st.Package} ${st.Version}`).sort();
    const expected = [...lock.packages.map((p) => `${p.name} ${p.version}`), 'xcp-full 1.0.0', 'xcp-host 1.1.0-1', 'xenserver-core 1.0.0'].sort();
    expect(published).toEqual(expected);
    for (const f of ['Packages.gz', 'Packages.xz']) expect(existsSync(path.join(repo, 'dists/bookworm/main/binary-amd64', f))).toBe(true);
    const release = readFileSync(path.join(repo, 'dists/bookworm/Release'), 'utf8');
    expect(release).toContain('Date: Thu, 28 May 2026 20:26:40 UTC');
    expect(release).toMatch(/SHA256:\n( \w{64} +\d+ main\/binary-amd64\/Packages(\.gz|\.xz)?\n){3}/);
    expect(readdirSync(repo).sort()).toEqual(['.xcpbuild-stage.json', 'dists', 'pool', 'xcp-bookworm-archive-keyring.asc', 'xcp-bookworm-archive-keyring.gpg', 'xcp-bookworm.sources']);
    expect(readFileSync(path.join(repo, 'xcp-bookworm.sources'), 'utf8')).toContain('Signed-By: /usr/share/keyrings/xcp-bookworm-archive-keyring.gpg');
  });

  test("the source package was built in a clean root made from the lock's build closure, not on the host", () => {
    const r = build('build');
    expect(statuses(r).build).toBe('up-to-date');
    const lock = JSON.parse(readFileSync(recipe.replace('.yaml', '.lock'), 'utf8')) as { build?: { name: string }[] };
    expect(lock.build?.map((p) => p.name)).toEqual(expect.arrayContaining(['dpkg', 'base-files', 'tar']));
    const logs = readdirSync(path.join(out, 'xcp-bookworm', 'logs')).map((f) => readFileSync(path.join(out, 'xcp-bookworm', 'logs', f), 'utf8')).join('\n');
    // dpkg-deb wrote its output at the path the work directory has inside the root.
    expect(logs).toContain("dpkg-deb: building package 'xcp-host' in '/build/out/xcp-host_1.1.0-1_all.deb'");
    expect(logs).toMatch(/build: xcp-host_1\.1\.0-1_all\.deb from .*: dpkg-deb ran in a clean bookworm root .*\(\d+ packages: Priority required\)/);
  });

  test('InRelease and Release.gpg verify against the exported keyring, and no private key is in the output', () => {
    const repo = path.join(out, 'xcp-bookworm', 'repo');
    const keyring = path.join(repo, 'xcp-bookworm-archive-keyring.gpg');
    const clear = spawnSync('gpgv', ['--keyring', keyring, path.join(repo, 'dists/bookworm/InRelease')], { encoding: 'utf8' });
    expect(clear.status).toBe(0);
    const detached = spawnSync('gpgv', ['--keyring', keyring, path.join(repo, 'dists/bookworm/Release.gpg'), path.join(repo, 'dists/bookworm/Release')], { encoding: 'utf8' });
    expect(detached.status).toBe(0);
    const grep = spawnSync('grep', ['-rl', '--exclude-dir=pool', 'PRIVATE KEY', path.join(out, 'xcp-bookworm')], { encoding: 'utf8' });
    expect(grep.stdout).toBe('');
  });

  test('lintian finds no errors or warnings in xcp-host, built from sources/xcp-host', () => {
    const build = path.join(out, 'xcp-bookworm', 'build');
    expect(readdirSync(build).filter((f) => !f.startsWith('.'))).toEqual(['xcp-host_1.1.0-1_all.deb']);
    // initial-upload-closes-no-bugs: xcp-host is not in Debian, so there is no ITP bug to close
    const res = spawnSync('lintian', ['--fail-on', 'error,warning', '--suppress-tags', 'initial-upload-closes-no-bugs', path.join(build, 'xcp-host_1.1.0-1_all.deb')], { encoding: 'utf8' });
    expect(`${res.status} ${res.stdout}`).toBe('0 ');
    const full = spawnSync('dpkg-deb', ['-f', path.join(out, 'xcp-bookworm', 'meta', 'xcp-full_1.0.0_all.deb'), 'Depends'], { encoding: 'utf8' }).stdout;
    expect(full).toContain('xcp-host (= 1.1.0-1)');
  });

  test('lintian finds no errors in the metapackages', () => {
    const meta = path.join(out, 'xcp-bookworm', 'meta');
    const debs = readdirSync(meta).filter((f) => f.endsWith('.deb')).map((f) => path.join(meta, f));
    expect(debs.map((d) => path.basename(d)).sort()).toEqual(['xcp-full_1.0.0_all.deb', 'xenserver-core_1.0.0_all.deb']);
    const res = spawnSync('lintian', ['--fail-on', 'error', ...debs], { encoding: 'utf8' });
    expect(res.stdout).not.toMatch(/^E: /m);
    expect(res.status).toBe(0);
    const control = spawnSync('dpkg-deb', ['-f', debs.find((d) => d.includes('xenserver-core'))!, 'Depends'], { encoding: 'utf8' }).stdout;
    expect(control).toContain('xen-hypervisor-4.17-amd64 (= 4.17.7+13-g2445b30a44-0+deb12u1)');
    expect(control).toContain('linux-image-6.1.0-56-amd64 (= 6.1.192-2)');
  });

  test('a second run with nothing changed does no work', () => {
    const r = build('repo');
    expect(statuses(r)).toEqual({ lock: 'up-to-date', fetch: 'up-to-date', build: 'up-to-date', meta: 'up-to-date', repo: 'up-to-date' });
  });

  test('after a change only the affected stages run, each saying why', async () => {
    const text = readFileSync(recipe, 'utf8').replace('remote administration over SSH', 'remote administration over SSH (changed)');
    await fs.writeFile(recipe, text);
    const r = build('repo');
    expect(statuses(r)).toEqual({ lock: 'up-to-date', fetch: 'up-to-date', build: 'up-to-date', meta: 'built', repo: 'built' });
    expect(r.stages.find((s) => s.id === 'meta')!.reasons).toEqual(['recipe.metapackages changed']);
    expect(r.stages.find((s) => s.id === 'repo')!.reasons).toEqual(['meta changed']);
  });

  test('a corrupted cache entry is detected and fetched again', async () => {
    const lock = JSON.parse(readFileSync(recipe.replace('.yaml', '.lock'), 'utf8')) as { packages: { name: string; sha256: string }[] };
    const victim = lock.packages.find((p) => p.name === 'xen-hypervisor-4.17-amd64')!;
    const file = path.join(cache, 'sha256', victim.sha256.slice(0, 2), victim.sha256);
    const fh = await fs.open(file, 'r+');
    await fh.write(Buffer.from([0xff, 0xff, 0xff, 0xff]), 0, 4, 1000);
    await fh.close();
    const r = build('fetch');
    const fetch = r.stages.find((s) => s.id === 'fetch')!;
    expect(fetch.status).toBe('built');
    expect(fetch.reasons).toEqual(['1 cached file(s) missing or changed']);
    const lockFile = JSON.parse(readFileSync(recipe.replace('.yaml', '.lock'), 'utf8')) as { packages: { sha256: string }[]; installer?: { sha256: string }[]; test?: { sha256: string }[]; build?: { sha256: string }[] };
    const files = new Set([...lockFile.packages, ...(lockFile.installer ?? []), ...(lockFile.test ?? []), ...(lockFile.build ?? [])].map((p) => p.sha256)).size;
    expect(r.notes).toContain(`fetch: 1 file(s) downloaded (2.2 MiB), ${files - 1} already cached`);
    const sum = spawnSync('sha256sum', [file], { encoding: 'utf8' }).stdout.split(' ')[0];
    expect(sum).toBe(victim.sha256);
    expect(xcpbuild(['--json', 'verify', recipe], { env: env() }).code).toBe(0);
  });

  test('--offline builds from the cache alone', () => {
    removeDir(path.join(out, 'xcp-bookworm', 'repo'));
    const r = build('repo', '--offline');
    expect(statuses(r)).toEqual({ lock: 'up-to-date', fetch: 'up-to-date', build: 'up-to-date', meta: 'up-to-date', repo: 'built' });
    expect(r.stages.find((s) => s.id === 'repo')!.reasons).toEqual(['no previous output']);
  });

  test('a failed build leaves the previous output whole and no staging directories', () => {
    const repo = path.join(out, 'xcp-bookworm', 'repo');
    const before = readFileSync(path.join(repo, 'dists/bookworm/InRelease'), 'utf8');
    const badKey = path.join(dir, 'not-a-key.asc');
    require('node:fs').writeFileSync(badKey, 'this is not a key\n');
    const text = readFileSync(recipe, 'utf8').replace('description: xenserver-core and xcp-full', 'description: rebuilt xenserver-core and xcp-full');
    require('node:fs').writeFileSync(recipe, text);
    const res = xcpbuild(['--locked', '--out', out, '--signing-key', badKey, 'repo', recipe], { env: env() });
    expect(res).toExitWith(3);
    expect(res.stderr).toMatch(/xcpbuild: error: importing the signing key .*not-a-key\.asc \(--signing-key\) failed/);
    expect(readFileSync(path.join(repo, 'dists/bookworm/InRelease'), 'utf8')).toBe(before);
    expect(readdirSync(path.join(out, 'xcp-bookworm')).filter((n) => n.startsWith('.staging') || n.includes('.old-'))).toEqual([]);
  });

  test('plan prints every stage with its input hash', () => {
    const res = xcpbuild(['--out', out, 'plan', recipe], { env: env() });
    expect(res).toExitWith(0);
    for (const id of ['lock', 'fetch', 'build', 'meta', 'repo']) expect(res.stdout).toMatch(new RegExp(`^  ${id} +[0-9a-f]{16}  (network|offline)`, 'm'));
    expect(res.stdout).toMatch(/repo\s+will run: recipe\.repository changed/);
  });
});
