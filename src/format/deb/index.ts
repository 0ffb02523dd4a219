import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PackageFormat, lockOf, builtPackages } from '..';
import { buildDebPackage } from './source-package';
import { buildMetapackage, metapackageSpecs } from './metapackage';
import { publishAptRepo, checkAptRepo, auditAptRepo } from './apt-repo';
import { compareDebianVersions } from './version';



/** The deb format: dpkg-deb packages and a signed apt repository (apt-ftparchive, gpg). */
export const debFormat: PackageFormat = {
  id: 'deb',
  module: 'format/deb/index',
  compareVersions: compareDebianVersions,
  buildSourcePackage(ctx, desc, tree, outDir, workDir) {
    return buildDebPackage(ctx.log, desc, tree, ctx.loaded.recipe, ctx.sourceDateEpoch(), outDir, workDir);
  },
  async buildMetapackages(ctx, outDir) {
    const work = path.join(outDir, '.tree');
    for (const spec of metapackageSpecs(ctx.loaded.recipe)) {
      ctx.progress(`building ${spec.name} ${spec.version}`);
      await buildMetapackage(ctx.log, spec, ctx.loaded.recipe, ctx.sourceDateEpoch(), outDir, work);
    }
    await fs.rm(work, { recursive: true, force: true });
  },
  async publishRepository(ctx, outDir) {
    await publishAptRepo(outDir, {
      recipe: ctx.loaded.recipe,
      lock: lockOf(ctx),
      store: await ctx.store(),
      metaDebs: await builtPackages(ctx, '.deb'),
      key: await ctx.signingKey(),
      epoch: ctx.sourceDateEpoch(),
      log: ctx.log,
      progress: (t) => ctx.progress(t),
      notes: ctx.notes,
    });
  },
  async checkRepository(ctx, dir) {
    ctx.progress('checking the repository before publishing it');
    await checkAptRepo(dir, ctx.loaded.recipe, lockOf(ctx), await builtPackages(ctx, '.deb'), ctx.log);
  },
  verifyRepository(ctx, dir) {
    return auditAptRepo(dir, ctx.loaded.recipe, ctx.log);
  },
};
