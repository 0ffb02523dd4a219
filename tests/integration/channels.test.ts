import { readFileSync, writeFileSync, existsSync, chmodSync, readdirSync, mkdirSync, cpSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { xcpbuild, json, projectRoot } from '../helpers/cli';
import { tempDir, removeDir } from '../helpers/tmp';
import { startNginx, Nginx } from '../helpers/nginx';
import { makeAptRoot, AptRoot } from '../helpers/apt-root';
import { parseDeb822 } from '../../src/format/deb/deb822';

jest.setTimeout(1_800_000);

// The nightly tests' repository-only recipe: each nightly is a release with its own
// metapackage version, so five nightlies are five different Packages indexes.
const fixture = path.join(projectRoot, 'tests/fixtures/recipes/xcp-nightly-test.yaml');
const NAME = 'xcp-nightly-test';

interface Summary {
  version: string;
  release: string;
  channel?: { name: string; root: string; validUntil?: string };
}

let dir: string;
let pub: string;
let out: string;
let nginx: Nginx;
const releases: Summary[] = [];

const channelRoot = (c: string) => path.join(pub, NAME, 'channels', c);
const releasePackages = (release: string) => readFileSync(path.join(release, 'repo/dists/bookworm/main/binary-amd64/Packages'), 'utf8');
const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');
const fields = (file: string) => parseDeb822(readFileSync(file, 'utf8'))[0];
const keyring = (c: string) => path.join(channelRoot(c), `${NAME}-archive-keyring.gpg`);
const metaVersion = (packages: string) => parseDeb822(packages).find((p) => p.Package === 'xenserver-core')?.Version;

function nightly(): Summary {
  const res = xcpbuild(['--json', '--out', out, 'nightly', fixture, '--publish', pub, '--keep', '10', '--skip-piuparts']);
  if (res.code !== 0) throw new Error(`nightly failed (${res.code}): ${res.stderr}`);
  const s = json<Summary>(res);
  releases.push(s);
  return s;
}

function follower(c: string): AptRoot {
  return makeAptRoot(path.join(dir, `apt-${c}-${Math.random().toString(16).slice(2)}`), { url: `${nginx.url(`pub/${NAME}/channels/${c}`)}/`, suite: c, keyring: keyring(c) });
}

beforeAll(async () => {
  dir = tempDir('channels');
  chmodSync(dir, 0o755); // nginx's workers read the publish directory
  pub = path.join(dir, 'pub');
  out = path.join(dir, 'out');
  mkdirSync(pub);
  nginx = await startNginx({ pub });
});
afterAll(async () => {
  await nginx?.stop();
  removeDir(dir);
});

describe('update channels (real apt against nginx, real gpg)', () => {
  test('a passing nightly goes to the nightly channel: Suite, Acquire-By-Hash, Valid-Until from the recipe; apt follows it', () => {
    const first = nightly();
    expect(first.channel?.name).toBe('nightly');
    const dist = path.join(channelRoot('nightly'), 'dists/nightly');
    const release = fields(path.join(dist, 'Release'));
    expect(release).toMatchObject({ Suite: 'nightly', Codename: 'bookworm', 'Acquire-By-Hash': 'yes' });
    // The default validity of a nightly channel: 7 days from the signing time.
    expect(Date.parse(release['Valid-Until']) - Date.parse(release.Date)).toBe(7 * 86400 * 1000);
    expect(Math.abs(Date.parse(release.Date) - Date.now())).toBeLessThan(600_000);
    for (const f of ['Packages', 'Packages.gz', 'Packages.xz']) {
      const bytes = readFileSync(path.join(dist, 'main/binary-amd64', f));
      expect(existsSync(path.join(dist, 'main/binary-amd64/by-hash/SHA256', sha256(bytes)))).toBe(true);
      // The channel serves the release's own indexes, byte for byte.
      expect(sha256(bytes)).toBe(sha256(readFileSync(path.join(first.release, 'repo/dists/bookworm/main/binary-amd64', f))));
    }
    const apt = follower('nightly');
    const update = apt.update();
    expect(update.output).not.toMatch(/^(E|W):/m);
    expect(update.code).toBe(0);
    expect(apt.packages().sha256).toBe(sha256(releasePackages(first.release)));
    // apt fetched the index by its hash.
    expect(readFileSync(path.join(nginx.dir, 'access.log'), 'utf8')).toMatch(/GET \/pub\/xcp-nightly-test\/channels\/nightly\/dists\/nightly\/main\/binary-amd64\/by-hash\/SHA256\/[0-9a-f]{64} HTTP\/1\.1" 200/);
  });

  test('five releases published and promoted while apt follows both channels: every update succeeds and sees one whole release', async () => {
    const followers = ['nightly', 'stable'].map((c) => ({ c, apt: follower(c), results: path.join(dir, `results-${c}`) }));
    const stop = path.join(dir, 'stop');
    expect(xcpbuild(['promote', releases[0].release, '--channel', 'stable'])).toExitWith(0);
    const loops = followers.map(({ apt, results }) => {
      const script = `while [ ! -e "$1" ]; do apt-get update -q >>"$2.log" 2>&1; rc=$?; echo "$rc $(cat "$3"/var/lib/apt/lists/*_Packages | sha256sum | cut -d' ' -f1)" >>"$2"; done`;
      const child = spawn('bash', ['-c', script, '_', stop, results, apt.dir], { env: { ...process.env, ...apt.env }, stdio: 'ignore' });
      return new Promise<void>((resolve) => child.on('exit', () => resolve()));
    });
    for (let i = 1; i < 5; i++) {
      const s = nightly();
      expect(xcpbuild(['promote', s.release, '--channel', 'stable'])).toExitWith(0);
    }
    writeFileSync(stop, '');
    await Promise.all(loops);
    const published = new Set(releases.map((r) => sha256(releasePackages(r.release))));
    expect(published.size).toBe(5);
    for (const { c, results } of followers) {
      const lines = readFileSync(results, 'utf8').trim().split('\n');
      expect(lines.length).toBeGreaterThan(10);
      const bad = lines.filter((l) => !/^0 [0-9a-f]{64}$/.test(l) || !published.has(l.split(' ')[1]));
      expect({ channel: c, bad, log: bad.length ? readFileSync(`${results}.log`, 'utf8').split('\n').filter((l) => /^(E|W):/.test(l)).slice(0, 5) : [] }).toEqual({ channel: c, bad: [], log: [] });
      // It saw more than one release move past.
      expect(new Set(lines.map((l) => l.split(' ')[1])).size).toBeGreaterThan(1);
    }
    const last = releases[4];
    for (const c of ['nightly', 'stable']) {
      const apt = follower(c);
      expect(apt.update().code).toBe(0);
      expect(metaVersion(apt.packages().text)).toBe(metaVersion(releasePackages(last.release)));
    }
  });

  test('promote publishes byte-identical packages; a channel keeps the indexes and pool of its last --keep publications', () => {
    for (const r of releases.slice(0, 3)) expect(xcpbuild(['promote', r.release, '--channel', 'testing', '--keep', '2'])).toExitWith(0);
    const root = channelRoot('testing');
    const record = JSON.parse(readFileSync(path.join(root, 'channel.json'), 'utf8')) as { publications: { version: string }[] };
    expect(record.publications.map((p) => p.version)).toEqual(releases.slice(1, 3).map((r) => r.version));
    const pool = (r: Summary) => parseDeb822(releasePackages(r.release));
    for (const st of pool(releases[2])) {
      expect(sha256(readFileSync(path.join(root, st.Filename)))).toBe(st.SHA256);
      expect(readFileSync(path.join(root, st.Filename)).equals(readFileSync(path.join(releases[2].release, 'repo', st.Filename)))).toBe(true);
    }
    const meta = (r: Summary) => pool(r).find((p) => p.Package === 'xenserver-core')!;
    // The oldest publication's own package and index went; the previous one's stay (a client may still hold its InRelease).
    expect(existsSync(path.join(root, meta(releases[0]).Filename))).toBe(false);
    expect(existsSync(path.join(root, meta(releases[1]).Filename))).toBe(true);
    const byHash = readdirSync(path.join(root, 'dists/testing/main/binary-amd64/by-hash/SHA256'));
    expect(byHash).toContain(sha256(releasePackages(releases[1].release)));
    expect(byHash).not.toContain(sha256(releasePackages(releases[0].release)));
    expect(byHash).toHaveLength(2 * 3);
  });

  test('a Release past its Valid-Until is refused by apt; channel refresh re-signs it, changing only Date and Valid-Until', () => {
    const apt = follower('nightly');
    expect(apt.update().code).toBe(0);
    const later = apt.update('+8d');
    expect(later.code).not.toBe(0);
    expect(later.output).toMatch(/is expired/);
    const dist = path.join(channelRoot('nightly'), 'dists/nightly');
    const before = readFileSync(path.join(dist, 'Release'), 'utf8');
    const indexes = readdirSync(path.join(dist, 'main/binary-amd64')).map((f) => f);
    const res = spawnSync('faketime', ['-f', '+8d', process.execPath, path.join(projectRoot, 'dist/cli.js'), 'channel', 'refresh', channelRoot('nightly')], { encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    const after = readFileSync(path.join(dist, 'Release'), 'utf8');
    const stable = (t: string) => t.split('\n').filter((l) => !/^(Date|Valid-Until):/.test(l));
    expect(stable(after)).toEqual(stable(before));
    expect(after).not.toEqual(before);
    expect(readdirSync(path.join(dist, 'main/binary-amd64'))).toEqual(indexes);
    const gpgv = spawnSync('gpgv', ['--keyring', keyring('nightly'), path.join(dist, 'InRelease')], { encoding: 'utf8' });
    expect(gpgv.status).toBe(0);
    expect(apt.update('+8d').code).toBe(0);
  });

  test('promote refuses a damaged release and a key the release is not signed by, touching no channel', () => {
    const copy = path.join(dir, 'tampered', NAME, releases[0].version);
    mkdirSync(path.dirname(copy), { recursive: true });
    cpSync(releases[0].release, copy, { recursive: true });
    const packages = path.join(copy, 'repo/dists/bookworm/main/binary-amd64/Packages');
    writeFileSync(packages, readFileSync(packages, 'utf8').replace(/^Version: 3\./m, 'Version: 9.'));
    const damaged = xcpbuild(['promote', copy, '--channel', 'stable']);
    expect(damaged).toExitWith(7);
    expect(damaged.stderr).toContain('verify-release finds');
    expect(existsSync(path.join(dir, 'tampered', NAME, 'channels'))).toBe(false);

    expect(xcpbuild(['genkey', '--dir', path.join(dir, 'otherkey'), '--name', 'other'])).toExitWith(0);
    const before = readFileSync(path.join(channelRoot('stable'), 'dists/stable/InRelease'));
    const otherKey = xcpbuild(['--signing-key', path.join(dir, 'otherkey', 'other.key.asc'), 'promote', releases[1].release, '--channel', 'stable']);
    expect(otherKey).toExitWith(3);
    expect(otherKey.stderr).toContain('is not the key the release is signed by');
    expect(readFileSync(path.join(channelRoot('stable'), 'dists/stable/InRelease')).equals(before)).toBe(true);
    expect(xcpbuild(['promote', releases[1].release, '--channel', 'Stable!'])).toExitWith(2);
  });
});
