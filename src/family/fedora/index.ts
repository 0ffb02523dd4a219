import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DistroFamily } from '..';
import { rpmFormat } from '../../format/rpm';
import { armoredKey, checkRpmSignatures } from '../../format/rpm/rpmkeys';
import { archiveKeyFile } from '../../recipe/archive-keys';
import { resolveFedoraLock } from './lock';
import { hostBuilder } from '../host-builder';

/** Fedora and its relatives: dnf resolves the closure from yum archives; packages are RPMs. No appliance image yet. */
export const fedora: DistroFamily = {
  id: 'fedora',
  format: rpmFormat,
  resolveLock: resolveFedoraLock,
  packageBuilder: {
    module: 'family/host-builder',
    make: async (ctx) =>
      hostBuilder(ctx.log, 'on this host in a fresh staging tree: mock is not installed here, and a clean Fedora root needs a Fedora mirror (none is reachable); the package has no compile step and no build dependencies'),
  },
  async checkFetched(ctx, files) {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'xcpbuild-keys-'));
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
