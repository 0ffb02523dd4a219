import { readFileSync, rmSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { xcpbuild, json, projectRoot } from '../helpers/cli';
import { tempDir, removeDir } from '../helpers/tmp';
import { buildYumArchive, testFedoraRecipe, copySources } from '../helpers/yum-archive';

jest.setTimeout(1_800_000);

/**
 * Fast checks of the appliance ISO (built in .test-out/, never the user's out/): its
 * structure and El Torito images, the signed image and the installer layer, the
 * answer-file validator, reproducibility of the ISO stage, damage found by verify. The
 * install and first boot under BIOS and UEFI are the boot test that `make test` runs
 * after this suite (xcpbuild boot-test).
 */
const recipe = path.join(projectRoot, 'recipes/xcp-bookworm.yaml');
const out = path.join(projectRoot, '.test-out');
const isoDir = path.join(out, 'xcp-bookworm', 'iso');
const iso = path.join(isoDir, 'xcp-bookworm-1.0.0-amd64.iso');
const fixtures = path.join(projectRoot, 'tests/fixtures/answers');
let dir: string;

function xorriso(...args: string[]): string {
  const res = spawnSync('xorriso', ['-indev', iso, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`xorriso failed: ${res.stderr}`);
  return res.stdout;
}

function isoFile(file: string): string {
  const dest = path.join(dir, path.basename(file));
  rmSync(dest, { force: true });
  spawnSync('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', file, dest], { encoding: 'utf8' });
  return readFileSync(dest, 'utf8');
}

beforeAll(() => {
  dir = tempDir('iso');
  const res = xcpbuild(['--locked', '--out', out, 'iso', recipe]);
  if (res.code !== 0) throw new Error(`xcpbuild iso failed (${res.code}): ${res.stderr}`);
});
afterAll(() => removeDir(dir));

describe('the appliance ISO', () => {
  test('is a hybrid ISO with a BIOS (isolinux) and a UEFI (FAT image) El Torito entry', () => {
    const report = xorriso('-report_el_torito', 'plain');
    expect(report).toMatch(/El Torito boot img :\s+1\s+BIOS\s+y\s+none/);
    expect(report).toMatch(/El Torito boot img :\s+2\s+UEFI\s+y\s+none/);
    expect(report).toMatch(/El Torito img path :\s+1\s+\/isolinux\/isolinux\.bin/);
    expect(report).toMatch(/El Torito img path :\s+2\s+\/boot\/grub\/efi\.img/);
    const sys = xorriso('-report_system_area', 'plain');
    expect(sys).toMatch(/MBR partition table/);
    expect(sys).toMatch(/GPT/);
    expect(xorriso('-pvd_info')).toMatch(/Volume Id\s*:\s*XCP_BOOKWORM/);
  });

  test('carries the installer, the signed repository and the answer file', () => {
    const files = xorriso('-find', '/', '-type', 'f', '--');
    for (const f of ['/live/vmlinuz', '/live/initrd.img', '/live/filesystem.squashfs', '/live/installer.squashfs', '/live/filesystem.module', '/live/SHA256SUMS', '/live/SHA256SUMS.sign', '/repo/dists/bookworm/InRelease', '/repo/xcp-bookworm-archive-keyring.gpg', '/preseed/xcp-bookworm.cfg', '/isolinux/isolinux.cfg', '/boot/grub/grub.cfg', '/EFI/BOOT/BOOTX64.EFI', '/.disk/mkisofs']) {
      expect(files).toContain(`'${f}'`);
    }
    const lock = JSON.parse(readFileSync(path.join(projectRoot, 'recipes/xcp-bookworm.lock'), 'utf8')) as { packages: { filename: string }[] };
    for (const p of lock.packages.slice(0, 20)) expect(files).toContain(`'/repo/${p.filename}'`);
    expect(readFileSync(`${iso}.sha256`, 'utf8')).toMatch(/^[0-9a-f]{64}  xcp-bookworm-1\.0\.0-amd64\.iso\n$/);
  });

  test('offers Install, Automated install and Rescue shell, each with a serial variant, in both boot loaders', () => {
    const isolinux = isoFile('/isolinux/isolinux.cfg');
    const grub = isoFile('/boot/grub/grub.cfg');
    for (const label of ['Install', 'Automated install (answer file)', 'Rescue shell']) {
      expect(isolinux).toContain(`MENU LABEL ${label}\n`);
      expect(isolinux).toContain(`MENU LABEL ${label} (serial console)\n`);
      expect(grub).toContain(`menuentry "${label}"`);
      expect(grub).toContain(`menuentry "${label} (serial console)"`);
    }
    expect(isolinux).toMatch(/APPEND boot=live components xcp\.answers=\/preseed\/xcp-bookworm\.cfg console=tty0 console=ttyS0,115200n8/);
  });

  test('the embedded answer file has no default password: the automated installer would refuse it', () => {
    const file = path.join(dir, 'embedded.cfg');
    require('node:fs').writeFileSync(file, isoFile('/preseed/xcp-bookworm.cfg'));
    const res = xcpbuild(['preseed', 'check', file]);
    expect(res).toExitWith(3);
    expect(res.stderr).toContain('no credentials: an automated install needs passwd/root-password-crypted or at least one xcp/ssh-authorized-key');
    expect(xcpbuild(['preseed', 'check', '--interactive', file]).code).toBe(0);
  });

  test('records how it was made without the paths of this build', () => {
    const recorded = isoFile('/.disk/mkisofs');
    expect(recorded).toMatch(/^xorriso -as mkisofs -o <iso> .*-isohybrid-mbr <installer>\/isolinux\/isohdpfx\.bin /);
    expect(recorded).not.toContain(projectRoot);
  });

  test('the ISO stage is reproducible: rebuilt, it is bit-identical', () => {
    const before = readFileSync(`${iso}.sha256`, 'utf8');
    copyFileSync(`${iso}.sha256`, path.join(dir, 'before.sha256'));
    rmSync(isoDir, { recursive: true, force: true });
    const res = xcpbuild(['--locked', '--out', out, '--json', 'iso', recipe]);
    expect(res).toExitWith(0);
    const stages = json<{ stages: { id: string; status: string }[] }>(res).stages;
    expect(stages.find((s) => s.id === 'iso')?.status).toBe('built');
    expect(stages.find((s) => s.id === 'installer')?.status).toBe('up-to-date');
    expect(readFileSync(`${iso}.sha256`, 'utf8')).toBe(before);
  });

  test("the image's checksum is signed by the repository's key, and the live system stacks the installer's layer over the image", () => {
    for (const f of ['/live/SHA256SUMS', '/live/SHA256SUMS.sign', '/repo/xcp-bookworm-archive-keyring.gpg']) isoFile(f);
    const v = spawnSync('gpgv', ['--keyring', path.join(dir, 'xcp-bookworm-archive-keyring.gpg'), path.join(dir, 'SHA256SUMS.sign'), path.join(dir, 'SHA256SUMS')], { encoding: 'utf8' });
    expect(v.status).toBe(0);
    const image = path.join(out, 'xcp-bookworm/image/filesystem.squashfs');
    const sum = spawnSync('sha256sum', [image], { encoding: 'utf8' }).stdout.split(' ')[0];
    expect(readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8')).toBe(`${sum}  filesystem.squashfs\n`);
    expect(isoFile('/live/filesystem.module')).toBe('filesystem.squashfs\ninstaller.squashfs\n');
  });

  test('no squashfs on the medium carries build-host metadata: every extended attribute of every file is listed, none is overlayfs bookkeeping', () => {
    const allowed = new Set(['security.capability', 'trusted.overlay.opaque']);
    for (const name of isoFile('/live/filesystem.module').trim().split('\n')) {
      const file = path.join(dir, name);
      rmSync(file, { force: true });
      expect(spawnSync('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', `/live/${name}`, file]).status).toBe(0);
      const tree = path.join(dir, `${name}.d`);
      rmSync(tree, { recursive: true, force: true });
      expect(spawnSync('unsquashfs', ['-q', '-n', '-d', tree, file]).status).toBe(0);
      const listing = spawnSync('getfattr', ['--recursive', '--physical', '--no-dereference', '--absolute-names', '-m', '-', tree], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
      expect(listing.status).toBe(0);
      const names = new Set(listing.stdout.split('\n').filter((l) => l && !l.startsWith('# file: ')));
      expect({ name, names: [...names].filter((n) => !allowed.has(n)) }).toEqual({ name, names: [] });
      rmSync(tree, { recursive: true, force: true });
      rmSync(file, { force: true });
    }
  });

  test('the image carries no per-host state and is signature-checked apt-installable from the served repository', () => {
    const image = path.join(out, 'xcp-bookworm/image/filesystem.squashfs');
    const list = spawnSync('unsquashfs', ['-l', image], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).stdout;
    for (const gone of ['etc/ssh/ssh_host_ed25519_key', 'etc/iscsi/initiatorname.iscsi', 'etc/openvswitch/conf.db', 'var/lib/systemd/random-seed', 'etc/hostname']) {
      expect(list).not.toContain(`squashfs-root/${gone}\n`);
    }
    const cat = (f: string) => spawnSync('unsquashfs', ['-cat', image, f], { encoding: 'utf8' }).stdout;
    expect(cat('etc/machine-id')).toBe('');
    expect(cat('etc/apt/sources.list.d/xcp-bookworm.sources')).toContain('Signed-By: /usr/share/keyrings/xcp-bookworm-archive-keyring.gpg');
    // The host follows the recipe's update channel.
    expect(cat('etc/apt/sources.list.d/xcp-bookworm.sources')).toMatch(/^URIs: http:\/\/127\.0\.0\.1:8080\/xcp-bookworm\/channels\/stable\/\nSuites: stable$/m);
    expect(list).toContain('squashfs-root/boot/initrd.img-6.1.0-56-amd64\n');
    expect(list).not.toContain('squashfs-root/etc/apt/sources.list\n');
    const layer = spawnSync('unsquashfs', ['-l', path.join(out, 'xcp-bookworm/installer/installer.squashfs')], { encoding: 'utf8' }).stdout;
    expect(layer).toContain('squashfs-root/usr/lib/xcp-installer/xcp-install\n');
    expect(layer).toContain('squashfs-root/etc/systemd/system/multipathd.service\n');
    expect(layer).not.toMatch(/squashfs-root\/boot\//);
  });

  test('verify finds an ISO damaged behind the build (mtime kept), and the cheap check of the next build does not need verify for a plain edit', () => {
    const st = require('node:fs').statSync(iso);
    const fd = require('node:fs').openSync(iso, 'r+');
    const b = Buffer.alloc(1);
    require('node:fs').readSync(fd, b, 0, 1, 40 * 1048576);
    b[0] ^= 0xff;
    require('node:fs').writeSync(fd, b, 0, 1, 40 * 1048576);
    require('node:fs').utimesSync(iso, st.atime, st.mtime);
    const res = xcpbuild(['--json', '--out', out, 'verify', recipe]);
    expect(res).toExitWith(7);
    expect(json<{ problems: string[] }>(res).problems).toEqual(
      expect.arrayContaining(['iso: xcp-bookworm-1.0.0-amd64.iso: content differs from what was built (sha256)', 'iso: xcp-bookworm-1.0.0-amd64.iso does not match its .sha256']),
    );
    b[0] ^= 0xff;
    require('node:fs').writeSync(fd, b, 0, 1, 40 * 1048576);
    require('node:fs').closeSync(fd);
    require('node:fs').utimesSync(iso, st.atime, st.mtime);
    expect(xcpbuild(['--out', out, 'verify', recipe]).code).toBe(0);
  });
});

describe('answer files', () => {
  test("a fedora recipe's ISO remasters a boot ISO (this one, standing in for Fedora's): kickstart, repository and inst.ks= in every BIOS and UEFI entry", () => {
    const archive = buildYumArchive();
    const fdir = path.join(dir, 'fedora');
    require('node:fs').mkdirSync(fdir);
    copySources(fdir);
    const file = path.join(fdir, 'xcp-test-fedora.yaml');
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHxcpbuildtestkeyxcpbuildtestkeyxcpbuild00 admin@example.org';
    const isoSection = `iso:\n  volumeLabel: XCP_TEST_FEDORA\n  publisher: xcpbuild\n  timeout: 5\n  xenCmdline: dom0_mem=1024M\n  dom0Cmdline: console=hvc0\n  vmVolumeGroup: xcp-vms\n  sshAuthorizedKeys:\n    - ${key}\n`;
    require('node:fs').writeFileSync(file, testFedoraRecipe(`file://${archive.dir}`, archive.key, 'http://xcp.example.org/fedora') + isoSection);
    const fout = path.join(dir, 'fedora-out');
    expect(xcpbuild(['lock', file]).code).toBe(0);
    const missing = xcpbuild(['--out', fout, 'iso', file]);
    expect(missing).toExitWith(2);
    expect(missing.stderr).toContain('give it with --base-iso <boot.iso>');
    const res = xcpbuild(['--json', '--out', fout, 'iso', '--base-iso', iso, file]);
    expect(`${res.code} ${res.code ? res.stdout : ''}`).toBe('0 ');
    const remastered = path.join(fout, 'xcp-test-fedora/iso/xcp-test-fedora-1.0.0-amd64.iso');
    const x = (...args: string[]) => spawnSync('xorriso', ['-indev', remastered, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).stdout;
    const extract = (f: string) => {
      const dest = path.join(dir, `remastered-${path.basename(f)}`);
      spawnSync('xorriso', ['-osirrox', 'on', '-indev', remastered, '-extract', f, dest]);
      return dest;
    };
    const report = x('-report_el_torito', 'plain');
    expect(report).toMatch(/El Torito img path :\s+1\s+\/isolinux\/isolinux\.bin/);
    expect(report).toMatch(/El Torito img path :\s+2\s+\/boot\/grub\/efi\.img/);
    expect(x('-report_system_area', 'plain')).toMatch(/GPT/);
    const files = x('-find', '/', '-type', 'f', '--');
    for (const f of ['/ks.cfg', '/repo/repodata/repomd.xml', '/repo/repodata/repomd.xml.asc', '/repo/xcp-test-fedora.repo', '/repo/Packages/x/xcp-full-1.0.0-1.noarch.rpm', '/live/vmlinuz']) expect(files).toContain(`'${f}'`);
    const ks = extract('/ks.cfg');
    expect(xcpbuild(['kickstart', 'check', ks, '--package', 'xcp-full-1.0.0-1']).code).toBe(0);
    expect(readFileSync(ks, 'utf8')).toContain(`sshkey --username=root "${key}"`);
    const arg = 'inst.ks=hd:LABEL=XCP_BOOKWORM:/ks.cfg';
    for (const cfg of ['/isolinux/isolinux.cfg', '/boot/grub/grub.cfg']) {
      const lines = readFileSync(extract(cfg), 'utf8').split('\n').filter((l) => /^\s*(APPEND|linux)\s/.test(l));
      expect(lines.length).toBe(6);
      for (const l of lines) expect(l.endsWith(` ${arg}`)).toBe(true);
    }
    const efi = extract('/boot/grub/efi.img');
    expect(spawnSync('mdir', ['-i', efi, '-/', '-b', '::/'], { encoding: 'utf8' }).stdout).toContain('::/EFI/BOOT/BOOTX64.EFI');
    removeDir(path.dirname(archive.dir));
  });

  test('a complete answer file is valid', () => {
    const res = xcpbuild(['preseed', 'check', path.join(fixtures, 'good.cfg')]);
    expect(res.stderr).toBe('');
    expect(res).toExitWith(0);
    expect(res.stdout).toMatch(/good\.cfg: valid \(15 installer answers, 1 ssh key\(s\), 1 debconf selection\(s\)\)/);
  });

  test('every error of a bad answer file is reported with its line', () => {
    const res = xcpbuild(['--json', 'preseed', 'check', path.join(fixtures, 'bad.cfg')]);
    expect(res).toExitWith(3);
    const errors = json<{ error: { details: string[] } }>(res).error.details.map((e) => e.replace(/^.*bad\.cfg/, 'bad.cfg'));
    expect(errors).toEqual([
      'bad.cfg:2: passwd/root-password: plain-text passwords are not accepted; give passwd/root-password-crypted (a crypt(3) hash, e.g. from mkpasswd -m sha-512)',
      expect.stringMatching(/^bad\.cfg:6: xcp\/disk-encryption: unknown installer question/),
      'bad.cfg:7: expected \'<owner> <question> <type> <value>\', found \'d-i time/zone\'',
      "bad.cfg:1: xcp/target-disk: expected a device path such as /dev/sda or 'auto', found 'sda'",
      "bad.cfg:4: netcfg/get_hostname: expected a host name (letters, digits, -), found 'not_a_host'",
      'bad.cfg:3: xcp/network: static needs netcfg/get_ipaddress',
      'bad.cfg:3: xcp/network: static needs netcfg/get_netmask',
      'bad.cfg:3: xcp/network: static needs netcfg/get_gateway',
      "bad.cfg:5: xcp/finish: expected reboot or poweroff, found 'halt'",
      "bad.cfg:8: base-installer/initramfs-tools/driver-policy: expected most or dep, found 'targeted'",
      'bad.cfg: no credentials: an automated install needs passwd/root-password-crypted or at least one xcp/ssh-authorized-key (there is no default password)',
    ]);
  });

  test('a missing answer file is named', () => {
    const res = xcpbuild(['preseed', 'check', '/nonexistent/answers.cfg']);
    expect(res).toExitWith(3);
    expect(res.stderr).toContain('/nonexistent/answers.cfg: cannot read the answer file');
  });
});
