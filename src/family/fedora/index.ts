import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DistroFamily } from '../types';
import { BuildContext } from '../../plan/types';
import { rpmFormat } from '../../format/rpm';
import { armoredKey, checkRpmSignatures } from '../../format/rpm/rpmkeys';
import { archiveKeyFile } from '../../recipe/archive-keys';
import { resolveFedoraLock } from './lock';
import { fedoraRecipeIssues } from './recipe';
import { cleanBuildRoot, withBuildRootArchives } from '../../build-root';
import { remasterIso } from '../../iso/remaster';
import { scratchDir } from '../../util/scratch';
import { baseIsoPath } from '../../plan/base-iso';

const REMASTERED = "its ISO is a vendor boot ISO remastered with the recipe's kickstart (xcpbuild iso --base-iso)";

/** Fedora and its relatives: dnf resolves the closure from yum archives; packages are RPMs, built by rpmbuild in the clean build root. */
export const fedora: DistroFamily = {
  id: 'fedora',
  format: rpmFormat,
  resolver: {
    module: 'family/fedora/lock',
    describe: "dnf (each repomd.xml verified against the recipe's keys)",
    // rpmbuild runs in a clean Debian root (mock is not in Debian): its closure comes from buildRoot.archives.
    resolveLock: async (ctx, inputs) => withBuildRootArchives(ctx, await resolveFedoraLock(ctx, inputs)),
  },
  builder: cleanBuildRoot,
  appliance: {
    kind: 'remaster',
    iso: {
      module: 'iso/remaster',
      templates: ['kickstart'],
      recipe: ['iso', 'name', 'version', 'target', 'repository', 'metapackages'],
      files: ['base ISO'],
      build: (ctx, staging, run) => remasterIso(ctx, staging, { iso: baseIsoPath(ctx), repoDir: run.upstreamDir('repo'), kickstartDir: run.templates.dir('kickstart') }),
    },
  },
  omits: { image: REMASTERED, installer: REMASTERED },
  checkRecipe: fedoraRecipeIssues,
  checkFetched,
};

/** Every fetched RPM must carry a valid signature by its archive's key. */
async function checkFetched(ctx: BuildContext, files: { path: string; label: string; archive: string }[]): Promise<string[]> {
  const tmp = await scratchDir('keys');
  try {
    const problems: string[] = [];
    for (const a of ctx.loaded.recipe.archives) {
      const mine = files.filter((f) => f.archive === a.name);
      if (!mine.length) continue;
      const key = path.join(tmp, `${a.name}.asc`);
      await armoredKey(ctx.log, await archiveKeyFile(ctx.loaded, a, ctx.options.cacheDir, ctx.log, !ctx.options.offline), key);
      problems.push(...(await checkRpmSignatures(ctx.log, mine, [key])).map((p) => `${p} (archive ${a.name})`));
    }
    return problems;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
