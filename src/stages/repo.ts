import { DirectoryStage } from '../plan/types';
import { familyOf } from '../family/registry';

/** repo: the signed repository of the whole locked closure plus the metapackages, checked before it is published. */
export const repoStage: DirectoryStage = {
  kind: 'directory',
  id: 'repo',
  makes: 'the signed package repository: the locked closure plus the metapackages',
  summary: 'publish the signed repository (apt or yum: whole closure, source packages, metapackages) to <out>/<name>/repo',
  deps: ['fetch', 'build', 'meta'],
  network: false,
  reads: {
    recipe: ['repository', 'target'],
    lock: ['packages'],
    upstream: ['meta', 'build'],
    parts: ['format.repository'],
    env: ['SOURCE_DATE_EPOCH'],
  },
  async build(ctx, staging, run) {
    await familyOf(ctx.loaded.recipe).format.repository.publish(ctx, staging, run.templates);
  },
  async selfCheck(ctx, staging) {
    await familyOf(ctx.loaded.recipe).format.repository.check(ctx, staging);
  },
  async verify(ctx, dir) {
    return familyOf(ctx.loaded.recipe).format.repository.verify(ctx, dir);
  },
};
