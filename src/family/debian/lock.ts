import { AptState, AptSource } from './apt/state';
import { checkPins, resolveClosure, PinRef } from './apt/resolve';
import { aptSourcesOf, withAptState, lockedArchives } from './apt/session';
import { buildRootClosure, withBuildRootArchives } from '../../build-root';
import { BuildContext } from '../../plan/types';
import { Lock, LockedArchive, LockedPackage, LOCK_VERSION } from '../../lock/file';
import { XcpError } from '../../errors';

export function aptSources(ctx: BuildContext): AptSource[] {
  return aptSourcesOf(ctx.loaded, ctx.loaded.recipe.archives);
}

export function recipePins(ctx: BuildContext): PinRef[] {
  return Object.entries(ctx.loaded.recipe.packages).flatMap(([group, pins]) => pins.map((p, i) => ({ ...p, where: `packages.${group}[${i}]` })));
}

/** Resolves the recipe's closure against the Debian archives with apt, verifying each InRelease. */
export async function resolveDebianLock(ctx: BuildContext, inputs: Record<string, string>): Promise<Lock> {
  const sources = aptSources(ctx);
  return withBuildRootArchives(ctx, await withAptState(ctx, sources, (apt) => resolveWith(ctx, inputs, sources, apt)));
}

async function resolveWith(ctx: BuildContext, inputs: Record<string, string>, sources: AptSource[], apt: AptState): Promise<Lock> {
  const { recipe } = ctx.loaded;
  await apt.setup(sources, recipe.target.architecture);
  ctx.progress('downloading and verifying archive indexes');
  await apt.update();
  ctx.progress('reading archive indexes');
  const index = await apt.index(sources);
  const pins = recipePins(ctx);
  const problems = checkPins(pins, index, recipe.target.architecture);
  if (problems.length) {
    throw new XcpError(`${problems.length} pinned version(s) are not available: ${problems[0]}`, 'resolution', problems.slice(1));
  }
  ctx.progress('resolving the install closure');
  const packages = await resolveClosure(apt, ctx.log, sources, index, recipe.base.priorities, pins);
  for (const pin of pins) {
    const got = packages.find((p) => p.name === pin.name);
    if (!got || got.version !== pin.version) {
      throw new XcpError(`apt resolved ${pin.name} to ${got?.version ?? 'nothing'} although ${pin.where} pins ${pin.version}`, 'resolution');
    }
  }
  /** What `extra` adds to the target closure: resolved together with it, then the target's packages removed. */
  const delta = async (section: string, extra: string[]): Promise<LockedPackage[]> => {
    const names = extra.map((name, i) => ({ name, where: `${section}.packages[${i}]`, version: '' }));
    const missing = names.filter((n) => !index.has(n.name)).map((n) => `${n.where}: no package named "${n.name}" in the recipe's archives`);
    if (missing.length) throw new XcpError(`${missing.length} ${section} package(s) are not available: ${missing[0]}`, 'resolution', missing.slice(1));
    const combined = await resolveClosure(apt, ctx.log, sources, index, recipe.base.priorities, [...pins, ...names]);
    return layerOver(packages, combined, section);
  };
  let installer: LockedPackage[] | undefined;
  if (recipe.installer) {
    ctx.progress('resolving the installer environment (a layer over the target)');
    installer = await delta('installer', recipe.installer.packages);
  }
  let test: LockedPackage[] | undefined;
  if (recipe.bootTest?.packages.length) {
    ctx.progress('resolving the boot-test closure');
    test = await delta('bootTest', recipe.bootTest.packages);
  }
  let build: LockedPackage[] | undefined;
  if (Object.keys(recipe.sources ?? {}).length && !recipe.buildRoot?.archives?.length) {
    ctx.progress('resolving the clean build root');
    build = await buildRootClosure(ctx, apt, sources, index);
  }
  const archives: LockedArchive[] = await lockedArchives(apt, sources);
  return {
    lockVersion: LOCK_VERSION,
    recipe: recipe.name,
    inputs,
    resolvedAt: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString(),
    archives,
    packages,
    ...(installer ? { installer } : {}),
    ...(test ? { test } : {}),
    ...(build ? { build } : {}),
  };
}

/**
 * The packages of `combined` that `base` lacks. A layer is installed on top of the
 * target with dpkg, so a package both have must be the very same version.
 */
export function layerOver(base: LockedPackage[], combined: LockedPackage[], section: string): LockedPackage[] {
  const have = new Map(base.map((p) => [`${p.name}:${p.architecture}`, p]));
  const layer: LockedPackage[] = [];
  for (const p of combined) {
    const b = have.get(`${p.name}:${p.architecture}`);
    if (!b) layer.push(p);
    else if (b.version !== p.version) {
      throw new XcpError(`${section}: the ${section} packages need ${p.name} ${p.version}, but the target system has ${b.version}; pin ${p.name} in the recipe`, 'resolution');
    }
  }
  return layer;
}
