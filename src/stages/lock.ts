import { PublishingStage, BuildContext } from '../plan/types';
import { familyOf, families } from '../family/registry';
import { Lock, readLock, writeLock, diffClosures, formatLockDiff } from '../lock/file';
import { hashValue } from '../util/hash';
import { XcpError } from '../errors';
import { displayPath } from '../util/paths';

const CLOSURES = ['packages', 'installer', 'test', 'build'] as const;
const CLOSURE_NAMES: Record<string, string> = { installer: 'installer environment', test: 'boot-test closure', build: 'clean build root' };

/** lock: resolves the recipe into the pinned closure with sha256s (network: the archives' indexes). */
export const lockStage: PublishingStage = {
  kind: 'publishing',
  id: 'lock',
  makes: 'recipes/<name>.lock: the pinned install closure with sha256s',
  summary: `resolve the install closure into recipes/<name>.lock, with the family's resolver: ${Object.values(families)
    .map((f) => `${f.id}: ${f.resolver.describe}`)
    .join('; ')}`,
  options: [{ flags: '--update', description: 're-resolve even if the lock matches the recipe, and print what changed', apply: (v) => ({ updateLock: !!v }) }],
  deps: [],
  network: true,
  reads: {
    // The lock records these inputs: a new read here makes every committed lock stale.
    recipe: ['target', 'archives', 'base', 'packages', 'installer', 'bootTest', { key: 'buildRoot', onlyWith: 'sources' }],
    files: ['archive keyrings'],
  },
  output: (ctx) => ctx.loaded.lockFile,
  previous: async (ctx) => ctx.lock?.inputs,
  damaged: async (ctx) => (ctx.options.updateLock ? 'lock --update requested' : undefined),
  outputDigest: async (ctx) => (ctx.lock ? hashValue(ctx.lock.packages) : undefined),
  async publish(ctx, run) {
    const old = ctx.lock ?? (await readLock(ctx.loaded.lockFile).catch(() => undefined));
    if (ctx.options.offline || ctx.options.locked) {
      const why = old ? 'is out of date with the recipe' : 'does not exist';
      throw new XcpError(`${displayPath(ctx.loaded.lockFile)} ${why}; run xcpbuild lock (not allowed with --${ctx.options.offline ? 'offline' : 'locked'})`, 'invalidInput');
    }
    const lock = await familyOf(ctx.loaded.recipe).resolver.resolveLock(ctx, run.inputs);
    const diffs = CLOSURES.map((c) => diffClosures(old?.[c] ?? [], lock[c] ?? []));
    // resolvedAt is the outputs' default SOURCE_DATE_EPOCH: it moves only when what the
    // outputs are made of (the target and installer closures) changed, not the test closure.
    const changes = diffs.slice(0, 2).reduce((n, d) => n + d.added.length + d.removed.length + d.changed.length, 0);
    if (old && changes === 0) lock.resolvedAt = old.resolvedAt;
    await writeLock(ctx.loaded.lockFile, lock);
    ctx.lock = lock;
    noteChanges(ctx, lock, old, diffs);
  },
};

/** What lock --update changed, per closure, for the user. */
function noteChanges(ctx: BuildContext, lock: Lock, old: Lock | undefined, diffs: ReturnType<typeof diffClosures>[]): void {
  const compare = familyOf(ctx.loaded.recipe).format.compareVersions;
  const d = diffs[0];
  const mib = (lock.packages.reduce((s, p) => s + p.size, 0) / 1048576).toFixed(1);
  ctx.notes.push(`lock: ${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed; ${lock.packages.length} packages, ${mib} MiB`);
  if (old) ctx.notes.push(...formatLockDiff(d, compare));
  CLOSURES.slice(1).forEach((c, i) => {
    const list = lock[c];
    if (!list) return;
    ctx.notes.push(`lock: ${CLOSURE_NAMES[c]}: ${list.length} packages`);
    if (old) ctx.notes.push(...formatLockDiff(diffs[i + 1], compare).map((l) => `${c} ${l}`));
  });
}
