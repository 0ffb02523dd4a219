import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { xcpbuild, json, projectRoot } from '../helpers/cli';
import { tempDir, removeDir, defaultRecipeTextIn } from '../helpers/tmp';

jest.setTimeout(120_000);

const good = readFileSync(path.join(projectRoot, 'recipes/xcp-bookworm.yaml'), 'utf8');
let dir: string;

beforeAll(() => {
  dir = tempDir('errors');
});
afterAll(() => removeDir(dir));

function recipe(name: string, text: string): string {
  defaultRecipeTextIn(dir);
  text = text.replace('path: ../sources/xcp-host', 'path: sources/xcp-host');
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, text.replace('name: xcp-bookworm', `name: ${name}`));
  return file;
}

function expectCleanFailure(res: { code: number; stderr: string }, code: number): void {
  expect(res.code).toBe(code);
  expect(res.stderr.split('\n').filter((l) => l.startsWith('xcpbuild: error: '))).toHaveLength(1);
  expect(res.stderr).not.toMatch(/\n\s+at /);
}

describe('bad input gets a clear error and a meaningful exit code', () => {
  test('malformed YAML: file, line and column', () => {
    const file = recipe('malformed', good.replace('version: 1.0.0\n', 'version: [1.0.0\n'));
    const res = xcpbuild(['validate', file]);
    expectCleanFailure(res, 3);
    expect(res.stderr).toContain(`${file}:`);
    expect(res.stderr).toMatch(/malformed\.yaml:\d+:\d+: malformed YAML/);
  });

  test('unknown key: file:line:col, key path, what is allowed', () => {
    const file = recipe('unknown', good.replace('  release: bookworm\n', '  release: bookworm\n  flavour: vanilla\n'));
    const line = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('flavour')) + 1;
    const res = xcpbuild(['validate', file]);
    expectCleanFailure(res, 3);
    expect(res.stderr).toContain(`${file}:${line}:3: target.flavour: unknown key "flavour" (expected one of: family, release, architecture)`);
  });

  test('wrong type and missing pin are both reported in one run', () => {
    const file = recipe('types', good.replace('    suites: [bookworm-security]', '    suites: bookworm-security').replace('{ name: bridge-utils, version: 1.7.1-1 }', '{ name: bridge-utils }'));
    const res = xcpbuild(['validate', file]);
    expectCleanFailure(res, 3);
    expect(res.stderr).toMatch(/invalid \(2 errors\)/);
    expect(res.stderr).toMatch(/types\.yaml:\d+:\d+: archives\[1\]\.suites: expected the suites to use from this archive \(debian family; a yum archive is one repository at uri\), found "bookworm-security"/);
    expect(res.stderr).toMatch(/types\.yaml:\d+:\d+: packages\.network\[1\]\.version: missing required key "version"/);
  });

  test('--json reports the error as data', () => {
    const file = recipe('jsonerr', good.replace('apiVersion: xcpbuild/v2', 'apiVersion: 2'));
    const res = xcpbuild(['--json', 'validate', file]);
    expect(res).toExitWith(3);
    const out = json<{ ok: boolean; error: { kind: string; details: string[] } }>(res);
    expect(out.ok).toBe(false);
    expect(out.error.kind).toBe('invalidInput');
    expect(out.error.details[0]).toMatch(/jsonerr\.yaml:\d+:13: apiVersion: expected the recipe format version: xcpbuild\/v2 \(recipes of earlier versions are read too; xcpbuild migrate rewrites them\), found number 2$/);
  });

  test('a pinned version the archive does not have lists the versions it has', () => {
    const file = recipe('badpin', good.replace('{ name: xen-utils-4.17, version: 4.17.7+13-g2445b30a44-0+deb12u1 }', '{ name: xen-utils-4.17, version: 4.17.99-1 }'));
    const res = xcpbuild(['--out', path.join(dir, 'out'), 'lock', file]);
    expectCleanFailure(res, 4);
    expect(res.stderr).toMatch(/packages\.toolstack\[0\]: xen-utils-4\.17 version 4\.17\.99-1 is not in the archives; available: 4\.17\.7\+13-g2445b30a44-0\+deb12u1 \(bookworm-security\), 4\.17\.5\+72-g01140da4e8-1 \(bookworm\)/);
  });

  test('an unsatisfiable set is explained in words', () => {
    const file = recipe(
      'conflict',
      good.replace('    - { name: xen-utils-4.17, version: 4.17.7+13-g2445b30a44-0+deb12u1 }', '    - { name: xen-utils-4.17, version: 4.17.7+13-g2445b30a44-0+deb12u1 }\n    - { name: libxenmisc4.17, version: 4.17.5+72-g01140da4e8-1 }'),
    );
    const res = xcpbuild(['--out', path.join(dir, 'out'), 'lock', file]);
    expectCleanFailure(res, 4);
    expect(res.stderr).toMatch(/the pinned packages cannot be installed together: \S+ depends on libxenmisc4\.17 .* but 4\.17\.5\+72-g01140da4e8-1 is to be installed/);
  });

  test('an unreachable mirror is retried, then one line of cause', () => {
    const file = recipe('unreachable', good.replace(/http:\/\/deb\.debian\.org\/debian-security/, 'http://127.0.0.1:9/debian-security'));
    const res = xcpbuild(['--out', path.join(dir, 'out'), 'lock', file]);
    expectCleanFailure(res, 5);
    expect(res.stderr).toMatch(/cannot download the archive indexes \(after retries\): .*127\.0\.0\.1/);
  });

  test('the fedora recipe cannot be locked here (no Fedora mirror): one line of network cause', () => {
    const file = recipe('xcp-fedora', readFileSync(path.join(projectRoot, 'recipes/xcp-fedora.yaml'), 'utf8'));
    const res = xcpbuild(['--out', path.join(dir, 'out'), 'lock', file], { env: { XCPBUILD_CACHE: path.join(dir, 'cache-fedora') } });
    expectCleanFailure(res, 5);
    expect(res.stderr).toMatch(/^xcpbuild: error: cannot download the key of archive fedora from https:\/\/fedoraproject\.org\/fedora\.gpg \(3 attempts\): \S+$/m);
  });

  test('an unwritable output directory is named', () => {
    const res = xcpbuild(['--out', '/proc/xcpbuild-cannot-write', 'meta', 'xcp-bookworm']);
    expectCleanFailure(res, 3);
    expect(res.stderr).toMatch(/--out: \/proc\/xcpbuild-cannot-write is on a kernel pseudo file system \(\/proc\)/);
  });

  test('a missing recipe file is named', () => {
    const res = xcpbuild(['validate', path.join(dir, 'nope.yaml')]);
    expectCleanFailure(res, 3);
    expect(res.stderr).toContain(`cannot read recipe ${path.join(dir, 'nope.yaml')}: no such file or directory`);
  });

  test('an unknown command is a usage error', () => {
    const res = xcpbuild(['frobnicate']);
    expect(res).toExitWith(2);
    expect(res.stderr).toMatch(/unknown command/);
  });

  test.each([
    ['a missing argument', ['validate'], /missing required argument 'recipe'/],
    ['an unknown option', ['validate', '--frobnicate', 'xcp-bookworm'], /unknown option '--frobnicate'/],
    ['an unknown stage', ['plan', '--target', 'bogus', 'xcp-bookworm'], /option '--target <stage>' argument 'bogus' is invalid. Allowed choices are lock, fetch, build, meta, repo, image, installer, iso/],
    ['a bad firmware', ['boot-test', '--firmware', 'coreboot', path.join(projectRoot, 'package.json')], /--firmware: expected bios, uefi, both or a list such as bios,uefi; found "coreboot"/],
    ['a bad mirror', ['--mirror', 'debian', 'fetch', 'xcp-bookworm'], /--mirror: expected ARCHIVE=URL/],
  ])('%s exits 2', (_what, args, message) => {
    const res = xcpbuild(args);
    expect(res).toExitWith(2);
    expect(res.stderr).toMatch(message);
  });

  test('with --json every outcome is one JSON document, usage errors included', () => {
    const usage = xcpbuild(['--json', 'validate']);
    expect(usage).toExitWith(2);
    expect(json<{ ok: boolean; error: { kind: string; message: string } }>(usage)).toMatchObject({ ok: false, error: { kind: 'usage', message: "missing required argument 'recipe'" } });
    const keys = path.join(dir, 'keys');
    const first = json<{ ok: boolean; created: boolean }>(xcpbuild(['--json', 'genkey', '--dir', keys]));
    expect(first).toMatchObject({ ok: true, created: true });
    const again = json<{ ok: boolean; created: boolean; secret: string }>(xcpbuild(['--json', 'genkey', '--if-missing', '--dir', keys]));
    expect(again).toMatchObject({ ok: true, created: false, secret: path.join(keys, 'dev.key.asc') });
    const fail = xcpbuild(['--json', 'genkey', '--dir', keys]);
    expect(fail).toExitWith(2);
    expect(json<{ error: { message: string } }>(fail).error.message).toMatch(/a key already exists/);
  });

  test('a recipe far larger than any recipe is refused before it is parsed', () => {
    const file = path.join(dir, 'huge.yaml');
    writeFileSync(file, Buffer.concat([Buffer.from(`${good}\n# `), Buffer.alloc(50 * 1024 * 1024 - good.length - 3, 'a')]));
    const started = Date.now();
    const res = xcpbuild(['validate', file]);
    expectCleanFailure(res, 3);
    expect(res.stderr).toMatch(/recipe .*huge\.yaml is 50\.0 MiB; a recipe is at most 1 MiB/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('bad environment values are named', () => {
    expect(xcpbuild(['plan', 'xcp-bookworm'], { env: { SOURCE_DATE_EPOCH: 'yesterday' } }).stderr).toMatch(/SOURCE_DATE_EPOCH: expected a whole number of seconds/);
    const proc = xcpbuild(['fetch', 'xcp-bookworm'], { env: { XCPBUILD_CACHE: '/proc/self/xcpbuild-cache' } });
    expectCleanFailure(proc, 3);
    expect(proc.stderr).toMatch(/XCPBUILD_CACHE: \/proc\/self\/xcpbuild-cache is on a kernel pseudo file system/);
  });
});
