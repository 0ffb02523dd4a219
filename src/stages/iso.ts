import path from 'node:path';
import { promises as fs } from 'node:fs';
import { DirectoryStage } from '../plan/types';
import { sha256File } from '../util/hash';
import { isoFileName } from '../iso/build-iso';
import { familyOf } from '../family/registry';
import { XcpError } from '../errors';

/** iso: the appliance ISO, made the family's way (an image and an installer of its own, or a remastered vendor ISO). */
export const isoStage: DirectoryStage = {
  kind: 'directory',
  id: 'iso',
  makes: 'the hybrid BIOS/UEFI appliance ISO with the signed repository and the installer',
  summary: 'build the hybrid BIOS/UEFI appliance ISO (<name>-<version>-amd64.iso and .sha256); for fedora recipes, remaster --base-iso with the kickstart',
  options: [
    {
      flags: '--base-iso <file>',
      description: "fedora recipes: the vendor boot ISO (e.g. Fedora's netinst) to remaster with the recipe's kickstart and repository",
      apply: (v) => (v ? { baseIso: String(v) } : {}),
    },
  ],
  deps: ['repo', 'image', 'installer'],
  network: false,
  requiredAsTarget: true,
  reads: { upstream: ['repo', 'image', 'installer'], parts: ['appliance.iso'], env: ['SOURCE_DATE_EPOCH'] },
  notCalledFor: (recipe) => (recipe.iso ? undefined : 'the recipe has no iso: section, so it makes no iso'),
  async build(ctx, staging, run) {
    const iso = await familyOf(ctx.loaded.recipe).appliance.iso.build(ctx, staging, run);
    ctx.notes.push(`iso: ${path.join(ctx.outDir, 'iso', path.basename(iso))} (${((await fs.stat(iso)).size / 1048576).toFixed(1)} MiB)`);
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
