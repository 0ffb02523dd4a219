import { DirectoryStage } from '../plan/types';
import { familyOf } from '../family/registry';

/** meta: the recipe's metapackages, whose dependencies pin the recipe's packages exactly. */
export const metaStage: DirectoryStage = {
  kind: 'directory',
  id: 'meta',
  makes: 'the metapackages (<metapackages>) with exact dependencies',
  summary: 'build the metapackages (.deb or .rpm) whose dependencies pin the recipe packages to exact versions',
  deps: ['lock'],
  network: false,
  reads: {
    recipe: ['metapackages', 'packages', 'sources', 'target'],
    parts: ['format.metapackages'],
    env: ['SOURCE_DATE_EPOCH'],
  },
  async build(ctx, staging, run) {
    await familyOf(ctx.loaded.recipe).format.metapackages.build(ctx, staging, run.templates);
  },
};
