import { StageDefinition } from '../plan/types';
import { familyOf } from '../family';
import { hashValue, hashTree } from '../util/hash';
import { templateDir } from '../util/templates';
import { codeDigest } from '../version';
import { stageDir } from './common';

/** meta: the recipe's metapackages, whose dependencies pin the recipe's packages exactly. */
export const metaStage: StageDefinition = {
  id: 'meta',
  makes: 'the metapackages (<metapackages>) with exact dependencies',
  deps: ['lock'],
  network: false,
  enabled: () => true,
  output: (ctx) => stageDir(ctx, 'meta'),
  async inputs(ctx) {
    const r = ctx.loaded.recipe;
    return {
      'recipe.metapackages': hashValue(r.metapackages),
      'recipe.packages': hashValue(r.packages),
      'recipe.sources': hashValue(r.sources ?? null),
      'recipe.target': hashValue(r.target),
      'templates/deb': await hashTree(templateDir('deb')),
      SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch()),
      'xcpbuild code': codeDigest([familyOf(r).format.module]),
    };
  },
  async build(ctx, staging) {
    await familyOf(ctx.loaded.recipe).format.buildMetapackages(ctx, staging);
  },
};
