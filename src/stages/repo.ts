import { promises as fs } from 'node:fs';
import { StageDefinition } from '../plan/types';
import { familyOf } from '../family';
import { hashValue, hashTree, sha256 } from '../util/hash';
import { templateDir } from '../util/templates';
import { codeDigest } from '../version';
import { exists } from '../util/fsutil';
import { requireLock, closureDigest, stageDir, upstream } from './common';

/** repo: the signed repository of the whole locked closure plus the metapackages, checked before it is published. */
export const repoStage: StageDefinition = {
  id: 'repo',
  makes: 'the signed package repository: the locked closure plus the metapackages',
  deps: ['fetch', 'build', 'meta'],
  network: false,
  enabled: () => true,
  output: (ctx) => stageDir(ctx, 'repo'),
  async inputs(ctx) {
    const r = ctx.loaded.recipe;
    const key = ctx.options.key.file;
    return {
      lock: closureDigest(requireLock(ctx).packages),
      meta: await upstream(ctx, 'meta'),
      ...(r.sources ? { build: await upstream(ctx, 'build') } : {}),
      'recipe.repository': hashValue(r.repository),
      'recipe.target': hashValue(r.target),
      'signing key': (await exists(key)) ? sha256(await fs.readFile(key)) : 'missing',
      'templates/repo': await hashTree(templateDir('repo')),
      SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch()),
      'xcpbuild code': codeDigest([familyOf(r).format.module]),
    };
  },
  async build(ctx, staging) {
    await familyOf(ctx.loaded.recipe).format.publishRepository(ctx, staging);
  },
  async selfCheck(ctx, staging) {
    await familyOf(ctx.loaded.recipe).format.checkRepository(ctx, staging);
  },
  async verify(ctx, dir) {
    return familyOf(ctx.loaded.recipe).format.verifyRepository(ctx, dir);
  },
};
