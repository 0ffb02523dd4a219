import os from 'node:os';
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { xcpbuild, startXcpbuild, waitForText, json } from '../helpers/cli';
import { startMirror, Mirror, defaultRecipe } from '../helpers/mirror';
import { tempDir, removeDir } from '../helpers/tmp';
import { TreeCache } from '../../src/cache/trees';

/**
 * Builds killed at random points and builds racing each other on one cache and one
 * output directory. `make test` runs a few of each; `make chaos` runs CHAOS_KILLS=20
 * and CHAOS_ROUNDS=10 and prints the counts.
 */
const KILLS = Number(process.env.CHAOS_KILLS ?? 3);
const ROUNDS = Number(process.env.CHAOS_ROUNDS ?? 2);
jest.setTimeout(Math.max(900_000, (KILLS * 40 + ROUNDS * 90) * 1000));

let mirror: Mirror;
let dir: string;
const counts = { kills: 0, killedRecovered: 0, corruptEntries: 0, rounds: 0, roundBuildsOk: 0, roundBuilds: 0 };

beforeAll(async () => {
  mirror = await startMirror();
  dir = tempDir('chaos');
});

afterAll(async () => {
  await mirror?.stop();
  if (dir) removeDir(dir);
  console.log(
    `chaos: ${counts.kills} kill -9 at random points, ${counts.killedRecovered} recovered by the next build (${counts.corruptEntries} corrupt cache entries); ` +
      `${counts.rounds} concurrency rounds, ${counts.roundBuildsOk} of ${counts.roundBuilds} concurrent builds succeeded`,
  );
});

/** Every committed cache entry holds exactly the bytes its name says. */
function corruptEntries(cache: string): string[] {
  const bad: string[] = [];
  const root = path.join(cache, 'sha256');
  if (!existsSync(root)) return bad;
  for (const d of readdirSync(root)) {
    for (const f of readdirSync(path.join(root, d))) {
      const sum = createHash('sha256').update(readFileSync(path.join(root, d, f))).digest('hex');
      if (sum !== f) bad.push(f);
    }
  }
  return bad;
}

/** A fresh cache and output directory, fetched; then a build of `target` started there, and a way to find its log file. */
function startAfterFetch(name: string, target: string) {
  const cache = path.join(dir, `${name}-cache`);
  const out = path.join(dir, `${name}-out`);
  expect(build(cache, out, 'fetch').code).toBe(0);
  const run = startXcpbuild(['--locked', '--cache', cache, '--out', out, ...mirror.args, target, defaultRecipe]);
  const logDir = path.join(out, 'xcp-bookworm/logs');
  const logFile = () => (existsSync(logDir) ? readdirSync(logDir).filter((f) => f.includes(`-${run.pid}-`)).map((f) => path.join(logDir, f))[0] : undefined);
  return { cache, out, run, logFile };
}

function build(cache: string, out: string, target = 'repo') {
  return xcpbuild(['--json', '--locked', '--cache', cache, '--out', out, ...mirror.args, target, defaultRecipe]);
}

test(`${KILLS} builds killed with SIGKILL at random points: the cache stays sound and the next build succeeds`, async () => {
  const cache = path.join(dir, 'kill-cache');
  const out = path.join(dir, 'kill-out');
  for (let i = 0; i < KILLS; i++) {
    if (i % 4 === 0) removeDir(cache); // sometimes from an empty cache: kills land in downloads
    if (i % 2 === 0) removeDir(out);
    const run = startXcpbuild(['--locked', '--cache', cache, '--out', out, ...mirror.args, 'repo', defaultRecipe]);
    await new Promise((r) => setTimeout(r, 200 + Math.random() * 6000));
    run.kill('SIGKILL');
    await run.done;
    counts.kills++;
    const bad = corruptEntries(cache);
    counts.corruptEntries += bad.length;
    expect(bad).toEqual([]);
    const again = build(cache, out);
    expect({ code: again.code, err: again.stdout.slice(-500) }).toEqual({ code: 0, err: expect.any(String) });
    const verify = xcpbuild(['--json', '--cache', cache, '--out', out, 'verify', defaultRecipe]);
    expect(json<{ problems: string[] }>(verify).problems.filter((p) => !p.startsWith('cache:'))).toEqual([]);
    counts.killedRecovered++;
  }
});

test(`${ROUNDS} rounds of three builds at once: two output directories on one fresh cache, two builds in one output directory`, async () => {
  for (let i = 0; i < ROUNDS; i++) {
    const cache = path.join(dir, `round-${i}-cache`);
    const outA = path.join(dir, `round-${i}-a`);
    const outB = path.join(dir, `round-${i}-b`);
    const runs = [outA, outB, outA].map((out) => startXcpbuild(['--json', '--locked', '--cache', cache, '--out', out, ...mirror.args, 'repo', defaultRecipe]));
    const results = await Promise.all(runs.map((r) => r.done));
    counts.rounds++;
    counts.roundBuilds += results.length;
    counts.roundBuildsOk += results.filter((r) => r.code === 0).length;
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(results.some((r) => /waiting for another build/.test(r.stderr))).toBe(true);
    expect(corruptEntries(cache)).toEqual([]);
    for (const out of [outA, outB]) {
      const v = xcpbuild(['--json', '--cache', cache, '--out', out, 'verify', defaultRecipe]);
      expect(json<{ ok: boolean; problems: string[] }>(v).problems.filter((p) => !p.startsWith('cache:'))).toEqual([]);
    }
    const packages = (o: string) => readFileSync(path.join(o, 'xcp-bookworm/repo/dists/bookworm/main/binary-amd64/Packages'), 'utf8');
    expect(packages(outA)).toBe(packages(outB));
    removeDir(cache);
    removeDir(outA);
    removeDir(outB);
  }
});

test('a build killed during the image\'s mmdebstrap leaves no mounts and no processes; the next build sweeps its tree', async () => {
  const { cache, out, run, logFile } = startAfterFetch('mm', 'image');
  // The image's mmdebstrap (from the signed repository), not the clean build root's, which runs earlier.
  await waitForText(logFile, /\$ mmdebstrap .*signed-by=/, 300_000);
  // Well into the chroot phase, with /proc, /sys and /dev mounted in the root being made.
  await new Promise((r) => setTimeout(r, 25_000));
  expect(spawnSync('pgrep', ['-f', 'dpkg|apt-get'], { encoding: 'utf8' }).stdout.trim()).not.toBe('');
  run.kill('SIGKILL');
  await run.done;
  await new Promise((r) => setTimeout(r, 1000));
  const mounts = spawnSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' }).stdout.split('\n').filter((m) => m.startsWith(cache) || m.startsWith(out));
  expect(mounts).toEqual([]);
  const procs = spawnSync('pgrep', ['-af', cache], { encoding: 'utf8' }).stdout.trim();
  expect(procs).toBe('');
  const treesDir = path.join(cache, 'trees/image');
  const leftovers = readdirSync(treesDir).filter((n) => n.startsWith('.tmp-'));
  expect(leftovers.length).toBe(1);
  expect(statSync(path.join(treesDir, leftovers[0])).isDirectory()).toBe(true);
  // The next build of any image tree removes what the killed one left.
  await new TreeCache(cache).obtain('image', '0'.repeat(64), async () => undefined, () => undefined);
  expect(readdirSync(treesDir).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
});

test('a build killed inside the clean build root leaves no mounts and no processes; the next build succeeds', async () => {
  const { cache, out, run, logFile } = startAfterFetch('br', 'build');
  // The pristine root being made: mmdebstrap on its namespace-private tmpfs, dpkg unpacking inside.
  await waitForText(logFile, /\$ sh \S+\/in-memory\.sh mmdebstrap --mode=root --variant=custom/, 180_000);
  await new Promise((r) => setTimeout(r, 4_000));
  expect(spawnSync('pgrep', ['-f', 'mmdebstrap'], { encoding: 'utf8' }).stdout.trim()).not.toBe('');
  run.kill('SIGKILL');
  await run.done;
  await new Promise((r) => setTimeout(r, 1000));
  const mounts = spawnSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' }).stdout.split('\n').filter((m) => m.includes('mmdebstrap') || m.includes('xcpbuild-build-root') || m.startsWith(cache) || m.startsWith(out));
  expect(mounts).toEqual([]);
  // Everything in the build's PID namespace dies with it (a zombie may wait a moment to be reaped).
  const live = () => spawnSync('ps', ['-eo', 'stat=,args='], { encoding: 'utf8' }).stdout.split('\n').filter((l) => /mmdebstrap|dpkg-deb/.test(l) && !l.startsWith('Z'));
  for (let i = 0; i < 20 && live().length; i++) await new Promise((r) => setTimeout(r, 500));
  expect(live()).toEqual([]);
  // Its scratch directory (the build root's package copies) is left; the next run removes it.
  const scratch = () => readdirSync(os.tmpdir()).filter((n) => n.startsWith(`xcpbuild-build-root.${run.pid}-`));
  expect(scratch()).toHaveLength(1);
  const again = build(cache, out, 'build');
  expect(again).toExitWith(0);
  expect(scratch()).toEqual([]);
  expect(readdirSync(path.join(out, 'xcp-bookworm/build')).filter((f) => f.endsWith('.deb'))).toEqual(['xcp-host_1.1.0-1_all.deb']);
  removeDir(cache);
});
