import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { statSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { xcpbuild, json, projectRoot, startXcpbuild, waitForText } from '../helpers/cli';
import { tempDir, removeDir, copyDefaultRecipe } from '../helpers/tmp';
import { startMirror, Mirror, defaultRecipe } from '../helpers/mirror';
import { startNginx, Nginx } from '../helpers/nginx';
import { signedArchive } from '../helpers/signed-archive';
import { FileLock } from '../../src/util/flock';

jest.setTimeout(900_000);

/**
 * The second round of hostile and fault cases (issue 17), each with real processes:
 * planted links in source trees, out/ and the cache; a pipe closed by head; signals
 * during signing; a small tmpfs for the cache; a dripping HTTP server and hostile
 * signed indexes on loopback; nested-bracket locks; secrets in URLs and environments.
 */
let dir: string;
let mirror: Mirror;

beforeAll(async () => {
  dir = tempDir('trust');
  mirror = await startMirror();
});
afterAll(async () => {
  await mirror.stop();
  removeDir(dir);
});

/** A private TMPDIR for one run, so what it leaves there can be listed; no runtime dir, so GnuPG homes go there too. */
function privateTmp(name: string): { tmp: string; env: Record<string, string> } {
  const tmp = path.join(dir, `${name}-tmp`);
  mkdirSync(tmp, { recursive: true });
  return { tmp, env: { TMPDIR: tmp, XDG_RUNTIME_DIR: '' } };
}

const gpgHomes = (tmp: string) => readdirSync(tmp).filter((n) => n.startsWith('xcpbuild-gpg-'));

describe('source trees: files are packaged only if they are plain files', () => {
  const secret = () => {
    const f = path.join(dir, 'secret.key.asc');
    writeFileSync(f, '-----BEGIN PGP PRIVATE KEY BLOCK-----\nnot really\n');
    return f;
  };
  test.each([
    ['a symbolic link to a secret', (f: string) => symlinkSync(secret(), f), /files\[\d+\]\.source: bin\/xcp-host-info in the source tree is a symbolic link/],
    ['a hard link to a file outside', (f: string) => linkSync(secret(), f), /files\[\d+\]\.source: bin\/xcp-host-info in the source tree is a hard link/],
    ['a FIFO', (f: string) => spawnSync('mkfifo', [f]), /files\[\d+\]\.source: bin\/xcp-host-info in the source tree is a FIFO/],
  ])('%s is refused with file:line of the packaging description, and nothing is published', (_what, plant, message) => {
    const recipeDir = tempDir('tree');
    const recipe = copyDefaultRecipe(recipeDir);
    const file = path.join(recipeDir, 'sources/xcp-host/bin/xcp-host-info');
    unlinkSync(file);
    plant(file);
    const out = path.join(recipeDir, 'out');
    const res = xcpbuild(['--json', '--locked', '--out', out, ...mirror.args, 'repo', recipe]);
    expect(res).toExitWith(3);
    const error = json<{ error: { message: string; details: string[] } }>(res).error;
    const all = [error.message, ...error.details].join('\n');
    expect(all).toMatch(/xcp-host\.pkg\.yaml:\d+:\d+: /);
    expect(all).toMatch(message);
    expect(existsSync(path.join(out, 'xcp-bookworm/repo'))).toBe(false);
    removeDir(recipeDir);
  });

  test('a directory of the tree that is a link is refused too', () => {
    const recipeDir = tempDir('tree');
    const recipe = copyDefaultRecipe(recipeDir);
    const man = path.join(recipeDir, 'sources/xcp-host/man');
    rmSync(man, { recursive: true });
    symlinkSync('/etc', man);
    const res = xcpbuild(['--json', '--locked', '--out', path.join(recipeDir, 'out'), ...mirror.args, 'build', recipe]);
    expect(res).toExitWith(3);
    expect(JSON.stringify(json(res))).toMatch(/man in the source tree is a symbolic link/);
    removeDir(recipeDir);
  });
});

describe('every way out runs the cleanups', () => {
  test('a pipe closed by head ends the build with 141 and leaves no GnuPG home', () => {
    const { tmp, env } = privateTmp('pipe');
    const out = path.join(dir, 'pipe-out');
    const cmd = `node dist/cli.js --locked --out '${out}' ${mirror.args.join(' ')} repo '${defaultRecipe}' | head -1; echo "status=\${PIPESTATUS[0]}"`;
    const res = spawnSync('bash', ['-c', cmd], { cwd: projectRoot, env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(res.stdout).toMatch(/status=141/);
    expect(gpgHomes(tmp)).toEqual([]);
    // The log says why it stopped.
    const logs = path.join(out, 'xcp-bookworm/logs');
    expect(readFileSync(path.join(logs, readdirSync(logs)[0]), 'utf8')).toMatch(/interrupted by a closed output pipe/);
  });

  test.each([
    ['SIGQUIT', ['SIGQUIT'], 131],
    ['a second SIGINT 5 ms after the first', ['SIGINT', 'SIGINT'], 130],
    ['SIGHUP', ['SIGHUP'], 129],
  ] as [string, NodeJS.Signals[], number][])('%s while the signing key is loaded: 128 + the signal, the key home and agent removed', async (_what, signals, code) => {
    const { tmp, env } = privateTmp(`sig-${signals.join('-')}`);
    const out = path.join(dir, `sig-${signals.join('-')}-out`);
    const run = startXcpbuild(['--locked', '--out', out, ...mirror.args, 'repo', defaultRecipe], { env });
    const logDir = path.join(out, 'xcp-bookworm/logs');
    const logFile = () => (existsSync(logDir) ? readdirSync(logDir).map((f) => path.join(logDir, f))[0] : undefined);
    await waitForText(logFile, /--list-secret-keys/, 60_000);
    for (const s of signals) {
      run.kill(s);
      await new Promise((r) => setTimeout(r, 5));
    }
    const res = await run.done;
    expect(res.code).toBe(code);
    expect(gpgHomes(tmp)).toEqual([]);
  });

  test('the leftovers of a killed run are swept by the next command, whatever it is (plan)', () => {
    const { tmp, env } = privateTmp('sweep');
    const home = path.join(tmp, 'xcpbuild-gpg-999999999-abcdef');
    const scratch = path.join(tmp, 'xcpbuild-build.999999999-abcdef');
    for (const d of [home, scratch]) {
      mkdirSync(d);
      writeFileSync(path.join(d, 'private-keys'), 'secret');
    }
    const res = xcpbuild(['--out', path.join(dir, 'sweep-out'), 'plan', defaultRecipe], { env });
    expect(res).toExitWith(0);
    expect(existsSync(home)).toBe(false);
    expect(existsSync(scratch)).toBe(false);
  });
});

describe('files xcpbuild did not make are never written through', () => {
  test("out/<name>/.lock as a link: refused, and its target is untouched", () => {
    const out = path.join(dir, 'lock-link-out');
    mkdirSync(path.join(out, 'xcp-bookworm'), { recursive: true });
    const victim = path.join(dir, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, path.join(out, 'xcp-bookworm/.lock'));
    const res = xcpbuild(['--locked', '--out', out, ...mirror.args, 'fetch', defaultRecipe]);
    expect(res).toExitWith(3);
    expect(res.stderr).toMatch(/the lock file .*\.lock is a symbolic link; refused/);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  test('a tree-cache lock planted as a link or a hard link is refused, its target untouched', async () => {
    const victim = path.join(dir, 'victim2.txt');
    writeFileSync(victim, 'precious\n');
    const soft = path.join(dir, 'soft.lock');
    const hard = path.join(dir, 'hard.lock');
    symlinkSync(victim, soft);
    linkSync(victim, hard);
    for (const f of [soft, hard]) await expect(FileLock.acquire(f, 'test')).rejects.toThrow(/refused/);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  test('a logs/ directory that is a link is refused; pruning removes only xcpbuild\'s own logs', () => {
    const out = path.join(dir, 'logs-out');
    const foreign = path.join(dir, 'foreign-logs');
    mkdirSync(foreign);
    writeFileSync(path.join(foreign, 'app.log'), 'keep me');
    mkdirSync(path.join(out, 'xcp-bookworm'), { recursive: true });
    symlinkSync(foreign, path.join(out, 'xcp-bookworm/logs'));
    const res = xcpbuild(['--locked', '--out', out, ...mirror.args, 'fetch', defaultRecipe]);
    expect(res).toExitWith(3);
    expect(res.stderr).toMatch(/the log directory .* is a symbolic link; refused/);
    expect(readdirSync(foreign)).toEqual(['app.log']);

    unlinkSync(path.join(out, 'xcp-bookworm/logs'));
    const logs = path.join(out, 'xcp-bookworm/logs');
    mkdirSync(logs);
    for (let i = 0; i < 55; i++) writeFileSync(path.join(logs, `2020-01-01T00-00-${String(i).padStart(2, '0')}-000Z-1-fetch.log`), '');
    writeFileSync(path.join(logs, 'notes.log'), 'mine');
    symlinkSync(path.join(foreign, 'app.log'), path.join(logs, '2000-01-01T00-00-00-000Z-1-fetch.log'));
    expect(xcpbuild(['--locked', '--out', out, ...mirror.args, 'fetch', defaultRecipe]).code).toBe(0);
    expect(readFileSync(path.join(logs, 'notes.log'), 'utf8')).toBe('mine');
    expect(readFileSync(path.join(foreign, 'app.log'), 'utf8')).toBe('keep me');
    expect(readdirSync(logs).filter((n) => /Z-\d+-[a-z-]+\.log$/.test(n)).length).toBeLessThanOrEqual(51);
  });
});

test('a cache on a full disk: exit 6 with the path and "disk full", no raw trace, the error in the log', () => {
  const small = path.join(dir, 'small-cache');
  mkdirSync(small);
  expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=60m', 'tmpfs', small]).status).toBe(0);
  try {
    const out = path.join(dir, 'small-cache-out');
    const res = xcpbuild(['--locked', '--cache', small, '--out', out, ...mirror.args, 'fetch', defaultRecipe]);
    expect(res).toExitWith(6);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    const error = res.stderr.split('\n').find((l) => l.startsWith('xcpbuild: '))!;
    expect(error).toMatch(/disk full/);
    expect(error).toContain(small);
    const logs = path.join(out, 'xcp-bookworm/logs');
    expect(readFileSync(path.join(logs, readdirSync(logs)[0]), 'utf8')).toMatch(/error: .*disk full/);
  } finally {
    spawnSync('umount', [small]);
  }
});

describe('bounded cost of a hostile lock', () => {
  test.each([
    ['30 MB of nested [', () => '['.repeat(30_000_000)],
    ['3 MB of nested objects', () => '{"a":'.repeat(600_000)],
  ])('%s is refused within a 300 MB heap (bench/hostile.sh measures the time)', (_what, text) => {
    const recipeDir = tempDir('nest');
    const recipe = copyDefaultRecipe(recipeDir);
    writeFileSync(recipe.replace(/\.yaml$/, '.lock'), text());
    const res = spawnSync(process.execPath, ['--max-old-space-size=300', path.join(projectRoot, 'dist/cli.js'), 'plan', recipe], { encoding: 'utf8' });
    expect(res.status).toBe(3);
    expect(res.stderr).toMatch(/\.lock:1:\d+: nested more than 64 levels deep/);
    removeDir(recipeDir);
  });
});

test('plan reads a schema-valid lock at its largest within a 400 MB heap (bench/hostile.sh measures the time)', () => {
  const recipeDir = tempDir('biglock');
  const recipe = copyDefaultRecipe(recipeDir);
  const lockFile = recipe.replace(/\.yaml$/, '.lock');
  const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
  const filler = (i: number, suffix: string) => ({
    ...lock.packages[0],
    name: `zz-filler-${i}${suffix}-${'x'.repeat(150)}`,
    filename: `pool/main/z/zz${i}${suffix}/${'y'.repeat(200)}.deb`,
    sha256: createHash('sha256').update(`${i}${suffix}`).digest('hex'),
  });
  lock.test = [...(lock.test ?? []), ...Array.from({ length: 19_000 }, (_, i) => filler(i, 't'))];
  lock.build = [...(lock.build ?? []), ...Array.from({ length: 19_000 }, (_, i) => filler(i, 'b'))];
  writeFileSync(lockFile, JSON.stringify(lock, null, 2));
  expect(statSync(lockFile).size).toBeGreaterThan(20 * 1024 * 1024);
  const res = spawnSync(process.execPath, ['--max-old-space-size=400', path.join(projectRoot, 'dist/cli.js'), '--out', path.join(recipeDir, 'out'), 'plan', recipe], { encoding: 'utf8' });
  expect({ code: res.status, stderr: res.stderr }).toEqual({ code: 0, stderr: '' });
  removeDir(recipeDir);
});

describe('hostile archives and mirrors', () => {
  let nginx: Nginx;
  const archives: Record<string, ReturnType<typeof signedArchive>> = {};
  const suites = ['bookworm', 'bookworm-updates', 'bookworm-security'];
  const stanza = (filename: string) => `Package: xen-hypervisor-4.17-amd64\nVersion: 4.17.5+23-ga4e5191dc0-1\nArchitecture: amd64\nFilename: ${filename}\nSize: 10\nSHA256: ${'0'.repeat(64)}\n\n`;

  beforeAll(async () => {
    archives.expired = signedArchive({ suites, packages: stanza('pool/main/x/x.deb'), date: 'Sat, 01 Jan 2000 00:00:00 UTC', validUntil: 'Sun, 02 Jan 2000 00:00:00 UTC' });
    archives.future = signedArchive({ suites, packages: stanza('pool/main/x/x.deb'), date: 'Mon, 01 Jan 2035 00:00:00 UTC' });
    archives.escape = signedArchive({ suites, packages: stanza('pool/../../../../etc/x.deb'), date: new Date().toUTCString() });
    nginx = await startNginx(Object.fromEntries(Object.entries(archives).map(([k, a]) => [k, a.dir])));
  });
  afterAll(() => nginx.stop());

  const lockWith = (kind: string) => {
    const recipeDir = tempDir(`archive-${kind}`);
    const recipe = copyDefaultRecipe(recipeDir, (t) =>
      t
        .replaceAll('/usr/share/keyrings/debian-archive-keyring.gpg', archives[kind].keyring)
        .replace(/uri: http:\/\/deb\.debian\.org\/debian(-security)?\n/g, `uri: ${nginx.url(kind).replace(/\/$/, '')}\n`),
    );
    const res = xcpbuild(['--json', '--out', path.join(recipeDir, 'out'), 'lock', recipe]);
    return { res, recipe, recipeDir };
  };

  test.each([
    ['an expired Valid-Until', 'expired', /is expired|invalid since/],
    ['a Date in 2035', 'future', /not valid yet|invalid for another/],
  ])('a validly signed index with %s is a verification failure (exit 7) in apt\'s words', (_what, kind, words) => {
    const { res, recipeDir } = lockWith(kind);
    expect(res).toExitWith(7);
    expect(json<{ error: { message: string } }>(res).error.message).toMatch(words);
    removeDir(recipeDir);
  });

  test('a signed index whose Filename leaves the pool: lock refuses it (exit 7, archive and package named) and writes no lock', () => {
    const { res, recipe, recipeDir } = lockWith('escape');
    const before = readFileSync(recipe.replace(/\.yaml$/, '.lock'), 'utf8');
    expect(res).toExitWith(7);
    expect(json<{ error: { message: string } }>(res).error.message).toMatch(/archive debian .* lists package xen-hypervisor-4\.17-amd64 with Filename "pool\/\.\.\/\.\.\/\.\.\/\.\.\/etc\/x\.deb", not a plain relative path under pool\//);
    expect(readFileSync(recipe.replace(/\.yaml$/, '.lock'), 'utf8')).toBe(before);
    removeDir(recipeDir);
  });

  test('a mirror that drips a byte at a time fails within the throughput floor, with one line of cause; the partial stays for resume', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Length': '100000000' });
      const t = setInterval(() => res.write('x'), 300);
      res.on('close', () => clearInterval(t));
    });
    server.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/debian`;
    const cache = path.join(dir, 'drip-cache');
    try {
      const started = Date.now();
      // Started, not spawned synchronously: the dripping server lives in this process.
      const res = await startXcpbuild(['--locked', '--cache', cache, '--out', path.join(dir, 'drip-out'), '--mirror', `debian=${url}`, '--mirror', `debian-security=${url}`, 'fetch', defaultRecipe], {
        env: { XCPBUILD_DOWNLOAD_MIN_RATE: '1024', XCPBUILD_DOWNLOAD_RATE_WINDOW: '2' },
      }).done;
      expect(res).toExitWith(5);
      expect(res.stderr).toMatch(/xcpbuild: error: could not download .*slower than 1 KiB\/s/);
      expect((Date.now() - started) / 1000).toBeLessThan(120);
      expect(readdirSync(path.join(cache, 'partial')).length).toBeGreaterThan(0);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});

describe('secrets', () => {
  test('credentials in a --mirror URL are refused at parse time (exit 2) and written nowhere', () => {
    const out = path.join(dir, 'cred-out');
    const res = xcpbuild(['--out', out, '--mirror', 'debian=http://user:hunter2@127.0.0.1:9/debian', 'fetch', defaultRecipe]);
    expect(res).toExitWith(2);
    expect(res.stderr).toMatch(/credentials in a URL are refused/);
    expect(res.stderr + res.stdout).not.toContain('hunter2');
    const leaked = spawnSync('grep', ['-r', '-l', 'hunter2', out], { encoding: 'utf8' });
    expect(leaked.stdout).toBe('');
  });

  test('credentials in a recipe URL are a recipe error that does not echo them', () => {
    const recipeDir = tempDir('cred');
    const recipe = copyDefaultRecipe(recipeDir, (t) => t.replace('uri: http://deb.debian.org/debian\n', 'uri: http://user:hunter2@deb.debian.org/debian\n'));
    const res = xcpbuild(['validate', recipe]);
    expect(res).toExitWith(3);
    expect(res.stderr).toMatch(/archives\[0\]\.uri/);
    expect(res.stderr).not.toContain('hunter2');
    removeDir(recipeDir);
  });

  test("the passphrase given by environment reaches no child process's environment", async () => {
    const keyDir = path.join(dir, 'pp-keys');
    mkdirSync(keyDir);
    const home = path.join(dir, 'pp-gnupg');
    mkdirSync(home, { mode: 0o700 });
    const pass = 'pp-Secret-3141';
    const g = (args: string[]) => spawnSync('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', pass, ...args], { encoding: 'utf8' });
    expect(g(['--quick-generate-key', 'pp <pp@localhost>', 'ed25519', 'sign', 'never']).status).toBe(0);
    writeFileSync(path.join(keyDir, 'pp.key.asc'), g(['--armor', '--export-secret-keys']).stdout);
    spawnSync('gpgconf', ['--homedir', home, '--kill', 'all']);
    const out = path.join(dir, 'pp-out');
    const run = startXcpbuild(['--locked', '--out', out, ...mirror.args, '--signing-key', path.join(keyDir, 'pp.key.asc'), 'repo', defaultRecipe], { env: { XCPBUILD_SIGNING_KEY_PASSPHRASE: pass } });
    let seen = 0;
    let exposed: string[] = [];
    let finished = false;
    void run.done.then(() => (finished = true));
    while (!finished) {
      const found = childEnvironments(run.pid);
      seen += found.length;
      exposed = exposed.concat(found.filter((f) => f.environ.includes(pass)).map((f) => f.cmd));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await run.done).code).toBe(0);
    expect(seen).toBeGreaterThan(10);
    expect(exposed).toEqual([]);
  });
});

/** The environment blocks of every live descendant of `pid` (not `pid` itself, whose block is the one it was started with). */
function childEnvironments(pid: number): { cmd: string; environ: string }[] {
  const parents = new Map<number, number>();
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      parents.set(Number(p), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const descends = (p: number): boolean => {
    for (let q = parents.get(p); q; q = parents.get(q)) if (q === pid) return true;
    return false;
  };
  const out = [];
  for (const p of parents.keys()) {
    if (!descends(p)) continue;
    try {
      out.push({ cmd: readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 80), environ: readFileSync(`/proc/${p}/environ`, 'utf8') });
    } catch {
      // gone
    }
  }
  return out;
}

describe('paths and environment', () => {
  test('a relative TMPDIR is made absolute; one apt cannot take is refused up front with one line', () => {
    const rel = xcpbuild(['--out', path.join(dir, 'tmpdir-out'), 'plan', defaultRecipe], { env: { TMPDIR: '.' } });
    expect(rel).toExitWith(0);
    const spaced = path.join(dir, 'with space');
    mkdirSync(spaced, { recursive: true });
    const res = xcpbuild(['--locked', '--out', path.join(dir, 'tmpdir-out'), ...mirror.args, 'fetch', defaultRecipe], { env: { TMPDIR: spaced } });
    expect(res).toExitWith(3);
    expect(res.stderr.split('\n').filter((l) => l.startsWith('xcpbuild:'))).toEqual([expect.stringMatching(/^xcpbuild: error: TMPDIR: .*with space cannot be used/)]);
  });

  test('--out on a read-only mount says so', () => {
    const ro = path.join(dir, 'ro');
    mkdirSync(ro);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro]).status).toBe(0);
    try {
      const res = xcpbuild(['--locked', '--out', path.join(ro, 'out'), ...mirror.args, 'fetch', defaultRecipe]);
      expect(res).toExitWith(3);
      expect(res.stderr).toMatch(/read-only file system/);
    } finally {
      spawnSync('umount', [ro]);
    }
  });
});
