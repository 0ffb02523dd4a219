import { readFileSync, writeFileSync, readdirSync, readlinkSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import Ajv from 'ajv';
import { xcpbuild, json, startXcpbuild, projectRoot } from '../helpers/cli';
import { tempDir, removeDir, copyDefaultRecipe } from '../helpers/tmp';
import { parseDeb822 } from '../../src/format/deb/deb822';

jest.setTimeout(1_800_000);

// A repository-only recipe pinning openssl, which has versions in bookworm and in
// bookworm-security: moving the pin between two nightlies is a real upgrade with
// real changelog entries and CVE ids.
const fixture = path.join(projectRoot, 'tests/fixtures/recipes/xcp-nightly-test.yaml');
const OLD = '3.0.20-1~deb12u2';
const NEW = '3.0.22-1~deb12u2';

interface Summary {
  ok: boolean;
  version: string;
  release: string;
  previous?: string;
  pruned: string[];
  changes: { added: number; removed: number; changed: number; cves: string[] };
}
interface Changes {
  previous?: string;
  changed: { name: string; from: string; to: string; kind: string; entries: { version: string; text: string }[]; cves: string[] }[];
  cves: string[];
}

let dir: string;
let pub: string;
let out: string;

function recipeWith(version: string, name = 'xcp-nightly-test.yaml'): string {
  const file = path.join(dir, name);
  writeFileSync(file, readFileSync(fixture, 'utf8').replace(OLD, version));
  return file;
}

function nightly(recipe: string, ...extra: string[]): Summary {
  const res = xcpbuild(['--json', '--out', out, 'nightly', recipe, '--publish', pub, ...extra]);
  if (res.code !== 0) throw new Error(`nightly failed (${res.code}): ${res.stdout}\n${res.stderr}`);
  return json<Summary>(res);
}

const published = (release: string) => new Map(parseDeb822(readFileSync(path.join(release, 'repo/dists/bookworm/main/binary-amd64/Packages'), 'utf8')).map((st) => [st.Package, st]));
const root = () => path.join(pub, 'xcp-nightly-test');
const versions = () => readdirSync(root()).filter((n) => !n.startsWith('.') && n !== 'latest' && n !== 'channels').sort();
const gateOf = (release: string) => (JSON.parse(readFileSync(path.join(release, 'release.json'), 'utf8')) as { bootTest: { installCheck?: unknown } }).bootTest;
const dpkgGt = (a: string, b: string) => spawnSync('dpkg', ['--compare-versions', a, 'gt', b]).status === 0;

beforeAll(() => {
  dir = tempDir('nightly');
  pub = path.join(dir, 'pub');
  out = path.join(dir, 'out');
});
afterAll(() => removeDir(dir));

describe('xcpbuild nightly (repository-only recipe, real archive, real gpg)', () => {
  let first: Summary;
  let second: Summary;

  test('the first nightly publishes a dated, signed release and points latest at it', () => {
    first = nightly(recipeWith(OLD));
    expect(first.version).toMatch(/^1\.0\.0\+nightly\.\d{8}$/);
    expect(readlinkSync(path.join(root(), 'latest'))).toBe(first.version);
    const files = readdirSync(first.release).sort();
    expect(files).toEqual(expect.arrayContaining(['CHANGES.md', 'SHA256SUMS', 'SHA256SUMS.asc', 'SHA512SUMS', 'SHA512SUMS.asc', 'changes.json', 'release.json', 'repo', 'sbom.spdx.json', 'signing-key.asc', 'signing-key.gpg', 'xcp-nightly-test.lock']));
    const packages = published(first.release);
    expect(packages.get('xenserver-core')?.Version).toBe(first.version);
    expect(packages.get('openssl')?.Version).toBe(OLD);
    const changes = JSON.parse(readFileSync(path.join(first.release, 'changes.json'), 'utf8')) as Changes;
    expect(changes.previous).toBeUndefined();
    expect(xcpbuild(['verify-release', path.join(root(), 'latest')]).code).toBe(0);
    // piuparts gated it: install → purge of its own package (no previous release to upgrade from).
    expect(gateOf(first.release).installCheck).toEqual({ gate: 'passed', runs: [{ mode: 'install-purge', ok: true }] });
  });

  test('the SBOM is valid SPDX 2.3 (the published JSON schema) and lists every package with purl, sha256 and source', () => {
    const schema = JSON.parse(readFileSync(path.join(projectRoot, 'tests/fixtures/spdx/spdx-2.3.schema.json'), 'utf8'));
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    const sbom = JSON.parse(readFileSync(path.join(first.release, 'sbom.spdx.json'), 'utf8'));
    const valid = validate(sbom);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    const lock = JSON.parse(readFileSync(path.join(first.release, 'xcp-nightly-test.lock'), 'utf8')) as { packages: { name: string; version: string; sha256: string; source: string }[] };
    type P = { name: string; versionInfo: string; checksums: { checksumValue: string }[]; externalRefs?: { referenceLocator: string }[]; sourceInfo?: string; licenseDeclared: string };
    const byName = new Map((sbom.packages as P[]).map((p) => [p.name, p]));
    for (const l of lock.packages) {
      const p = byName.get(l.name)!;
      expect(p).toBeDefined();
      expect(p.versionInfo).toBe(l.version);
      expect(p.checksums[0].checksumValue).toBe(l.sha256);
      expect(p.externalRefs![0].referenceLocator).toBe(`pkg:deb/debian/${encodeURIComponent(l.name)}@${encodeURIComponent(l.version)}?arch=${p.externalRefs![0].referenceLocator.match(/arch=([^&]+)/)![1]}&distro=bookworm`);
      expect(p.sourceInfo).toContain(l.source);
    }
    // openssl's copyright file is machine-readable: its license is declared (Apache-2.0 for OpenSSL 3).
    expect(byName.get('openssl')!.licenseDeclared).toBe('Apache-2.0');
    expect(byName.get('xenserver-core')!.externalRefs![0].referenceLocator).toMatch(/^pkg:deb\/xcpbuild\/xenserver-core@1\.0\.0%2Bnightly\.\d{8}\?arch=all&distro=bookworm$/);
  });

  test('a second nightly the same day gets .1, and its changelog names the upgrade, its entries and its CVEs', () => {
    second = nightly(recipeWith(NEW));
    expect(second.version).toBe(`${first.version}.1`);
    expect(second.previous).toBe(first.version);
    expect(readlinkSync(path.join(root(), 'latest'))).toBe(second.version);
    const changes = JSON.parse(readFileSync(path.join(second.release, 'changes.json'), 'utf8')) as Changes;
    const openssl = changes.changed.find((c) => c.name === 'openssl')!;
    expect(openssl).toMatchObject({ from: OLD, to: NEW, kind: 'upgraded' });
    expect(openssl.entries[0].version).toBe(NEW);
    for (const e of openssl.entries) {
      expect(dpkgGt(e.version, OLD)).toBe(true);
      expect(dpkgGt(e.version, NEW)).toBe(false);
    }
    // The oracle: the CVE ids in the new package's changelog above the old version's entry.
    const deb = path.join(second.release, 'repo', published(second.release).get('openssl')!.Filename);
    const cl = spawnSync('bash', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -xO ./usr/share/doc/openssl/changelog.Debian.gz | zcat', '_', deb], { encoding: 'utf8' }).stdout;
    const newer = cl.slice(0, cl.indexOf(`openssl (${OLD})`));
    const expected = [...new Set(newer.match(/CVE-\d{4}-\d{4,}/g) ?? [])].sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(openssl.cves).toEqual(expected);
    expect(changes.cves).toEqual(expect.arrayContaining(expected));
    const md = readFileSync(path.join(second.release, 'CHANGES.md'), 'utf8');
    expect(md).toContain(`### openssl ${OLD} → ${NEW} (upgraded)`);
    expect(md).toContain(expected[0]);
    expect(xcpbuild(['verify-release', second.release]).code).toBe(0);
    // With a previous release, piuparts also installed from it, upgraded to this one and purged.
    expect(gateOf(second.release).installCheck).toEqual({ gate: 'passed', runs: [{ mode: 'install-purge', ok: true }, { mode: 'upgrade', ok: true }] });
  });

  test('verify-release finds a changed file and a signature by another key', () => {
    const copy = path.join(dir, 'tampered');
    spawnSync('cp', ['-a', second.release, copy]);
    const packages = path.join(copy, 'repo/dists/bookworm/main/binary-amd64/Packages');
    writeFileSync(packages, readFileSync(packages, 'utf8').replace(/Version: 3\.0\.22/, 'Version: 3.0.23'));
    const res = xcpbuild(['verify-release', copy]);
    expect(res).toExitWith(7);
    expect(res.stderr).toContain('repo/dists/bookworm/main/binary-amd64/Packages: sha256 does not match SHA256SUMS');
    expect(res.stderr).toContain('is in the repository but not in the SBOM');
    const other = xcpbuild(['genkey', '--dir', path.join(dir, 'otherkey'), '--name', 'other']);
    expect(other).toExitWith(0);
    const keyring = path.join(dir, 'other.gpg');
    spawnSync('gpg', ['--batch', '--yes', '--dearmor', '--output', keyring, path.join(dir, 'otherkey', 'other.pub.asc')]);
    const wrongKey = xcpbuild(['verify-release', second.release, '--keyring', keyring]);
    expect(wrongKey).toExitWith(7);
    expect(wrongKey.stderr).toContain('SHA256SUMS.asc: the signature does not verify');
  });

  test('a kill while publishing leaves latest on a complete release; the next run cleans up and publishes', async () => {
    const run = startXcpbuild(['--out', out, 'nightly', recipeWith(NEW), '--publish', pub, '--skip-piuparts']);
    const deadline = Date.now() + 300_000;
    while (!readdirSync(root()).some((n) => n.startsWith('.staging-')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(root()).some((n) => n.startsWith('.staging-'))).toBe(true);
    run.kill('SIGKILL');
    await run.done;
    expect(readlinkSync(path.join(root(), 'latest'))).toBe(second.version);
    expect(xcpbuild(['verify-release', path.join(root(), 'latest')]).code).toBe(0);
    const third = nightly(recipeWith(NEW), '--keep', '2', '--skip-piuparts');
    expect(readdirSync(root()).filter((n) => n.startsWith('.'))).toEqual(['.lock']);
    expect(third.version).toBe(`${first.version}.2`);
    // Retention: the newest two stay, the oldest went, after latest moved.
    expect(third.pruned).toEqual([first.version]);
    expect(versions()).toEqual([second.version, third.version].sort());
    expect(readlinkSync(path.join(root(), 'latest'))).toBe(third.version);
  });

  test('two nightlies from the same archive state are bit-identical (separate out and publish directories)', () => {
    const a = xcpbuild(['--json', '--out', path.join(dir, 'out-a'), 'nightly', recipeWith(NEW, 'a.yaml'), '--publish', path.join(dir, 'pub-a'), '--skip-piuparts']);
    const b = xcpbuild(['--json', '--out', path.join(dir, 'out-b'), 'nightly', recipeWith(NEW, 'b.yaml'), '--publish', path.join(dir, 'pub-b'), '--skip-piuparts'], { env: { TZ: 'Asia/Tokyo' } });
    expect([a.code, b.code]).toEqual([0, 0]);
    const sums = (r: typeof a) => readFileSync(path.join(json<Summary>(r).release, 'SHA256SUMS'), 'utf8').split('\n').filter((l) => !l.endsWith('.lock'));
    expect(sums(a)).toEqual(sums(b));
  });
});

describe('offline builds', () => {
  test('after fetch, a build inside a network namespace without network succeeds with --offline', () => {
    const work = tempDir('offline');
    try {
      const recipe = copyDefaultRecipe(work);
      const wOut = path.join(work, 'out');
      expect(xcpbuild(['--locked', '--out', wOut, 'fetch', recipe]).code).toBe(0);
      const res = spawnSync('unshare', ['-n', '--', process.execPath, path.join(projectRoot, 'dist/cli.js'), '--offline', '--locked', '--out', wOut, 'repo', recipe], { encoding: 'utf8', cwd: projectRoot });
      expect(res.stderr).not.toContain('error');
      expect(res.status).toBe(0);
      // The namespace really has no network.
      const noNet = spawnSync('unshare', ['-n', '--', 'getent', 'ahosts', 'deb.debian.org'], { encoding: 'utf8' });
      expect(noNet.status).not.toBe(0);
    } finally {
      removeDir(work);
    }
  });
});

describe('the boot test gates the release', () => {
  test('a nightly whose ISO fails the boot test publishes nothing and says why', () => {
    const work = tempDir('nightly-gate');
    try {
      const recipe = copyDefaultRecipe(work);
      const gatePub = path.join(work, 'pub');
      mkdirSync(gatePub);
      const res = xcpbuild(['--out', path.join(work, 'out'), 'nightly', recipe, '--publish', gatePub, '--firmware', 'uefi', '--install-timeout', '0.1']);
      expect(res).toExitWith(7);
      expect(res.stderr).toMatch(/boot test failed, nothing was published: uefi: .*install/);
      expect(readdirSync(path.join(gatePub, 'xcp-bookworm'))).toEqual(['.lock']);
    } finally {
      removeDir(work);
    }
  });
});
