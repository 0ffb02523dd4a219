import { promises as fs, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { xcpbuild, projectRoot } from '../helpers/cli';
import { startNginx, Nginx } from '../helpers/nginx';
import { tempDir, removeDir } from '../helpers/tmp';

jest.setTimeout(900_000);

/**
 * The admin's view: a fresh bookworm chroot made by mmdebstrap from the Debian
 * archive, our repository served by a real nginx on 127.0.0.1, and real apt
 * inside the chroot with signature checking on.
 */
let dir: string;
let nginx: Nginx;
let results: string;
const recipe = path.join(projectRoot, 'recipes/xcp-bookworm.yaml');
const lock = JSON.parse(readFileSync(path.join(projectRoot, 'recipes/xcp-bookworm.lock'), 'utf8')) as { packages: { name: string; version: string }[] };

function sh(cmd: string, args: string[]): void {
  const res = spawnSync(cmd, args, { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${res.stderr}`);
}

/** A hard-linked copy of the repository whose files we may then replace (never modify in place). */
async function linkedCopy(src: string, dest: string): Promise<void> {
  sh('cp', ['-al', src, dest]);
}

async function replaceFile(file: string, data: string | Buffer): Promise<void> {
  await fs.unlink(file);
  await fs.writeFile(file, data);
}

const read = (name: string) => readFileSync(path.join(results, name), 'utf8');

beforeAll(async () => {
  dir = tempDir('apt');
  await fs.chmod(dir, 0o755); // nginx's workers run as nobody
  const out = path.join(dir, 'out');
  const build = xcpbuild(['--locked', '--out', out, 'repo', recipe]);
  if (build.code !== 0) throw new Error(`repo build failed: ${build.stderr}`);
  const repo = path.join(out, 'xcp-bookworm', 'repo');

  const tampered = path.join(dir, 'tampered');
  await linkedCopy(repo, tampered);
  const bin = path.join(tampered, 'dists/bookworm/main/binary-amd64');
  const packages = readFileSync(path.join(bin, 'Packages'), 'utf8').replace(/^(Package: xen-hypervisor-4\.17-amd64\n(?:.+\n)*?Version: ).*$/m, '$14.17.99-1');
  await replaceFile(path.join(bin, 'Packages'), packages);
  await replaceFile(path.join(bin, 'Packages.gz'), gzipSync(packages));
  await fs.unlink(path.join(bin, 'Packages.xz'));
  sh('xz', ['--keep', path.join(bin, 'Packages')]);

  const unsigned = path.join(dir, 'unsigned');
  await linkedCopy(repo, unsigned);
  await fs.unlink(path.join(unsigned, 'dists/bookworm/InRelease'));
  await fs.unlink(path.join(unsigned, 'dists/bookworm/Release.gpg'));

  nginx = await startNginx({ xcp: repo, tampered, unsigned });
  results = path.join(dir, 'results');
  await fs.mkdir(results);

  const sources = (prefix: string) => readFileSync(path.join(repo, 'xcp-bookworm.sources'), 'utf8').replace(/^URIs: .*$/m, `URIs: ${nginx.url(prefix)}`).replace(/^Suites: .*$/m, 'Suites: bookworm');
  writeFileSync(path.join(dir, 'good.sources'), sources('xcp'));
  writeFileSync(path.join(dir, 'tampered.sources'), sources('tampered'));
  writeFileSync(path.join(dir, 'unsigned.sources'), sources('unsigned'));
  // Runs inside mmdebstrap's customize phase (with /proc, /sys, /dev mounted); records each step's exit code.
  const hook = `#!/bin/bash
set -u
root="$1"; R="${results}"; D="${dir}"
step() { name="$1"; shift; "$@" > "$R/$name.log" 2>&1; echo $? > "$R/$name.rc"; }
cp "${repo}/xcp-bookworm-archive-keyring.gpg" "$root/usr/share/keyrings/"
rm -f "$root/etc/apt/sources.list" "$root"/etc/apt/sources.list.d/*
use() { cp "$D/$1.sources" "$root/etc/apt/sources.list.d/xcp-bookworm.sources"; rm -rf "$root"/var/lib/apt/lists/*; }
use good
step update chroot "$root" apt-get update
step install chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y xenserver-core
chroot "$root" dpkg-query -W -f='\${Package} \${Version}\\n' > "$R/versions.txt"
step host-install chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y xcp-host
step libvirtd-unit chroot "$root" sh -c 'test -f /usr/lib/systemd/system/libvirtd.service && dpkg -S /usr/lib/systemd/system/libvirtd.service.d/xcp-host.conf && cat /usr/lib/systemd/system/libvirtd.service.d/xcp-host.conf'
step host-info chroot "$root" /usr/bin/xcp-host-info
use tampered
step tampered chroot "$root" apt-get update
use unsigned
step unsigned chroot "$root" apt-get update
exit 0
`;
  writeFileSync(path.join(dir, 'hook.sh'), hook, { mode: 0o755 });
  const mm = spawnSync(
    'mmdebstrap',
    ['--variant=minbase', '--mode=root', `--customize-hook=${path.join(dir, 'hook.sh')} "$1"`, 'bookworm', path.join(dir, 'chroot'), 'deb http://deb.debian.org/debian bookworm main'],
    { encoding: 'utf8' },
  );
  if (mm.status !== 0) throw new Error(`mmdebstrap failed: ${mm.stderr.split('\n').slice(-15).join('\n')}`);
});

afterAll(async () => {
  await nginx?.stop();
  if (dir) removeDir(dir);
});

describe('apt install xenserver-core from the generated repository', () => {
  test('apt-get update verifies the signed repository', () => {
    expect({ rc: read('update.rc').trim(), log: read('update.log') }).toEqual({ rc: '0', log: expect.not.stringMatching(/^(W|E):/m) });
  });

  test('apt-get install -y xenserver-core succeeds', () => {
    expect({ rc: read('install.rc').trim(), log: read('install.log').slice(-2000) }).toEqual({ rc: '0', log: expect.any(String) });
  });

  test('dpkg-query shows the pinned Xen and kernel, and every installed package matches the lock', () => {
    const installed = new Map(read('versions.txt').trim().split('\n').map((l) => l.split(' ') as [string, string]));
    expect(installed.get('xen-hypervisor-4.17-amd64')).toBe('4.17.7+13-g2445b30a44-0+deb12u1');
    expect(installed.get('linux-image-6.1.0-56-amd64')).toBe('6.1.192-2');
    expect(installed.get('xenserver-core')).toBe('1.0.0');
    const locked = new Map(lock.packages.map((p) => [p.name, p.version]));
    for (const name of ['xen-utils-4.17', 'libvirt-daemon-driver-xen', 'openvswitch-switch', 'lvm2', 'open-iscsi']) {
      expect(installed.get(name)).toBe(locked.get(name));
    }
  });

  test("xcp-host (built from sources/xcp-host) installs; libvirtd starts after Xen's services, so its Xen driver finds Xen", () => {
    expect({ rc: read('host-install.rc').trim(), log: read('host-install.log').slice(-1000) }).toEqual({ rc: '0', log: expect.any(String) });
    expect(read('libvirtd-unit.rc').trim()).toBe('0');
    expect(read('libvirtd-unit.log')).toMatch(/^xcp-host: \/usr\/lib\/systemd\/system\/libvirtd\.service\.d\/xcp-host\.conf\n[^]*^After=xen\.service xenstored\.service xen-init-dom0\.service$/m);
  });

  test('xcp-host-info lists the toolstack against the versions xenserver-core pins', () => {
    const out = read('host-info.log');
    expect({ rc: read('host-info.rc').trim(), out }).toEqual({ rc: '0', out: expect.stringMatching(/^xen: +not running$/m) });
    const pinned = lock.packages.find((p) => p.name === 'xen-utils-4.17')!;
    expect(out).toMatch(new RegExp(`^  xen-utils-4\\.17 +${pinned.version.replace(/[.+]/g, '\\$&')}$`, 'm'));
    expect(out).not.toMatch(/\(pinned (?!by )/); // a mismatch reads "(pinned <version>)"
  });

  test('a tampered Packages file is refused', () => {
    expect(read('tampered.rc').trim()).not.toBe('0');
    expect(read('tampered.log')).toMatch(/Hash Sum mismatch|unexpected size/);
  });

  test('an unsigned repository is refused', () => {
    expect(read('unsigned.rc').trim()).not.toBe('0');
    expect(read('unsigned.log')).toMatch(/is not signed/);
  });
});
