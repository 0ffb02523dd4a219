import path from 'node:path';
import { promises as fs } from 'node:fs';
import { StageDefinition } from '../plan/types';
import { hashValue, hashTree, sha256File } from '../util/hash';
import { templateDir, projectRoot } from '../util/templates';
import { codeDigest } from '../version';
import { buildIso, isoFileName } from '../iso/build-iso';
import { remasterIso } from '../iso/remaster';
import { familyOf } from '../family';
import { BuildContext, Inputs } from '../plan/types';

/** A family without an appliance image of its own remasters a vendor boot ISO with its kickstart. */
function remasters(ctx: BuildContext): boolean {
  return !familyOf(ctx.loaded.recipe).appliance;
}

function baseIsoOf(ctx: BuildContext): string {
  if (!ctx.options.baseIso) {
    throw new XcpError(`the ${ctx.loaded.recipe.target.family} family's ISO is a vendor boot ISO remastered with the recipe's kickstart: give it with --base-iso <boot.iso>`, 'usage');
  }
  return path.resolve(ctx.options.baseIso);
}
import { stageDir, upstream } from './common';
import { XcpError } from '../errors';

/** iso: the hybrid BIOS/UEFI appliance ISO: the signed repository, the installer and the boot menus. */
export const isoStage: StageDefinition = {
  id: 'iso',
  makes: 'the hybrid BIOS/UEFI appliance ISO with the signed repository and the installer',
  deps: ['repo', 'image', 'installer'],
  network: false,
  enabled: (ctx) => !!ctx.loaded.recipe.iso,
  output: (ctx) => stageDir(ctx, 'iso'),
  async inputs(ctx): Promise<Inputs> {
    const r = ctx.loaded.recipe;
    if (remasters(ctx)) {
      const base = baseIsoOf(ctx);
      const st = await fs.stat(base).catch(() => undefined);
      if (!st?.isFile()) throw new XcpError(`--base-iso: ${base} is not a readable file`, 'usage');
      return {
        repo: await upstream(ctx, 'repo'),
        'base ISO': await sha256File(base),
        'recipe.iso': hashValue(r.iso ?? null),
        'recipe.name': hashValue([r.name, r.version, r.target, r.repository.codename, r.metapackages]),
        'kickstart/': await hashTree(path.join(projectRoot, 'kickstart')),
        SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch()),
        'xcpbuild code': codeDigest(['iso/remaster']),
      };
    }
    return {
      repo: await upstream(ctx, 'repo'),
      image: await upstream(ctx, 'image'),
      installer: await upstream(ctx, 'installer'),
      'recipe.iso': hashValue(r.iso ?? null),
      'recipe.name': hashValue([r.name, r.version, r.target]),
      'isolinux/': await hashTree(path.join(projectRoot, 'isolinux')),
      'templates/grub': await hashTree(templateDir('grub')),
      'preseed/': await hashTree(path.join(projectRoot, 'preseed')),
      SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch()),
      'xcpbuild code': codeDigest(['iso/build-iso']),
    };
  },
  async build(ctx, staging) {
    const iso = remasters(ctx)
      ? await remasterIso(ctx, staging, baseIsoOf(ctx), stageDir(ctx, 'repo'))
      : await buildIso(ctx, staging, { repoDir: stageDir(ctx, 'repo'), imageDir: stageDir(ctx, 'image'), installerDir: stageDir(ctx, 'installer') });
    ctx.notes.push(`iso: ${path.join(isoStage.output(ctx), path.basename(iso))} (${((await fs.stat(iso)).size / 1048576).toFixed(1)} MiB)`);
  },
  async verify(ctx, dir) {
    const iso = path.join(dir, isoFileName(ctx.loaded.recipe));
    const recorded = (await fs.readFile(`${iso}.sha256`, 'utf8').catch(() => '')).split(' ')[0];
    if (!recorded) return [`${path.basename(iso)}.sha256 is missing`];
    return (await sha256File(iso)) === recorded ? [] : [`${path.basename(iso)} does not match its .sha256`];
  },
  async selfCheck(ctx, staging) {
    const iso = path.join(staging, isoFileName(ctx.loaded.recipe));
    const st = await fs.stat(iso).catch(() => undefined);
    if (!st || st.size < 1048576) throw new XcpError(`the ISO was not written (${iso})`, 'build');
  },
};
