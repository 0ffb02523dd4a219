import { PackageFormat, lockOf, builtPackages, buildEachMetapackage } from '..';
import { buildDebPackage } from './source-package';
import { buildMetapackage } from './metapackage';
import { publishAptRepo, checkAptRepo, auditAptRepo, listAptRepo } from './apt-repo';
import { debChangelogSince, debDeclaredLicense } from './package-docs';
import { compareDebianVersions } from './version';

/** The deb format: dpkg-deb packages and a signed apt repository (apt-ftparchive, gpg). */
export const debFormat: PackageFormat = {
  id: 'deb',
  module: 'format/deb/index',
  compareVersions: compareDebianVersions,
  buildSourcePackage(ctx, desc, tree, outDir, workDir, builder) {
    return buildDebPackage(builder, desc, tree, ctx.loaded.recipe, ctx.sourceDateEpoch(), outDir, workDir);
  },
  buildMetapackages(ctx, outDir) {
    return buildEachMetapackage(ctx, outDir, (spec, work) => buildMetapackage(ctx.log, spec, ctx.loaded.recipe, ctx.sourceDateEpoch(), outDir, work));
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
  repositoryIndex(recipe) {
    return `dists/${recipe.repository.codename}/InRelease`;
  },
  listRepository(recipe, dir) {
    return listAptRepo(dir, recipe);
  },
  purl(recipe, p, ownNamespace) {
    const namespace = ownNamespace ?? recipe.target.family;
    return `pkg:deb/${encodeURIComponent(namespace.toLowerCase())}/${encodeURIComponent(p.name)}@${encodeURIComponent(p.version)}?arch=${encodeURIComponent(p.architecture)}&distro=${encodeURIComponent(recipe.target.release)}`;
  },
  changelogSince: debChangelogSince,
  declaredLicense: debDeclaredLicense,
};
