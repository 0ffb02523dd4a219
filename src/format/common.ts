import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BuildContext } from '../plan/types';
import { Lock } from '../lock/file';
import { XcpError } from '../errors';
import { MetapackageSpec, metapackageSpecs } from './metapackages';

/** The package files this recipe built (build and meta stages) with extension `ext`, sorted. */
export async function builtPackages(ctx: BuildContext, ext: string): Promise<string[]> {
  const files: string[] = [];
  for (const stage of ['build', 'meta']) {
    const dir = path.join(ctx.outDir, stage);
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    files.push(...names.filter((f) => f.endsWith(ext)).sort().map((f) => path.join(dir, f)));
  }
  return files;
}

/** The lock a format publishes from (read or made by the lock stage before any format runs). */
export function lockOf(ctx: BuildContext): Lock {
  if (!ctx.lock) throw new XcpError('no lock; run xcpbuild lock', 'invalidInput');
  return ctx.lock;
}

/** Builds each of the recipe's metapackages with `build`, in a scratch tree under `outDir` removed after. */
export async function buildEachMetapackage(ctx: BuildContext, outDir: string, build: (spec: MetapackageSpec, work: string) => Promise<unknown>): Promise<void> {
  const work = path.join(outDir, '.tree');
  for (const spec of metapackageSpecs(ctx.loaded.recipe)) {
    ctx.progress(`building ${spec.name} ${spec.version}`);
    await build(spec, work);
  }
  await fs.rm(work, { recursive: true, force: true });
}
