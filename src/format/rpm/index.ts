import { PackageFormat, lockOf, builtPackages, buildEachMetapackage } from '..';
import { buildRpmPackage } from './source-package';
import { buildRpmMetapackage } from './metapackage';
import { publishYumRepo, checkYumRepo, auditYumRepo } from './yum-repo';
import { compareEvr } from './version';
import { archiveKeyFile } from '../../recipe/archive-keys';
import { evrOf } from './dnf';
import { rpmChangelogSince, rpmDeclaredLicense } from './package-docs';
/** The rpm format: rpmbuild packages and a signed yum repository (createrepo_c, rpmsign, gpg). */
export const rpmFormat: PackageFormat = {
  id: 'rpm',
  module: 'format/rpm/index',
  compareVersions: compareEvr,
  buildSourcePackage(ctx, desc, tree, outDir, workDir, builder) {
    return buildRpmPackage(builder, desc, tree, ctx.loaded.recipe, ctx.sourceDateEpoch(), outDir, workDir);
  },
  buildMetapackages(ctx, outDir) {
    return buildEachMetapackage(ctx, outDir, (spec, work) => buildRpmMetapackage(ctx.log, spec, ctx.loaded.recipe, ctx.sourceDateEpoch(), outDir, work));
  },
  async publishRepository(ctx, outDir) {
    const recipe = ctx.loaded.recipe;
    await publishYumRepo(outDir, {
      recipe,
      lock: lockOf(ctx),
      store: await ctx.store(),
      metaRpms: await builtPackages(ctx, '.rpm'),
      archiveKeys: new Map(await Promise.all(recipe.archives.map(async (a): Promise<[string, string]> => [a.name, await archiveKeyFile(ctx.loaded, a, ctx.options.cacheDir, ctx.log, !ctx.options.offline)]))),
      key: await ctx.signingKey(),
      epoch: ctx.sourceDateEpoch(),
      log: ctx.log,
      progress: (t) => ctx.progress(t),
      notes: ctx.notes,
    });
  },
  async checkRepository(ctx, dir) {
    ctx.progress('checking the repository before publishing it (dnf, rpmkeys)');
    await checkYumRepo(dir, ctx.loaded.recipe, lockOf(ctx), await builtPackages(ctx, '.rpm'), ctx.log);
  },
  async verifyRepository(ctx, dir) {
    return (await auditYumRepo(dir, ctx.loaded.recipe, ctx.log)).problems;
  },
  repositoryIndex() {
    return 'repodata/repomd.xml';
  },
  async listRepository(recipe, dir, log) {
    const { listed } = await auditYumRepo(dir, recipe, log);
    return listed.map((p) => ({ name: p.name, version: evrOf(p), architecture: p.arch, sha256: p.sha256, file: p.location }));
  },
  purl(recipe, p, ownNamespace) {
    const namespace = ownNamespace ?? recipe.target.family;
    return `pkg:rpm/${encodeURIComponent(namespace.toLowerCase())}/${encodeURIComponent(p.name)}@${encodeURIComponent(p.version)}?arch=${encodeURIComponent(p.architecture)}&distro=${encodeURIComponent(`${recipe.target.family}-${recipe.target.release}`)}`;
  },
  changelogSince: (log, file, _name, since) => rpmChangelogSince(log, file, since),
  declaredLicense: (log, file) => rpmDeclaredLicense(log, file),
};
