import { readFileSync, writeFileSync, copyFileSync, mkdirSync, cpSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { xcpbuild, json, projectRoot } from '../helpers/cli';
import { tempDir, removeDir } from '../helpers/tmp';

jest.setTimeout(300_000);

/**
 * Recipes keep working across xcpbuild versions: every earlier recipe format is read
 * (with a note), `xcpbuild migrate` rewrites it in place keeping comments and key
 * order, and the migrated recipe plans exactly as the original did.
 */
const fixtures = path.join(projectRoot, 'tests/fixtures/recipes');
let work: string;

beforeAll(() => {
  work = tempDir('migrate');
  mkdirSync(path.join(work, 'sources'));
  cpSync(path.join(projectRoot, 'sources/xcp-host'), path.join(work, 'sources/xcp-host'), { recursive: true });
});
afterAll(() => removeDir(work));

/** A fixture as recipes/<name>.yaml beside a copy of the default recipe's lock, its source tree at ../sources. */
function place(fixture: string, name: string): string {
  const dir = path.join(work, 'recipes');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.yaml`);
  copyFileSync(path.join(fixtures, fixture), file);
  copyFileSync(path.join(projectRoot, 'recipes/xcp-bookworm.lock'), path.join(dir, `${name}.lock`));
  return file;
}

interface Plan {
  stages: { id: string; decision?: { inputHash: string; upToDate: boolean; reasons: string[] }; inputs?: string[]; pending?: string }[];
}

function plan(file: string): Plan['stages'] {
  const res = xcpbuild(['--json', '--out', path.join(work, 'out'), 'plan', '--target', 'iso', file]);
  expect(res).toExitWith(0);
  return json<Plan>(res).stages;
}

const comments = (text: string) => text.split('\n').filter((l) => /^\s*#/.test(l));
const topKeys = (text: string) => text.split('\n').filter((l) => /^[a-zA-Z]+:/.test(l)).map((l) => l.split(':')[0]);

describe.each([
  ['v1-first-shape.yaml', 'the first xcpbuild/v1 shape', ['apiVersion: xcpbuild/v1 → xcpbuild/v2', 'installer.priorities: removed', 'installer.kernel: removed']],
  ['v1.yaml', 'the later xcpbuild/v1 shape', ['apiVersion: xcpbuild/v1 → xcpbuild/v2']],
])('a recipe of %s (%s)', (fixture, _shape, changes) => {
  const name = fixture.replace(/\.yaml$/, '').replace(/[^a-z0-9]+/g, '-');
  let file: string;
  let original: string;
  let before: Plan['stages'];

  beforeAll(() => {
    file = place(fixture, name);
    original = readFileSync(file, 'utf8');
  });

  test('validates, with a note that names its format and what replaces it', () => {
    const res = xcpbuild(['validate', file]);
    expect(res).toExitWith(0);
    expect(res.stderr).toMatch(/note: .* is written in xcpbuild\/v1.*, read as xcpbuild\/v2; `xcpbuild migrate .*` rewrites it/);
    if (changes.length > 1) expect(res.stderr).toContain("installer.kernel: removed (the installer boots the target image's own kernel");
    before = plan(file);
    expect(before.map((s) => s.id)).toEqual(expect.arrayContaining(['lock', 'fetch', 'meta', 'repo', 'image', 'installer', 'iso']));
  });

  test('migrates in place, printing each change, keeping every comment and the key order', () => {
    const res = xcpbuild(['migrate', file]);
    expect(res).toExitWith(0);
    for (const c of changes) expect(res.stdout).toContain(c);
    const migrated = readFileSync(file, 'utf8');
    expect(migrated).toMatch(/^apiVersion: xcpbuild\/v2$/m);
    expect(Object.keys(YAML.parse(migrated).installer)).toEqual(['packages']);
    expect(comments(migrated)).toEqual(comments(original));
    expect(topKeys(migrated)).toEqual(topKeys(original));
    // Only the changed lines differ.
    const removed = original.split('\n').filter((l) => !migrated.split('\n').includes(l));
    expect(removed.length).toBe(changes.length);
  });

  test('the migrated recipe validates without a note and plans exactly as the original did', () => {
    const res = xcpbuild(['validate', file]);
    expect(res).toExitWith(0);
    expect(res.stderr).toBe('');
    expect(plan(file)).toEqual(before);
  });

  test('migrating again changes nothing', () => {
    const text = readFileSync(file, 'utf8');
    const res = xcpbuild(['migrate', file]);
    expect(res).toExitWith(0);
    expect(res.stdout).toContain('already xcpbuild/v2');
    expect(readFileSync(file, 'utf8')).toBe(text);
  });
});

test('a current recipe with a removed key is told what replaced it, and --dry-run writes nothing', () => {
  const file = place('v1-first-shape.yaml', 'stale-keys');
  const v2 = readFileSync(file, 'utf8').replace('apiVersion: xcpbuild/v1', 'apiVersion: xcpbuild/v2');
  writeFileSync(file, v2);
  const res = xcpbuild(['validate', file]);
  expect(res).toExitWith(3);
  expect(res.stderr).toMatch(/stale-keys\.yaml:\d+:\d+: installer\.priorities: removed in xcpbuild\/v2: the installer environment is a layer over the target image/);
  expect(res.stderr).toMatch(/installer\.kernel: removed in xcpbuild\/v2: the installer boots the target image's own kernel/);
  const v1 = path.join(path.dirname(file), 'dry.yaml');
  copyFileSync(path.join(fixtures, 'v1-first-shape.yaml'), v1);
  const dry = xcpbuild(['migrate', '--dry-run', v1]);
  expect(dry).toExitWith(0);
  expect(dry.stdout).toContain('dry run: not written');
  expect(readFileSync(v1, 'utf8')).toBe(readFileSync(path.join(fixtures, 'v1-first-shape.yaml'), 'utf8'));
});
