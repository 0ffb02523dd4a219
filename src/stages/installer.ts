import { StageDefinition } from '../plan/types';
import { applianceOf } from '../family';
import { hashValue, hashTree } from '../util/hash';
import { templateDir } from '../util/templates';
import { codeDigest } from '../version';
import { inputHash } from '../plan/decide';
import { copyTree } from '../cache/trees';
import { requireLock, closureDigest, stageDir, upstream } from './common';

/**
 * installer: the installer environment booted from the ISO. Slow to make, so it is
 * also kept in the cache under its input hash and shared by concurrent builds.
 */
export const installerStage: StageDefinition = {
  id: 'installer',
  makes: "the installer environment: kernel, live-boot initramfs, and the installer's layer over the image",
  deps: ['fetch', 'image'],
  network: false,
  enabled: (ctx) => !!ctx.loaded.recipe.installer,
  output: (ctx) => stageDir(ctx, 'installer'),
  async inputs(ctx) {
    const r = ctx.loaded.recipe;
    return {
      image: await upstream(ctx, 'image'),
      'lock (installer)': closureDigest(requireLock(ctx).installer ?? []),
      'recipe.installer': hashValue(r.installer ?? null),
      'recipe.iso': hashValue(r.iso ?? null),
      'recipe.repository': hashValue(r.repository),
      'recipe.target': hashValue(r.target),
      'recipe.name': hashValue([r.name, r.version]),
      'templates/installer': await hashTree(templateDir('installer')),
      SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch()),
      'xcpbuild code': codeDigest([applianceOf(r).modules.installer, 'cache/trees']),
    };
  },
  async build(ctx, staging) {
    const hash = inputHash(await installerStage.inputs(ctx));
    const family = applianceOf(ctx.loaded.recipe);
    const tree = await ctx.trees().obtain('installer', hash, (dir) => family.buildInstaller(ctx, dir, stageDir(ctx, 'image')), (holder) =>
      ctx.progress(`waiting for ${holder} (the same installer environment is being built)`),
    );
    if (tree.restored) ctx.notes.push(`installer: restored from the cache (${hash.slice(0, 12)})`);
    await copyTree(tree.dir, staging);
  },
};
