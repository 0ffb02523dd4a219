import { AptSource, AptState } from './state';
import { BuildContext } from '../../../plan/types';
import { LockedArchive } from '../../../lock/file';
import { Archive } from '../../../recipe/schema';
import { LoadedRecipe, keyringPath } from '../../../recipe/load';
import { FileLock } from '../../../util/flock';
import { AptPaths } from '../../../util/apt-path';
import { ownDirectoryBelow } from '../../../util/nofollow';
import { hashValue } from '../../../util/hash';

/** Debian archives of a recipe as apt sources (the recipe check makes suites, components and keyring required). */
export function aptSourcesOf(loaded: LoadedRecipe, archives: Archive[]): AptSource[] {
  return archives.map((a) => ({ ...a, suites: a.suites ?? [], components: a.components ?? [], keyring: keyringPath(loaded, a.keyring ?? '') }));
}

/** One resolution per apt state at a time: apt's own locking is off in the private state. */
export async function withAptState<T>(ctx: BuildContext, sources: AptSource[], use: (apt: AptState) => Promise<T>): Promise<T> {
  const stateDir = await ownDirectoryBelow(ctx.options.cacheDir, `apt-state/${hashValue(sources).slice(0, 16)}`, 'the apt state directory');
  const held = await FileLock.acquire(`${stateDir}.lock`, `xcpbuild lock ${ctx.loaded.recipe.name}`, (holder) => ctx.progress(`waiting for ${holder} to finish with the apt state`));
  const paths = new AptPaths();
  try {
    return await use(new AptState(stateDir, ctx.log, paths));
  } finally {
    await paths.dispose();
    held.release();
  }
}

/** The archive states apt resolved against: each suite's InRelease digest and Date. */
export async function lockedArchives(apt: AptState, sources: AptSource[]): Promise<LockedArchive[]> {
  const archives: LockedArchive[] = [];
  for (const rel of await apt.releases(sources)) {
    if (archives.some((a) => a.name === rel.archive && a.suite === rel.suite)) continue;
    const info = await apt.inReleaseInfo(rel.inReleaseFile);
    archives.push({ name: rel.archive, uri: rel.uri, suite: rel.suite, inRelease: info.sha256, date: info.date });
  }
  return archives;
}
