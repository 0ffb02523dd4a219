import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DirectoryStage, BuildContext } from '../plan/types';
import { familyOf } from '../family/registry';
import { PackageBuilder } from '../format/types';
import { sourceTreePath } from '../recipe/load';
import { loadDescription } from '../sources/load';
import { extractSourceTarball } from '../sources/tarball';
import { Source } from '../recipe/schema';
import { LoadedDescription } from '../sources/load';
import { scratchDir } from '../util/scratch';

/** The source tree of a `sources:` entry: the project directory, or the fetched tarball unpacked into `scratch`. */
async function sourceTree(ctx: BuildContext, name: string, src: Source, scratch: string): Promise<string> {
  if (src.path) return sourceTreePath(ctx.loaded, src.path);
  const store = await ctx.store();
  const dir = path.join(scratch, name);
  await extractSourceTarball(ctx.log, store.pathOf(src.sha256!), dir, `${name} (${src.url})`, src.size!);
  return dir;
}

interface PreparedSource {
  name: string;
  src: Source;
  tree: string;
  desc: LoadedDescription;
}

/** Every tree and description, checked before the build root is made: a refused file fails in seconds. */
async function prepareSources(ctx: BuildContext, scratch: string): Promise<PreparedSource[]> {
  const prepared: PreparedSource[] = [];
  for (const [name, src] of Object.entries(ctx.loaded.recipe.sources ?? {})) {
    const tree = await sourceTree(ctx, name, src, scratch);
    prepared.push({ name, src, tree, desc: await loadDescription(tree, name, src.version) });
  }
  return prepared;
}

/** build: each of the recipe's sources: as the family's package format, offline (tarballs come from the cache). */
export const buildStage: DirectoryStage = {
  kind: 'directory',
  id: 'build',
  makes: "the recipe's source packages (sources:) as .deb or .rpm, from their packaging descriptions",
  summary: "build the recipe's source packages (sources:) as .deb or .rpm from their packaging descriptions (offline)",
  deps: ['fetch'],
  network: false,
  reads: {
    recipe: ['sources', 'target'],
    lock: ['build'],
    files: ['source trees'],
    parts: ['format.sourcePackage', 'builder'],
    env: ['SOURCE_DATE_EPOCH'],
    code: ['sources/load', 'sources/tarball'],
  },
  notCalledFor: (recipe) => (Object.keys(recipe.sources ?? {}).length ? undefined : 'the recipe has no sources: section, so it builds no packages'),
  async build(ctx, staging, run) {
    const family = familyOf(ctx.loaded.recipe);
    const part = family.format.sourcePackage;
    const scratch = await scratchDir('build');
    let builder: PackageBuilder | undefined;
    try {
      const prepared = await prepareSources(ctx, scratch);
      builder = await family.builder.make(ctx, run.templates);
      for (const { name, src, tree, desc } of prepared) {
        ctx.progress(`building ${name} ${src.version} (${family.format.id})`);
        const workDir = path.join(scratch, 'work', name);
        await fs.mkdir(workDir, { recursive: true });
        const file = await part.build(ctx, { desc, tree, outDir: staging, workDir }, builder, run.templates);
        ctx.notes.push(`build: ${path.basename(file)} from ${src.path ?? src.url}: ${part.tool} ran ${builder.describe}`);
      }
    } finally {
      await builder?.dispose();
      await fs.rm(scratch, { recursive: true, force: true });
    }
  },
};
