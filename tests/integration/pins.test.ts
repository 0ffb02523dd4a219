import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { xcpbuild, json, projectRoot } from '../helpers/cli';
import { tempDir, removeDir } from '../helpers/tmp';

jest.setTimeout(900_000);

// The nightly fixture pins openssl at a bookworm version that bookworm-security has
// newer versions of: the pins command sees a real security update in the real archive.
const fixture = path.join(projectRoot, 'tests/fixtures/recipes/xcp-nightly-test.yaml');
const OLD = '3.0.20-1~deb12u2';
const NEW = '3.0.22-1~deb12u2';

interface PinsJson {
  pins: { where: string; name: string; pinned: string; present: boolean; newest?: { version: string; suite: string; cves: string[]; entries: { version: string }[] }; security?: { version: string }; available: string[] }[];
  moves: { where: string; name: string; from: string; to: string }[];
  diff: string[];
}

let dir: string;
let out: string;
beforeAll(() => {
  dir = tempDir('pins');
  out = path.join(dir, 'out');
});
afterAll(() => removeDir(dir));

function recipe(name: string, edit: (t: string) => string = (t) => t): string {
  const file = path.join(dir, name);
  writeFileSync(file, edit(readFileSync(fixture, 'utf8')));
  return file;
}

const dpkgGt = (a: string, b: string) => spawnSync('dpkg', ['--compare-versions', a, 'gt', b]).status === 0;

describe('xcpbuild pins (real archive)', () => {
  test('lists the newer security version of a pin with the changelog entries in between and their CVE ids', () => {
    const res = xcpbuild(['--json', '--out', out, 'pins', recipe('list.yaml')]);
    expect(res).toExitWith(0);
    const openssl = json<PinsJson>(res).pins.find((p) => p.name === 'openssl')!;
    expect(openssl).toMatchObject({ where: 'packages.tools[0]', pinned: OLD, present: true });
    expect(openssl.newest?.suite).toBe('bookworm-security');
    expect(dpkgGt(openssl.newest!.version, OLD)).toBe(true);
    // Every entry is above the pin and at most the proposed version.
    for (const e of openssl.newest!.entries) {
      expect(dpkgGt(e.version, OLD)).toBe(true);
      expect(dpkgGt(e.version, openssl.newest!.version)).toBe(false);
    }
    expect(openssl.newest!.cves.length).toBeGreaterThan(0);
    expect(openssl.newest!.cves.every((c) => /^CVE-\d{4}-\d{4,}$/.test(c))).toBe(true);
    expect(openssl.security?.version).toBe(openssl.newest!.version);
  });

  test('--update --security-only rewrites only the version, keeping every other byte, and the recipe stays valid', () => {
    const file = recipe('update.yaml', (t) => t.replace('packages:\n', 'packages:\n  # a comment the rewrite keeps\n'));
    const before = readFileSync(file, 'utf8');
    const res = xcpbuild(['--json', '--out', out, 'pins', file, '--update', '--security-only']);
    expect(res).toExitWith(0);
    const doc = json<PinsJson>(res);
    expect(doc.moves).toEqual([{ where: 'packages.tools[0]', name: 'openssl', from: OLD, to: expect.any(String) }]);
    const after = readFileSync(file, 'utf8');
    expect(after).toBe(before.replace(OLD, doc.moves[0].to));
    expect(after).toContain('# a comment the rewrite keeps');
    expect(doc.diff).toEqual([`${file}:${before.split('\n').findIndex((l) => l.includes(OLD)) + 1}`, expect.stringContaining(`- `), expect.stringContaining(`+ `)]);
    expect(xcpbuild(['validate', file])).toExitWith(0);
  });

  test('a pin the archive no longer has is listed with its replacement', () => {
    const res = xcpbuild(['--out', out, 'pins', recipe('gone.yaml', (t) => t.replace(OLD, '3.0.19-1~deb12u1'))]);
    expect(res).toExitWith(0);
    expect(res.stdout).toMatch(/packages\.tools\[0\] openssl 3\.0\.19-1~deb12u1 → \S+ \(bookworm-security\) \(the pinned version is no longer in the archives\)/);
  });
});

describe('the nightly and pins', () => {
  test('a nightly lists "pinned, update available"; with --bump-pins security it builds with the update and records the move', () => {
    const pub = path.join(dir, 'pub');
    const plain = xcpbuild(['--json', '--out', path.join(dir, 'out-a'), 'nightly', recipe('n1.yaml'), '--publish', path.join(dir, 'pub-a'), '--skip-piuparts']);
    expect(plain).toExitWith(0);
    const a = json<{ release: string }>(plain);
    const changesA = JSON.parse(readFileSync(path.join(a.release, 'changes.json'), 'utf8')) as { pins: { name: string; moved: boolean; security: boolean }[] };
    expect(changesA.pins).toEqual([expect.objectContaining({ name: 'openssl', moved: false, security: true })]);
    expect(readFileSync(path.join(a.release, 'CHANGES.md'), 'utf8')).toContain('## Pinned, update available');

    const bumped = xcpbuild(['--json', '--out', path.join(dir, 'out-b'), 'nightly', recipe('n2.yaml'), '--publish', pub, '--bump-pins', 'security', '--skip-piuparts']);
    expect(bumped).toExitWith(0);
    const b = json<{ release: string }>(bumped);
    const record = JSON.parse(readFileSync(path.join(b.release, 'release.json'), 'utf8')) as { pinsMoved: { name: string; from: string; to: string }[] };
    expect(record.pinsMoved).toEqual([{ name: 'openssl', from: OLD, to: expect.any(String) }]);
    expect(dpkgGt(record.pinsMoved[0].to, OLD)).toBe(true);
    const lock = JSON.parse(readFileSync(path.join(b.release, 'xcp-nightly-test.lock'), 'utf8')) as { packages: { name: string; version: string }[] };
    expect(lock.packages.find((p) => p.name === 'openssl')?.version).toBe(record.pinsMoved[0].to);
    expect(xcpbuild(['verify-release', b.release])).toExitWith(0);
    // The fixture's NEW is the bookworm-security version the nightly tests use; the move reaches at least it.
    expect(dpkgGt(NEW, record.pinsMoved[0].to)).toBe(false);
    expect(xcpbuild(['--out', path.join(dir, 'out-c'), 'nightly', recipe('n3.yaml'), '--publish', pub, '--bump-pins', 'most'])).toExitWith(2);
  });
});
