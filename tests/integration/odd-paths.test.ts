import { cpSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../helpers/cli';
import { tempDir, removeDir } from '../helpers/tmp';
import { startMirror, Mirror } from '../helpers/mirror';

jest.setTimeout(1_800_000);

/**
 * The ISO built end to end from a checkout, an output and a cache whose paths hold a
 * space (and other characters a shell or apt would split on): every stage runs cold in
 * its own cache, so mmdebstrap, apt and the overlay mount all see those paths.
 */
let dir: string;
let mirror: Mirror;

beforeAll(async () => {
  dir = tempDir('odd-paths');
  mirror = await startMirror();
});
afterAll(async () => {
  await mirror.stop();
  removeDir(dir);
});

test('a checkout, out and cache under paths with a space, # and $ build the ISO', () => {
  const checkout = path.join(dir, 'x y', 'check#out $1');
  mkdirSync(checkout, { recursive: true });
  for (const d of ['dist', 'recipes', 'templates', 'sources', 'isolinux', 'preseed', 'kickstart', 'package.json']) {
    if (existsSync(path.join(projectRoot, d))) cpSync(path.join(projectRoot, d), path.join(checkout, d), { recursive: true });
  }
  symlinkSync(path.join(projectRoot, 'node_modules'), path.join(checkout, 'node_modules'));
  const cache = path.join(dir, 'c a c h e');
  const res = spawnSync(process.execPath, [path.join(checkout, 'dist/cli.js'), '--locked', '--cache', cache, '--out', path.join(checkout, 'out'), ...mirror.args, 'iso', 'xcp-bookworm'], {
    cwd: checkout,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  expect({ code: res.status, stderr: res.status === 0 ? '' : res.stderr }).toEqual({ code: 0, stderr: '' });
  expect(existsSync(path.join(checkout, 'out/xcp-bookworm/iso/xcp-bookworm-1.0.0-amd64.iso'))).toBe(true);
});
