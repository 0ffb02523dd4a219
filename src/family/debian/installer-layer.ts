import { hostSource } from '../../recipe/channels';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BuildContext } from '../../plan/types';
import { run } from '../../util/proc';
import { render, TemplateGrant } from '../../util/templates';
import { XcpError } from '../../errors';
import { keyringName } from '../../format/deb/apt-repo';
import { imageOutputs, installerOutputs } from '../../iso/layout';
import { materialiseLocked } from '../../cache/materialise';

/** The installer's own files, from templates/installer/, and where they go in the live system. */
const installerFiles: [string, string, number][] = [
  ['xcp-install', 'usr/lib/xcp-installer/xcp-install', 0o755],
  ['answers.sh', 'usr/lib/xcp-installer/answers.sh', 0o755],
  ['install-lib.sh', 'usr/lib/xcp-installer/install-lib.sh', 0o644],
  ['interactive.sh', 'usr/lib/xcp-installer/interactive.sh', 0o755],
  ['in-target', 'usr/lib/xcp-installer/in-target', 0o755],
  ['xcp-installer.service', 'etc/systemd/system/xcp-installer.service', 0o644],
];

/**
 * The installer environment as a layer over the target image: live-boot and the few
 * tools the installer needs (from the lock's installer closure, which is resolved as a
 * delta over the target), the installer itself, the target's services masked. On the
 * medium the live root is image + layer, stacked by live-boot, so the system the
 * installer copies onto the disk is on the medium once.
 */
export async function buildInstallerLayer(ctx: BuildContext, outDir: string, imageDir: string, templates: TemplateGrant): Promise<void> {
  const { recipe } = ctx.loaded;
  const lock = ctx.lock;
  if (!recipe.installer || !recipe.iso) throw new XcpError(`recipe ${recipe.name} has no installer: and iso: sections`, 'invalidInput');
  if (!lock?.installer) throw new XcpError('the lock has no installer closure; run xcpbuild lock --update', 'invalidInput');
  const store = await ctx.store();
  const work = path.join(outDir, '.work');
  const debs = path.join(work, 'debs');
  await fs.mkdir(debs, { recursive: true });

  ctx.progress('copying the installer packages');
  await materialiseLocked(store, lock.installer, debs, { layout: 'file name', what: 'the installer environment' });

  ctx.progress('preparing the installer files');
  const overlay = path.join(work, 'overlay');
  const tpl = templates.dir('templates/installer');
  for (const [from, to, mode] of installerFiles) {
    await fs.mkdir(path.dirname(path.join(overlay, to)), { recursive: true });
    await fs.copyFile(path.join(tpl, from), path.join(overlay, to));
    await fs.chmod(path.join(overlay, to), mode);
  }
  await fs.mkdir(path.join(overlay, 'etc/systemd/system/multi-user.target.wants'), { recursive: true });
  await fs.symlink('../xcp-installer.service', path.join(overlay, 'etc/systemd/system/multi-user.target.wants/xcp-installer.service'));
  await fs.writeFile(
    path.join(overlay, 'etc/xcp-installer.conf'),
    await render(path.join(tpl, 'installer.conf.hbs'), {
      recipe: recipe.name,
      version: recipe.version,
      label: recipe.iso.volumeLabel,
      codename: recipe.repository.codename,
      component: recipe.repository.components[0],
      keyring: keyringName(recipe),
      repoUrl: hostSource(recipe).url,
      sourceSuite: hostSource(recipe).suite,
      channelsUrl: recipe.repository.channelsUrl ?? '',
      release: recipe.target.release,
      vg: recipe.iso.vmVolumeGroup,
      xenCmdline: recipe.iso.xenCmdline,
      dom0Cmdline: recipe.iso.dom0Cmdline,
    }),
  );
  await fs.writeFile(path.join(overlay, 'etc/hostname'), 'xcp-installer\n');

  await run(
    ctx.log,
    'bash',
    [path.join(tpl, 'build-layer.sh'), path.join(imageDir, imageOutputs.image), debs, overlay, path.join(tpl, 'masked-units'), path.join(work, 'layer'), outDir],
    {
      env: { SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch()) },
      purpose: 'building the installer layer',
      isolate: true,
      onLine: (l) => /^I: /.test(l) && ctx.progress(l.slice(3)),
    },
  );
  await fs.rm(work, { recursive: true, force: true });
  for (const f of [installerOutputs.kernel, installerOutputs.initrd, installerOutputs.layer]) {
    if (!(await fs.stat(path.join(outDir, f)).catch(() => undefined))) throw new XcpError(`the installer layer build made no ${f}`, 'build');
  }
}
