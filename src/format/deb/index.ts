import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BuildContext } from '../../plan/types';
import { PackageFormat } from '../../family';
import { buildMetapackage, metapackageSpecs } from './metapackage';
import { publishAptRepo } from './apt-repo';
import { XcpError } from '../../errors';

export const debFormat: PackageFormat = {
  id: 'deb',
  module: 'format/deb/index',
  async buildMetapackages(ctx: BuildContext, outDir: string): Promise<string[]> {
    const work = path.join(outDir, '.tree');
    const debs = [];
    for (const spec of metapackageSpecs(ctx.loaded.recipe)) {
      ctx.progress(`building ${spec.name} ${spec.version}`);
      debs.push(await buildMetapackage(ctx.log, spec, ctx.loaded.recipe, ctx.sourceDateEpoch(), outDir, work));
    }
    await fs.rm(work, { recursive: true, force: true });
    return debs;
  },
  async publishRepository(ctx: BuildContext, outDir: string, metaDir: string): Promise<void> {
    if (!ctx.lock) throw new XcpError('no lock; run xcpbuild lock', 'invalidInput');
    const metaDebs = (await fs.readdir(metaDir)).filter((f) => f.endsWith('.deb')).map((f) => path.join(metaDir, f));
    ctx.progress('laying out pool/ and indexing');
    await publishAptRepo(outDir, {
      recipe: ctx.loaded.recipe,
      lock: ctx.lock,
      store: await ctx.store(),
      metaDebs,
      key: await ctx.signingKey(),
      epoch: ctx.sourceDateEpoch(),
      log: ctx.log,
    });
  },
  repositoryMarker(recipe) {
    return path.join('dists', recipe.repository.codename, 'InRelease');
  },
};
