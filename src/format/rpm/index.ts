import { PackageFormat } from '../types';
import { lockOf, builtPackages, metapackagesPart, repositoryInput } from '../common';
import { buildRpmPackage } from './source-package';
import { buildRpmMetapackage } from './metapackage';
import { publishYumRepo, checkYumRepo, auditYumRepo } from './yum-repo';
import { compareEvr } from './version';
import { archiveKeyFile } from '../../recipe/archive-keys';
import { evrOf } from './dnf';
import { publishYumChannel, yumChannelState } from './yum-channel';
import { rpmChangelogSince, rpmDeclaredLicense } from './package-docs';

/** The rpm format: rpmbuild packages and a signed yum repository (createrepo_c, rpmsign, gpg). */
export const rpmFormat: PackageFormat = {
  id: 'rpm',
  sourceKind: 'source RPM',
  compareVersions: compareEvr,
  sourcePackage: {
    module: 'format/rpm/source-package',
    templates: ['templates/rpm/package', 'templates/rpm/license'],
    recipe: ['name', 'version'],
    tool: 'rpmbuild',
    build(ctx, job, builder, templates) {
      return buildRpmPackage(builder, job.desc, job.tree, ctx.loaded.recipe, ctx.sourceDateEpoch(), job.outDir, job.workDir, templates);
    },
  },
  metapackages: metapackagesPart(
    { module: 'format/rpm/metapackage', templates: ['templates/rpm/metapackage', 'templates/rpm/license'], recipe: ['name', 'version', 'repository'] },
    (ctx, spec, outDir, work, t) => buildRpmMetapackage(ctx.log, spec, ctx.loaded.recipe, ctx.sourceDateEpoch(), outDir, work, t),
  ),
  repository: {
    module: 'format/rpm/yum-repo',
    templates: ['templates/yum'],
    // The archives' keys are published beside the repository's own.
    recipe: ['name', 'archives', 'metapackages'],
    files: ['signing key'],
    async publish(ctx, outDir, templates) {
      const archiveKeys = await Promise.all(
        ctx.loaded.recipe.archives.map(async (a): Promise<[string, string]> => [a.name, await archiveKeyFile(ctx.loaded, a, ctx.options.cacheDir, ctx.log, !ctx.options.offline)]),
      );
      await publishYumRepo(outDir, { ...(await repositoryInput(ctx, templates)), metaRpms: await builtPackages(ctx, '.rpm'), archiveKeys: new Map(archiveKeys) });
    },
    async check(ctx, dir) {
      ctx.progress('checking the repository before publishing it (dnf, rpmkeys)');
      await checkYumRepo(dir, ctx.loaded.recipe, lockOf(ctx), await builtPackages(ctx, '.rpm'), ctx.log);
    },
    async verify(ctx, dir) {
      return (await auditYumRepo(dir, ctx.loaded.recipe, ctx.log)).problems;
    },
    index() {
      return 'repodata/repomd.xml';
    },
    async list(recipe, dir, log) {
      const { listed } = await auditYumRepo(dir, recipe, log);
      return listed.map((p) => ({ name: p.name, version: evrOf(p), architecture: p.arch, sha256: p.sha256, file: p.location }));
    },
  },
  channel: {
    publish: publishYumChannel,
    state: (root) => yumChannelState(root),
    limits: 'dnf has no Valid-Until: a stale mirror can keep serving an old, validly signed repomd.xml (the revision only helps a client that saw a newer one)',
  },
  purl(recipe, p, ownNamespace) {
    const namespace = ownNamespace ?? recipe.target.family;
    return `pkg:rpm/${encodeURIComponent(namespace.toLowerCase())}/${encodeURIComponent(p.name)}@${encodeURIComponent(p.version)}?arch=${encodeURIComponent(p.architecture)}&distro=${encodeURIComponent(`${recipe.target.family}-${recipe.target.release}`)}`;
  },
  changelogSince: (log, file, _name, since) => rpmChangelogSince(log, file, since),
  declaredLicense: (log, file) => rpmDeclaredLicense(log, file),
};
