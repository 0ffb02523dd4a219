import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DistroFamily } from '..';
import { rpmFormat } from '../../format/rpm';
import { armoredKey, checkRpmSignatures } from '../../format/rpm/rpmkeys';
import { archiveKeyFile } from '../../recipe/archive-keys';
import { resolveFedoraLock } from './lock';
import { debianBuildRoot } from '../debian';
import { scratchDir } from '../../util/scratch';

/** Fedora and its relatives: dnf resolves the closure from yum archives; packages are RPMs, built by rpmbuild in the clean Debian build root. No appliance image yet. */
export const fedora: DistroFamily = {
  id: 'fedora',
  format: rpmFormat,
  // rpmbuild runs in a clean Debian root (mock is not in Debian): its closure comes from buildRoot.archives.
  resolveLock: async (ctx, inputs) => debianBuildRoot.lockFromArchives(ctx, await resolveFedoraLock(ctx, inputs)),
  packageBuilder: debianBuildRoot.builder,
  async checkFetched(ctx, files) {
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
  },
};
