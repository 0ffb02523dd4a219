import { statSync, existsSync, mkdirSync, writeFileSync, readFileSync, symlinkSync, cpSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadDescription } from '../../src/sources/load';
import { extractSourceTarball } from '../../src/sources/tarball';
import { BuildLog } from '../../src/util/log';
import { tempDir, removeDir } from '../helpers/tmp';

const root = path.resolve(__dirname, '../..');
let dir: string;
beforeEach(() => {
  dir = tempDir('sources');
});
afterEach(() => removeDir(dir));

function tree(edit: (text: string) => string): string {
  const t = path.join(dir, 'xcp-host');
  cpSync(path.join(root, 'sources/xcp-host'), t, { recursive: true });
  const file = path.join(t, 'xcp-host.pkg.yaml');
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
  return t;
}

const message = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'no error';
  } catch (err) {
    const e = err as { message: string; details?: string[] };
    return [e.message, ...(e.details ?? [])].join('\n');
  }
};

describe('packaging descriptions are hostile until validated', () => {
  test("the project's own xcp-host description is valid", async () => {
    const desc = await loadDescription(path.join(root, 'sources/xcp-host'), 'xcp-host', '1.1.0-1');
    expect(desc.files.map((f) => f.dest)).toContain('/usr/bin/xcp-host-info');
  });

  test('a file from outside the tree, or installed outside /usr and /etc, is refused with file:line', async () => {
    const t = tree((s) => s.replace('source: bin/xcp-host-info, dest: /usr/bin/xcp-host-info', 'source: ../../etc/shadow, dest: /usr/../etc/passwd'));
    const msg = await message(loadDescription(t, 'xcp-host', '1.1.0-1'));
    expect(msg).toMatch(/xcp-host\.pkg\.yaml:\d+:\d+: files\[4\]\.source: expected a file of the source tree, relative to it \(no \.\., no absolute path\)/);
    expect(msg).toMatch(/files\[4\]\.dest: expected an absolute path under \/usr or \/etc/);
  });

  test('a newline or a % in the summary cannot reach the control file or the spec unchecked', async () => {
    const t = tree((s) => s.replace('summary: Host integration of the xcpbuild Xen appliance', 'summary: "x\\nDepends: evil"'));
    expect(await message(loadDescription(t, 'xcp-host', '1.1.0-1'))).toMatch(/summary: expected a one-line synopsis/);
  });

  test('a version other than the recipe pins, and a listed file that is missing, are named', async () => {
    const t = tree((s) => s.replace('source: man/xcp-host-info.1', 'source: man/missing.1'));
    const msg = await message(loadDescription(t, 'xcp-host', '1.0.0-2'));
    expect(msg).toContain('version-release is 1.1.0-1, but the recipe pins 1.0.0-2');
    expect(msg).toContain('man/missing.1 is not in the source tree');
  });
});

describe('source tarballs are unpacked only if every member is a plain file or directory', () => {
  const log = new BuildLog(undefined, false);
  test('a symbolic link in the tarball is refused before anything is written', async () => {
    const src = path.join(dir, 'src', 'xcp-host-1.0.0');
    mkdirSync(src, { recursive: true });
    writeFileSync(path.join(src, 'ok'), 'x');
    symlinkSync('/etc/shadow', path.join(src, 'evil'));
    const tarball = path.join(dir, 't.tar.gz');
    expect(spawnSync('tar', ['-czf', tarball, '-C', path.join(dir, 'src'), 'xcp-host-1.0.0']).status).toBe(0);
    expect(await message(extractSourceTarball(log, tarball, path.join(dir, 'out'), 'test', 1000))).toMatch(/test: the tarball holds xcp-host-1\.0\.0\/evil -> \/etc\/shadow, which is not a regular file or directory \(refused\)/);
  });

  test('a tarball that expands far beyond its declared size is refused before anything is unpacked', async () => {
    const src = path.join(dir, 'bomb', 'pkg-1.0');
    mkdirSync(src, { recursive: true });
    expect(spawnSync('truncate', ['-s', '200M', path.join(src, 'zeros')]).status).toBe(0);
    const tarball = path.join(dir, 'bomb.tar.gz');
    expect(spawnSync('tar', ['-czf', tarball, '-C', path.join(dir, 'bomb'), 'pkg-1.0']).status).toBe(0);
    const dest = path.join(dir, 'bomb-out');
    expect(await message(extractSourceTarball(log, tarball, dest, 'bomb', statSync(tarball).size))).toMatch(/bomb: the tarball expands to more than 64 MiB .*refused before unpacking/);
    expect(existsSync(path.join(dest, 'zeros'))).toBe(false);
  });

  test('a plain tarball is unpacked without its top directory', async () => {
    const src = path.join(dir, 'src', 'xcp-host-1.0.0');
    mkdirSync(src, { recursive: true });
    writeFileSync(path.join(src, 'ok'), 'x');
    const tarball = path.join(dir, 't.tar.gz');
    spawnSync('tar', ['-czf', tarball, '-C', path.join(dir, 'src'), 'xcp-host-1.0.0']);
    await extractSourceTarball(log, tarball, path.join(dir, 'out'), 'test', 1000);
    expect(readFileSync(path.join(dir, 'out', 'ok'), 'utf8')).toBe('x');
  });
});
