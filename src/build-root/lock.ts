import { AptSource, AptState, IndexEntry } from '../family/debian/apt/state';
import { resolveClosure } from '../family/debian/apt/resolve';
import { aptSourcesOf, withAptState, lockedArchives } from '../family/debian/apt/session';
import { BuildContext } from '../plan/types';
import { Lock, LockedPackage } from '../lock/file';
import { LoadedRecipe } from '../recipe/load';
import { XcpError } from '../errors';

/** The build root's closure from an apt state already set up: Priority required plus buildRoot.packages, on its own (not a layer). */
export async function buildRootClosure(ctx: BuildContext, apt: AptState, sources: AptSource[], index: Map<string, IndexEntry[]>): Promise<LockedPackage[]> {
  const names = (ctx.loaded.recipe.buildRoot?.packages ?? []).map((name, i) => ({ name, where: `buildRoot.packages[${i}]`, version: '' }));
  const missing = names.filter((n) => !index.has(n.name)).map((n) => `${n.where}: no package named "${n.name}" in the build root's archives`);
  if (missing.length) throw new XcpError(`${missing.length} build root package(s) are not available: ${missing[0]}`, 'resolution', missing.slice(1));
  return resolveClosure(apt, ctx.log, sources, index, ['required'], names);
}

/**
 * `lock` with the build root resolved from its own Debian archives (buildRoot.archives)
 * when the recipe names them: what a fedora recipe locks for its rpmbuild root, and a
 * debian recipe whose build root comes from other archives. Every InRelease is verified
 * against the recipe's keyring; those archive states join the lock's.
 */
export async function withBuildRootArchives(ctx: BuildContext, lock: Lock): Promise<Lock> {
  const { recipe } = ctx.loaded;
  const archives = recipe.buildRoot?.archives;
  if (!Object.keys(recipe.sources ?? {}).length || !archives?.length) return lock;
  const sources = aptSourcesOf(ctx.loaded, archives);
  return withAptState(ctx, sources, async (apt) => {
    await apt.setup(sources, recipe.target.architecture);
    ctx.progress('downloading and verifying the build root archive indexes');
    await apt.update();
    const index = await apt.index(sources);
    ctx.progress('resolving the clean build root');
    const build = await buildRootClosure(ctx, apt, sources, index);
    const states = (await lockedArchives(apt, sources)).filter((a) => !lock.archives.some((b) => b.name === a.name && b.suite === a.suite));
    return { ...lock, archives: [...lock.archives, ...states], build };
  });
}

/** The suite the build root is made as: its first archive's first suite, or the recipe's own release. */
export function buildRootSuite(loaded: LoadedRecipe): string {
  return loaded.recipe.buildRoot?.archives?.[0]?.suites?.[0] ?? loaded.recipe.target.release;
}
