import { promises as fs } from 'node:fs';
import path from 'node:path';
import { StageDefinition } from '../plan/types';
import { applianceOf, familyOf } from '../family';
import { hashValue, hashTree, sha256, sha256File } from '../util/hash';
import { templateDir } from '../util/templates';
import { codeDigest } from '../version';
import { inputHash } from '../plan/decide';
import { copyTree } from '../cache/trees';
import { exists } from '../util/fsutil';
import { imageOutputs } from '../iso/layout';
import { stageDir, upstream } from './common';
import { XcpError } from '../errors';

/**
 * image: the installed system, made at build time from the signed repository and copied
 * onto the disk by the installer. Slow to make, so it is also kept in the cache under
 * its input hash and shared by concurrent builds.
 */
export const imageStage: StageDefinition = {
  id: 'image',
  makes: 'the target system image (squashfs) installed from the signed repository, and its signed sha256',
  deps: ['repo'],
  network: false,
  enabled: (ctx) => !!ctx.loaded.recipe.iso && !!familyOf(ctx.loaded.recipe).appliance,
  output: (ctx) => stageDir(ctx, 'image'),
  async inputs(ctx) {
    const r = ctx.loaded.recipe;
    const key = ctx.options.key.file;
    return {
      repo: await upstream(ctx, 'repo'),
      'recipe.base': hashValue(r.base),
      'recipe.metapackages': hashValue(Object.keys(r.metapackages)),
      'recipe.name': hashValue([r.name, r.target, r.repository.codename, r.repository.components]),
      'signing key': (await exists(key)) ? sha256(await fs.readFile(key)) : 'missing',
      'templates/image': await hashTree(templateDir('image')),
      SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch()),
      'xcpbuild code': codeDigest([applianceOf(r).modules.image, 'cache/trees']),
    };
  },
  async build(ctx, staging) {
    const hash = inputHash(await imageStage.inputs(ctx));
    const family = applianceOf(ctx.loaded.recipe);
    const tree = await ctx.trees().obtain('image', hash, (dir) => family.buildImage(ctx, dir, stageDir(ctx, 'repo')), (holder) =>
      ctx.progress(`waiting for ${holder} (the same image is being built)`),
    );
    if (tree.restored) ctx.notes.push(`image: restored from the cache (${hash.slice(0, 12)})`);
    await copyTree(tree.dir, staging);
  },
  async selfCheck(_ctx, staging) {
    const sums = await fs.readFile(path.join(staging, imageOutputs.sums), 'utf8');
    const want = sums.split(' ')[0];
    if ((await sha256File(path.join(staging, imageOutputs.image))) !== want) throw new XcpError('the image does not match its SHA256SUMS', 'build');
  },
};
