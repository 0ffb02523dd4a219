import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BuildContext } from '../../plan/types';
import { run } from '../../util/proc';
import { render, templateDir } from '../../util/templates';
import { XcpError } from '../../errors';
import { keyringName } from '../../format/deb/apt-repo';
import { installerOutputs } from '../../iso/layout';
import { confine, copyVerified } from '../../util/fsutil';
import { shellQuote } from '../../util/text';

const isolinuxFiles: [string, string][] = [
  ['usr/lib/ISOLINUX/isolinux.bin', 'isolinux.bin'],
  ['usr/lib/ISOLINUX/isohdpfx.bin', 'isohdpfx.bin'],
  ['usr/lib/syslinux/modules/bios/ldlinux.c32', 'ldlinux.c32'],
  ['usr/lib/syslinux/modules/bios/libcom32.c32', 'libcom32.c32'],
  ['usr/lib/syslinux/modules/bios/libutil.c32', 'libutil.c32'],
  ['usr/lib/syslinux/modules/bios/menu.c32', 'menu.c32'],
];

/** Top-level directories of a Debian root, never removed when cleaning up a mount point. */
const rootDirs = new Set(['bin', 'boot', 'dev', 'etc', 'home', 'lib', 'lib64', 'media', 'mnt', 'opt', 'proc', 'root', 'run', 'sbin', 'srv', 'sys', 'tmp', 'usr', 'var']);

/** The directories (deepest first) mmdebstrap's file-mirror hook creates in the chroot to mount `dir` on. */
export function mountPointChain(dir: string): string[] {
  const parts = path.resolve(dir).split('/').filter(Boolean);
  const chain: string[] = [];
  for (let i = parts.length; i >= 1; i--) {
    if (i === 1 && rootDirs.has(parts[0])) break;
    chain.push('/' + parts.slice(0, i).join('/'));
  }
  return chain;
}

/**
 * Builds the installer environment offline from the lock's installer closure:
 * a root file system made by mmdebstrap (with live-boot, so its initramfs finds
 * and mounts the root image on the medium), the installer added, squashed.
 */
export async function buildInstallerEnv(ctx: BuildContext, outDir: string): Promise<void> {
  const { recipe } = ctx.loaded;
  const lock = ctx.lock;
  if (!recipe.installer || !recipe.iso) throw new XcpError(`recipe ${recipe.name} has no installer: and iso: sections`, 'invalidInput');
  if (!lock?.installer) throw new XcpError('the lock has no installer closure; run xcpbuild lock', 'invalidInput');
  const store = await ctx.store();
  const epoch = String(ctx.sourceDateEpoch());
  const work = path.join(outDir, '.work');
  const repo = path.join(work, 'repo');
  await fs.mkdir(repo, { recursive: true });

  ctx.progress('laying out the installer packages');
  // A local archive of exactly the locked installer closure. Its files were verified
  // against the lock's sha256s (which came from signature-checked indexes), so it is
  // trusted as it is. mmdebstrap needs a real suite to find the Essential set.
  const pool = path.join(repo, 'pool');
  await fs.mkdir(pool);
  for (const p of lock.installer) {
    if (!(await store.looksIntact(p.sha256, p.size))) throw new XcpError(`${p.name} ${p.version} is not in the cache; run xcpbuild fetch`, 'build');
    const dest = confine(pool, path.basename(p.filename), `the lock's filename for ${p.name}`);
    await copyVerified(store.pathOf(p.sha256), dest, p.sha256, p.size, `${p.name} ${p.version}`);
  }
  const suite = recipe.target.release;
  const dist = path.join(repo, 'dists', suite);
  await fs.mkdir(path.join(dist, 'main', `binary-${recipe.target.architecture}`), { recursive: true });
  const packages = await run(ctx.log, 'apt-ftparchive', ['packages', 'pool'], { cwd: repo, purpose: 'indexing the installer packages', logStdout: false, errorLines: /^(E|W):/ });
  await fs.writeFile(path.join(dist, 'main', `binary-${recipe.target.architecture}`, 'Packages'), packages.stdout);
  const release = await run(
    ctx.log,
    'apt-ftparchive',
    ['-o', `APT::FTPArchive::Release::Suite=${suite}`, '-o', `APT::FTPArchive::Release::Codename=${suite}`, '-o', 'APT::FTPArchive::Release::Components=main', '-o', `APT::FTPArchive::Release::Architectures=${recipe.target.architecture}`, 'release', '.'],
    { cwd: dist, purpose: 'indexing the installer packages' },
  );
  await fs.writeFile(path.join(dist, 'Release'), release.stdout);

  ctx.progress('preparing the installer files');
  const overlay = path.join(work, 'overlay');
  const tpl = templateDir('installer');
  const lib = path.join(overlay, 'usr/lib/xcp-installer');
  await fs.mkdir(lib, { recursive: true });
  for (const f of ['xcp-install', 'answers.sh', 'interactive.sh', 'in-target']) {
    await fs.copyFile(path.join(tpl, f), path.join(lib, f));
    await fs.chmod(path.join(lib, f), 0o755);
  }
  const units = path.join(overlay, 'etc/systemd/system');
  await fs.mkdir(path.join(units, 'multi-user.target.wants'), { recursive: true });
  await fs.copyFile(path.join(tpl, 'xcp-installer.service'), path.join(units, 'xcp-installer.service'));
  await fs.symlink('../xcp-installer.service', path.join(units, 'multi-user.target.wants/xcp-installer.service'));
  await fs.writeFile(
    path.join(overlay, 'etc/xcp-installer.conf'),
    await render(path.join(tpl, 'installer.conf.hbs'), {
      recipe: recipe.name,
      version: recipe.version,
      label: recipe.iso.volumeLabel,
      codename: recipe.repository.codename,
      component: recipe.repository.components[0],
      keyring: keyringName(recipe),
      repoUrl: recipe.repository.url,
      release: recipe.target.release,
      vg: recipe.iso.vmVolumeGroup,
      xenCmdline: recipe.iso.xenCmdline,
      dom0Cmdline: recipe.iso.dom0Cmdline,
    }),
  );
  await fs.writeFile(path.join(overlay, 'etc/hostname'), 'xcp-installer\n');

  ctx.progress('installing the installer environment (mmdebstrap)');
  const rootfs = path.join(work, 'rootfs');
  const include = [...recipe.packages[recipe.installer.kernel].map((p) => p.name), ...recipe.installer.packages].join(',');
  await run(
    ctx.log,
    'mmdebstrap',
    [
      '--mode=root',
      `--variant=${recipe.installer.priorities.includes('important') ? 'important' : 'required'}`,
      `--include=${include}`,
      '--aptopt=Acquire::Languages "none"',
      '--hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount',
      `--customize-hook=sync-in ${shellQuote(overlay)} /`,
      '--customize-hook=rm -f "$1/etc/machine-id" && touch "$1/etc/machine-id"',
      // The build's own paths must not end up in the image: the build-time source and
      // the empty mount point the file-mirror hook leaves behind.
      '--customize-hook=echo "# the installer environment installs nothing from the network" > "$1/etc/apt/sources.list"',
      `--customize-hook=for d in ${mountPointChain(repo).map((d) => `"$1"${shellQuote(d)}`).join(' ')}; do [ -d "$d" ] || continue; rmdir "$d" || break; done`,
      // apt leaves partial/ owned by root or _apt depending on what ran last; fix it as apt sets it.
      '--customize-hook=chroot "$1" chown _apt:root /var/cache/apt/archives/partial /var/lib/apt/lists/partial',
      recipe.target.release,
      rootfs,
      `deb [trusted=yes] file://${repo} ${suite} main`,
    ],
    { env: { SOURCE_DATE_EPOCH: epoch }, purpose: 'mmdebstrap of the installer environment', isolate: true, onLine: (l) => /^I: /.test(l) && ctx.progress(`mmdebstrap: ${l.slice(3)}`) },
  );

  ctx.progress('collecting kernel, initramfs and boot loaders');
  const boot = await fs.readdir(path.join(rootfs, 'boot'));
  const vmlinuz = boot.find((f) => f.startsWith('vmlinuz-'));
  const initrd = boot.find((f) => f.startsWith('initrd.img-') && !f.endsWith('.dpkg-bak') && !f.endsWith('.new'));
  if (!vmlinuz || !initrd) throw new XcpError('the installer environment has no kernel or initramfs in /boot', 'build');
  await fs.copyFile(path.join(rootfs, 'boot', vmlinuz), path.join(outDir, installerOutputs.kernel));
  await fs.copyFile(path.join(rootfs, 'boot', initrd), path.join(outDir, installerOutputs.initrd));
  await fs.mkdir(path.join(outDir, installerOutputs.isolinux));
  for (const [src, name] of isolinuxFiles) await fs.copyFile(path.join(rootfs, src), path.join(outDir, installerOutputs.isolinux, name));
  await fs.cp(path.join(rootfs, 'usr/lib/grub/x86_64-efi'), path.join(outDir, installerOutputs.grubEfi), { recursive: true });

  ctx.progress('compressing the root image (mksquashfs)');
  await run(
    ctx.log,
    'mksquashfs',
    [rootfs, path.join(outDir, installerOutputs.rootImage), '-comp', 'xz', '-noappend', '-no-progress', '-wildcards', '-e', 'boot/*', '-mkfs-time', epoch, '-all-time', epoch],
    { env: { SOURCE_DATE_EPOCH: epoch }, purpose: 'mksquashfs of the installer root' },
  );
  await fs.rm(work, { recursive: true, force: true });
}
