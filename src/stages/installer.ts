import { DirectoryStage } from '../plan/types';
import { copyTree } from '../cache/trees';
import { imageAppliance } from './image';

/**
 * installer: the installer environment booted from the ISO. Slow to make, so it is
 * also kept in the cache under its input hash and shared by concurrent builds.
 */
export const installerStage: DirectoryStage = {
  kind: 'directory',
  id: 'installer',
  makes: "the installer environment: kernel, live-boot initramfs, and the installer's layer over the image",
  summary: "build the installer environment: the installer's layer over the image, kernel and live-boot initramfs",
  deps: ['fetch', 'image'],
  network: false,
  requiredAsTarget: true,
  reads: { upstream: ['image'], lock: ['installer'], parts: ['appliance.installer'], env: ['SOURCE_DATE_EPOCH'], code: ['cache/trees'] },
  notCalledFor: (recipe) => (recipe.iso && recipe.installer ? undefined : 'the recipe has no iso: and installer: sections, so it makes no installer'),
  async build(ctx, staging, run) {
    const installer = imageAppliance(ctx).installer;
    const tree = await ctx.trees().obtain('installer', run.inputHash, (dir) => installer.build(ctx, dir, run.upstreamDir('image'), run.templates), (holder) =>
      ctx.progress(`waiting for ${holder} (the same installer environment is being built)`),
    );
    if (tree.restored) ctx.notes.push(`installer: restored from the cache (${run.inputHash.slice(0, 12)})`);
    await copyTree(tree.dir, staging);
  },
};
