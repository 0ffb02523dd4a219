import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { projectRoot } from '../helpers/cli';
import { startMirror, Mirror, defaultRecipe } from '../helpers/mirror';
import { tempDir, removeDir } from '../helpers/tmp';

jest.setTimeout(600_000);

/**
 * The metapackages and the signed repository are bit-identical whatever the build
 * environment: another output path, another cache, umask 077, another time zone and
 * locale, a later clock. (`make repro` does the same for the whole ISO.)
 */
let mirror: Mirror;
let dir: string;

beforeAll(async () => {
  mirror = await startMirror();
  dir = tempDir('repro');
});
afterAll(async () => {
  await mirror?.stop();
  if (dir) removeDir(dir);
});

function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const f = path.join(d, n);
      const st = statSync(f);
      const rel = path.relative(root, f);
      if (n === '.xcpbuild-stage.json') continue;
      if (st.isDirectory()) {
        out[rel] = `dir ${(st.mode & 0o7777).toString(8)}`;
        walk(f);
      } else out[rel] = `${(st.mode & 0o7777).toString(8)} ${st.mtimeMs} ${createHash('sha256').update(readFileSync(f)).digest('hex')}`;
    }
  };
  walk(root);
  return out;
}

function buildIn(name: string, shellPrefix: string, env: Record<string, string>) {
  const out = path.join(dir, name, 'out dir');
  const cache = path.join(dir, name, 'cache');
  const args = ['--locked', '--cache', cache, '--out', out, ...mirror.args, 'repo', defaultRecipe].map((a) => `'${a}'`).join(' ');
  const res = spawnSync('sh', ['-c', `${shellPrefix} exec node '${path.join(projectRoot, 'dist/cli.js')}' ${args}`], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (res.status !== 0) throw new Error(`${name}: ${res.stderr}`);
  return path.join(out, 'xcp-bookworm');
}

test('two builds in different environments make identical metapackages and repositories, signatures included', () => {
  const a = buildIn('a', 'umask 022;', { TZ: 'UTC', LANG: 'C.UTF-8' });
  const b = buildIn('b', 'umask 077;', { TZ: 'Pacific/Chatham', LANG: 'fr_FR.UTF-8', LC_ALL: '' });
  for (const stage of ['build', 'meta', 'repo']) {
    const ta = tree(path.join(a, stage));
    const tb = tree(path.join(b, stage));
    expect(Object.keys(tb)).toEqual(Object.keys(ta));
    const differing = Object.keys(ta).filter((k) => ta[k] !== tb[k]);
    expect(differing).toEqual([]);
  }
  const repo = tree(path.join(b, 'repo'));
  expect(repo['dists/bookworm/InRelease']).toMatch(/^644 /);
  expect(repo.dists).toBe('dir 755');
});
