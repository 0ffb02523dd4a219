import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BuildContext } from '../plan/types';
import { Lock } from '../lock/file';
import { XcpError } from '../errors';
import { MetapackageSpec, metapackageSpecs } from './metapackages';
import { Recipe } from '../recipe/schema';
import { ContentStore } from '../cache/store';
import { SigningKey } from '../signing/gpg';
import { BuildLog } from '../util/log';
import { TemplateGrant } from '../util/templates';
import { PackageFormat } from './types';

/** What every repository format publishes from: the lock, the store, the key, the build's time, log and notes. */
export interface RepositoryInput {
  recipe: Recipe;
  lock: Lock;
  store: ContentStore;
  key: SigningKey;
  epoch: number;
  log: BuildLog;
  progress: (text: string) => void;
  notes: string[];
  templates: TemplateGrant;
}

export async function repositoryInput(ctx: BuildContext, templates: TemplateGrant): Promise<RepositoryInput> {
  return {
    recipe: ctx.loaded.recipe,
    lock: lockOf(ctx),
    store: await ctx.store(),
    key: await ctx.signingKey(),
    epoch: ctx.sourceDateEpoch(),
    log: ctx.log,
    progress: (t) => ctx.progress(t),
    notes: ctx.notes,
    templates,
  };
}

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

/** The metapackages part of a format: each of the recipe's metapackages built by `buildOne`. */
export function metapackagesPart(
  part: Omit<PackageFormat['metapackages'], 'build'>,
  buildOne: (ctx: BuildContext, spec: MetapackageSpec, outDir: string, workDir: string, templates: TemplateGrant) => Promise<unknown>,
): PackageFormat['metapackages'] {
  return { ...part, build: (ctx, outDir, templates) => buildEachMetapackage(ctx, outDir, (spec, work) => buildOne(ctx, spec, outDir, work, templates)) };
}
