import { promises as fs, readFileSync, statSync, readdirSync, utimesSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { xcpbuild, json } from '../helpers/cli';
import { startMirror, Mirror, defaultRecipe } from '../helpers/mirror';
import { tempDir, removeDir } from '../helpers/tmp';

jest.setTimeout(600_000);

/**
 * Damage is detected: published files are copies (never links into the cache), every
 * output carries a manifest checked cheaply on every run and deeply by `verify`, a
 * byte flipped behind the build's back (even keeping size and mtime) is caught, and a
 * full disk is one line that names the path.
 */
let mirror: Mirror;
let dir: string;
let cache: string;
let out: string;
const repo = () => path.join(out, 'xcp-bookworm/repo');
const lock = JSON.parse(readFileSync(defaultRecipe.replace(/\.yaml$/, '.lock'), 'utf8')) as {
  packages: { name: string; sha256: string; filename: string }[];
  installer?: { sha256: string }[];
  test?: { sha256: string }[];
  build?: { sha256: string }[];
};

function build(target = 'repo', extra: string[] = []) {
  return xcpbuild(['--json', '--locked', '--cache', cache, '--out', out, ...mirror.args, ...extra, target, defaultRecipe]);
}

/** Flips one byte in place, then puts the old mtime back: only the content changed. */
async function flipKeepingMtime(file: string, offset = 4096): Promise<void> {
  const st = statSync(file);
  await fs.chmod(file, 0o644);
  const fh = await fs.open(file, 'r+');
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, offset);
  b[0] ^= 0xff;
  await fh.write(b, 0, 1, offset);
  await fh.close();
  await fs.chmod(file, st.mode & 0o777);
  utimesSync(file, st.atime, st.mtime);
}

beforeAll(async () => {
  mirror = await startMirror();
  dir = tempDir('damage');
  cache = path.join(dir, 'cache');
  out = path.join(dir, 'out');
  const res = build();
  if (res.code !== 0) throw new Error(res.stdout);
});

afterAll(async () => {
  await mirror?.stop();
  if (dir) removeDir(dir);
});

test('published pool files are copies, not hard links into the cache', () => {
  const xen = lock.packages.find((p) => p.name === 'xen-hypervisor-4.17-amd64')!;
  expect(statSync(path.join(repo(), xen.filename)).nlink).toBe(1);
  expect(statSync(path.join(cache, 'sha256', xen.sha256.slice(0, 2), xen.sha256)).nlink).toBe(1);
});

test('verify hashes every locked file, the installer closure included, and every output', () => {
  const res = xcpbuild(['--json', '--cache', cache, '--out', out, 'verify', defaultRecipe]);
  const doc = json<{ ok: boolean; lockedFiles: number; outputs: { stage: string; ok: boolean }[] }>(res);
  const all = new Set([...lock.packages, ...(lock.installer ?? []), ...(lock.test ?? []), ...(lock.build ?? [])].map((p) => p.sha256));
  expect(doc).toMatchObject({ ok: true, lockedFiles: all.size });
  expect(doc.outputs.map((o) => o.stage)).toEqual(['build', 'meta', 'repo']);
});

test('a published file changed in place with its mtime kept is found by verify', async () => {
  const file = path.join(repo(), lock.packages[10].filename);
  await flipKeepingMtime(file);
  const res = xcpbuild(['--json', '--cache', cache, '--out', out, 'verify', defaultRecipe]);
  expect(res).toExitWith(7);
  const problems = json<{ problems: string[] }>(res).problems;
  expect(problems).toContain(`repo: ${lock.packages[10].filename}: content differs from what was built (sha256)`);
  expect(problems).toContain(`repo: ${lock.packages[10].filename}: does not match Packages (damaged)`);
});

test('a published file changed as usual (new mtime) makes the next build rebuild the output', async () => {
  const file = path.join(repo(), lock.packages[11].filename);
  await fs.appendFile(file, 'x');
  const res = build();
  expect(res).toExitWith(0);
  const stage = json<{ stages: { id: string; status: string; reasons: string[] }[] }>(res).stages.find((s) => s.id === 'repo')!;
  expect(stage.status).toBe('built');
  expect(stage.reasons[0]).toMatch(/^output damaged: pool\/.* changed size$/);
  expect(xcpbuild(['--cache', cache, '--out', out, 'verify', defaultRecipe]).code).toBe(0);
});

test('a cache entry with one byte flipped (size and mtime kept) is caught when it is published, removed, and fetched again', async () => {
  const victim = lock.packages.find((p) => p.name === 'xen-utils-4.17')!;
  const entry = path.join(cache, 'sha256', victim.sha256.slice(0, 2), victim.sha256);
  await flipKeepingMtime(entry);
  removeDir(repo());
  const res = build();
  expect(res).toExitWith(7);
  expect(json<{ error: { message: string } }>(res).error.message).toMatch(/xen-utils-4\.17 .*: the cached file .* does not match the lock \(sha256 [0-9a-f]{64}\); the damaged cache entry was removed/);
  expect(readdirSync(out + '/xcp-bookworm').filter((n) => n.startsWith('.staging'))).toEqual([]);
  const again = build();
  expect(again).toExitWith(0);
  expect(json<{ notes: string[] }>(again).notes).toContain(`fetch: 1 file(s) downloaded (${(statSync(entry).size / 1048576).toFixed(1)} MiB), ${new Set([...lock.packages, ...(lock.installer ?? []), ...(lock.test ?? []), ...(lock.build ?? [])].map((p) => p.sha256)).size - 1} already cached`);
});

test('a full disk is one line naming the path (exit 6), the log ends with it, and nothing half-written is left', () => {
  const small = path.join(dir, 'small');
  mkdirSync(small);
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', small], { encoding: 'utf8' });
  expect(mount.status).toBe(0);
  try {
    const res = xcpbuild(['--locked', '--cache', cache, '--out', small, ...mirror.args, 'repo', defaultRecipe]);
    expect(res).toExitWith(6);
    const errors = res.stderr.split('\n').filter((l) => l.startsWith('xcpbuild: '));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/no space left on device/);
    expect(errors[0]).toContain(small);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    const logDir = path.join(small, 'xcp-bookworm/logs');
    const log = readFileSync(path.join(logDir, readdirSync(logDir)[0]), 'utf8').trim().split('\n');
    expect(log[log.length - 1]).toMatch(/ error: .*no space left on device/);
    expect(readdirSync(path.join(small, 'xcp-bookworm')).filter((n) => n.startsWith('.staging'))).toEqual([]);
  } finally {
    spawnSync('umount', [small]);
  }
});
