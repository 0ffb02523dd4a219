import { PackageFormat } from '../types';
import { lockOf, builtPackages, metapackagesPart, repositoryInput } from '../common';
import { buildDebPackage } from './source-package';
import { buildMetapackage } from './metapackage';
import { publishAptRepo, checkAptRepo, auditAptRepo, listAptRepo } from './apt-repo';
import { debChangelogSince, debDeclaredLicense } from './package-docs';
import { compareDebianVersions } from './version';
import { piupartsCheck } from './piuparts';
import { publishAptChannel, refreshAptChannel, aptChannelState } from './apt-channel';

/** The deb format: dpkg-deb packages and a signed apt repository (apt-ftparchive, gpg). */
export const debFormat: PackageFormat = {
  id: 'deb',
  sourceKind: 'source package',
  compareVersions: compareDebianVersions,
  sourcePackage: {
    module: 'format/deb/source-package',
    templates: ['templates/deb/package'],
    recipe: ['name', 'version', 'target'],
    tool: 'dpkg-deb',
    build(ctx, job, builder, templates) {
      return buildDebPackage(builder, job.desc, job.tree, ctx.loaded.recipe, ctx.sourceDateEpoch(), job.outDir, job.workDir, templates);
    },
  },
  metapackages: metapackagesPart({ module: 'format/deb/metapackage', templates: ['templates/deb/metapackage'], recipe: ['name', 'version', 'target'] }, (ctx, spec, outDir, work, t) =>
    buildMetapackage(ctx.log, spec, ctx.loaded.recipe, ctx.sourceDateEpoch(), outDir, work, t),
  ),
  repository: {
    module: 'format/deb/apt-repo',
    templates: ['templates/apt'],
    recipe: ['name', 'sources'],
    files: ['signing key'],
    async publish(ctx, outDir, templates) {
      await publishAptRepo(outDir, { ...(await repositoryInput(ctx, templates)), metaDebs: await builtPackages(ctx, '.deb') });
    },
    async check(ctx, dir) {
      ctx.progress('checking the repository before publishing it');
      await checkAptRepo(dir, ctx.loaded.recipe, lockOf(ctx), await builtPackages(ctx, '.deb'), ctx.log);
    },
    verify(ctx, dir) {
      return auditAptRepo(dir, ctx.loaded.recipe, ctx.log);
    },
    index(recipe) {
      return `dists/${recipe.repository.codename}/InRelease`;
    },
    list(recipe, dir) {
      return listAptRepo(dir, recipe);
    },
  },
  installCheck: piupartsCheck,
  channel: {
    publish: publishAptChannel,
    refresh: refreshAptChannel,
    state: aptChannelState,
  },
  purl(recipe, p, ownNamespace) {
    const namespace = ownNamespace ?? recipe.target.family;
    return `pkg:deb/${encodeURIComponent(namespace.toLowerCase())}/${encodeURIComponent(p.name)}@${encodeURIComponent(p.version)}?arch=${encodeURIComponent(p.architecture)}&distro=${encodeURIComponent(recipe.target.release)}`;
  },
  changelogSince: debChangelogSince,
  declaredLicense: debDeclaredLicense,
};
