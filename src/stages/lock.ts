import { promises as fs } from 'node:fs';
import { StageDefinition } from '../plan/types';
import { familyOf } from '../family';
import { readLock, writeLock, diffClosures, formatLockDiff } from '../lock/file';
import { keyringPath, allArchives } from '../recipe/load';
import { hashValue, sha256 } from '../util/hash';
import { XcpError } from '../errors';
import { displayPath } from '../util/paths';

/** lock: resolves the recipe into the pinned closure with sha256s (network: the archives' indexes). */
export const lockStage: StageDefinition = {
  id: 'lock',
  makes: 'recipes/<name>.lock: the pinned install closure with sha256s',
  deps: [],
  network: true,
  enabled: () => true,
  output: (ctx) => ctx.loaded.lockFile,
  async inputs(ctx) {
    const r = ctx.loaded.recipe;
    const keyrings: string[] = [];
    // The build root's archives come after the recipe's, so a recipe without them keeps its inputs.
    for (const a of allArchives(r)) keyrings.push(a.keyring ? sha256(await fs.readFile(keyringPath(ctx.loaded, a.keyring))) : `fingerprint ${a.key!.fingerprint}`);
    return {
      'recipe.target': hashValue(r.target),
      'recipe.archives': hashValue(r.archives),
      'recipe.base': hashValue(r.base),
      'recipe.packages': hashValue(r.packages),
      'recipe.installer': hashValue(r.installer ?? null),
      'recipe.bootTest': hashValue(r.bootTest ?? null),
      ...(Object.keys(r.sources ?? {}).length ? { 'recipe.buildRoot': hashValue(r.buildRoot ?? null) } : {}),
      'archive keyrings': hashValue(keyrings),
    };
  },
  build() {
    throw new Error('lock runs itself');
  },
  custom: {
    previous: async (ctx) => ctx.lock?.inputs,
    damaged: async (ctx) => (ctx.options.updateLock ? 'lock --update requested' : undefined),
    outputDigest: async (ctx) => (ctx.lock ? hashValue(ctx.lock.packages) : undefined),
    async run(ctx, inputs) {
      const old = ctx.lock ?? (await readLock(ctx.loaded.lockFile).catch(() => undefined));
      if (ctx.options.offline || ctx.options.locked) {
        const why = old ? 'is out of date with the recipe' : 'does not exist';
        throw new XcpError(`${displayPath(ctx.loaded.lockFile)} ${why}; run xcpbuild lock (not allowed with --${ctx.options.offline ? 'offline' : 'locked'})`, 'invalidInput');
      }
      const family = familyOf(ctx.loaded.recipe);
      const lock = await family.resolveLock(ctx, inputs);
      const closures = ['packages', 'installer', 'test', 'build'] as const;
      const diffs = closures.map((c) => diffClosures(old?.[c] ?? [], lock[c] ?? []));
      // resolvedAt is the outputs' default SOURCE_DATE_EPOCH: it moves only when what the
      // outputs are made of (the target and installer closures) changed, not the test closure.
      const changes = diffs.slice(0, 2).reduce((n, d) => n + d.added.length + d.removed.length + d.changed.length, 0);
      if (old && changes === 0) lock.resolvedAt = old.resolvedAt;
      await writeLock(ctx.loaded.lockFile, lock);
      ctx.lock = lock;
      const d = diffs[0];
      const mib = (lock.packages.reduce((s, p) => s + p.size, 0) / 1048576).toFixed(1);
      ctx.notes.push(`lock: ${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed; ${lock.packages.length} packages, ${mib} MiB`);
      if (old) ctx.notes.push(...formatLockDiff(d, family.format.compareVersions));
      closures.slice(1).forEach((c, i) => {
        const list = lock[c];
        if (!list) return;
        const what: Record<string, string> = { installer: 'installer environment', test: 'boot-test closure', build: 'clean build root' };
        ctx.notes.push(`lock: ${what[c]}: ${list.length} packages`);
        if (old) ctx.notes.push(...formatLockDiff(diffs[i + 1], family.format.compareVersions).map((l) => `${c} ${l}`));
      });
    },
  },
};
