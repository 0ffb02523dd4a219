import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DirectoryStage, BuildContext } from '../plan/types';
import { familyOf } from '../family/registry';
import { ImageAppliance } from '../family/types';
import { sha256File } from '../util/hash';
import { copyTree } from '../cache/trees';
import { imageOutputs } from '../iso/layout';
import { XcpError } from '../errors';

/** The appliance of a family that makes its own image (the registry leaves image and installer out for the others). */
export function imageAppliance(ctx: BuildContext): ImageAppliance {
  const appliance = familyOf(ctx.loaded.recipe).appliance;
  if (appliance.kind !== 'image') throw new XcpError(`the ${ctx.loaded.recipe.target.family} family makes no image`, 'internal');
  return appliance;
}

/**
 * image: the installed system, made at build time from the signed repository and copied
 * onto the disk by the installer. Slow to make, so it is also kept in the cache under
 * its input hash and shared by concurrent builds.
 */
export const imageStage: DirectoryStage = {
  kind: 'directory',
  id: 'image',
  makes: 'the target system image (squashfs) installed from the signed repository, and its signed sha256',
  summary: 'build the target system image from the signed repository (what the installer copies onto the disk)',
  deps: ['repo'],
  network: false,
  requiredAsTarget: true,
  reads: { upstream: ['repo'], parts: ['appliance.image'], env: ['SOURCE_DATE_EPOCH'], code: ['cache/trees'] },
  notCalledFor: (recipe) => (recipe.iso ? undefined : 'the recipe has no iso: section, so it makes no image'),
  async build(ctx, staging, run) {
    const image = imageAppliance(ctx).image;
    const tree = await ctx.trees().obtain('image', run.inputHash, (dir) => image.build(ctx, dir, run.upstreamDir('repo'), run.templates), (holder) =>
      ctx.progress(`waiting for ${holder} (the same image is being built)`),
    );
    if (tree.restored) ctx.notes.push(`image: restored from the cache (${run.inputHash.slice(0, 12)})`);
    await copyTree(tree.dir, staging);
  },
  async selfCheck(_ctx, staging) {
    const sums = await fs.readFile(path.join(staging, imageOutputs.sums), 'utf8');
    const want = sums.split(' ')[0];
    if ((await sha256File(path.join(staging, imageOutputs.image))) !== want) throw new XcpError('the image does not match its SHA256SUMS', 'build');
  },
};
