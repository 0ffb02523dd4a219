import { readFileSync, existsSync, rmSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { xcpbuild, json, projectRoot } from '../helpers/cli';
import { tempDir, removeDir } from '../helpers/tmp';
import { runQemu, ovmf } from '../../src/boottest/qemu';

jest.setTimeout(1_800_000);

/**
 * Fast checks of the appliance ISO: its structure and El Torito images, the answer-file
 * validator, reproducibility of the ISO stage, and a BIOS and a UEFI boot in QEMU (TCG)
 * to the installer's first message on the serial console. The full install and first
 * boot are `make e2e` (xcpbuild boot-test).
 */
const recipe = path.join(projectRoot, 'recipes/xcp-bookworm.yaml');
const out = path.join(projectRoot, 'out');
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
    for (const f of ['/live/vmlinuz', '/live/initrd.img', '/live/filesystem.squashfs', '/repo/dists/bookworm/InRelease', '/repo/xcp-bookworm-archive-keyring.gpg', '/preseed/xcp-bookworm.cfg', '/isolinux/isolinux.cfg', '/boot/grub/grub.cfg', '/EFI/BOOT/BOOTX64.EFI', '/.disk/mkisofs']) {
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
    expect(res.code).toBe(3);
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
    expect(res.code).toBe(0);
    const stages = json<{ stages: { id: string; status: string }[] }>(res).stages;
    expect(stages.find((s) => s.id === 'iso')?.status).toBe('built');
    expect(stages.find((s) => s.id === 'installer')?.status).toBe('up-to-date');
    expect(readFileSync(`${iso}.sha256`, 'utf8')).toBe(before);
  });

  test.each(['bios', 'uefi'] as const)('boots under %s in QEMU to the installer\'s first message on the serial console', async (firmware) => {
    let varsFile: string | undefined;
    if (firmware === 'uefi') {
      varsFile = path.join(dir, 'OVMF_VARS.fd');
      copyFileSync(ovmf.vars, varsFile);
    }
    const disk = path.join(dir, `${firmware}.qcow2`);
    spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '4G']);
    const result = await runQemu({
      firmware,
      varsFile,
      disks: [{ file: disk, format: 'qcow2' }],
      cdrom: iso,
      bootFromCdrom: true,
      serialLog: path.join(dir, `${firmware}.serial.log`),
      timeoutMs: 600_000,
      stopWhen: /xcp-installer: step: find the installation medium/,
    });
    expect(result.timedOut).toBe(false);
    expect(result.text).toMatch(firmware === 'bios' ? /ISOLINUX/ : /GNU GRUB/);
    expect(result.text).toContain('xcp-installer: xcpbuild installer for xcp-bookworm 1.0.0');
  });
});

describe('answer files', () => {
  test('a complete answer file is valid', () => {
    const res = xcpbuild(['preseed', 'check', path.join(fixtures, 'good.cfg')]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/good\.cfg: valid \(15 installer answers, 1 ssh key\(s\), 1 debconf selection\(s\)\)/);
  });

  test('every error of a bad answer file is reported with its line', () => {
    const res = xcpbuild(['--json', 'preseed', 'check', path.join(fixtures, 'bad.cfg')]);
    expect(res.code).toBe(3);
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
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('/nonexistent/answers.cfg: cannot read the answer file');
  });
});
