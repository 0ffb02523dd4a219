import { promises as fs } from 'node:fs';
import path from 'node:path';
import { StageDefinition, BuildContext } from '../plan/types';
import { familyOf } from '../family';
import { PackageBuilder } from '../format';
import { hashValue, hashTree } from '../util/hash';
import { templateDir } from '../util/templates';
import { codeDigest } from '../version';
import { sourceTreePath } from '../recipe/load';
import { loadDescription } from '../sources/load';
import { extractSourceTarball } from '../sources/tarball';
import { Source } from '../recipe/schema';
import { stageDir } from './common';
import { scratchDir } from '../util/scratch';

/** The source tree of a `sources:` entry: the project directory, or the fetched tarball unpacked into `scratch`. */
async function sourceTree(ctx: BuildContext, name: string, src: Source, scratch: string): Promise<string> {
  if (src.path) return sourceTreePath(ctx.loaded, src.path);
  const store = await ctx.store();
  const dir = path.join(scratch, name);
  await extractSourceTarball(ctx.log, store.pathOf(src.sha256!), dir, `${name} (${src.url})`, src.size!);
  return dir;
}

/**
 * build: the recipe's source packages (sources:), each built from its packaging
 * description as the family's package format, offline: tarballs come from the cache.
 */
export const buildStage: StageDefinition = {
  id: 'build',
  makes: "the recipe's source packages (sources:) as .deb or .rpm, from their packaging descriptions",
  deps: ['fetch'],
  network: false,
  enabled: (ctx) => Object.keys(ctx.loaded.recipe.sources ?? {}).length > 0,
  output: (ctx) => stageDir(ctx, 'build'),
  async inputs(ctx) {
    const r = ctx.loaded.recipe;
    const trees: Record<string, string> = {};
    for (const [name, src] of Object.entries(r.sources ?? {})) trees[name] = src.path ? await hashTree(sourceTreePath(ctx.loaded, src.path)) : src.sha256!;
    const format = familyOf(r).format;
    return {
      'recipe.sources': hashValue(r.sources ?? null),
      'source trees': hashValue(trees),
      'recipe.target': hashValue(r.target),
      [`templates/${format.id}`]: await hashTree(templateDir(format.id)),
      'templates/build-root': await hashTree(templateDir('build-root')),
      SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch()),
      'build root': hashValue(ctx.lock?.build ?? null),
      'xcpbuild code': codeDigest([format.module, 'sources/load', familyOf(r).packageBuilder.module]),
    };
  },
  async build(ctx, staging) {
    const family = familyOf(ctx.loaded.recipe);
    const format = family.format;
    const scratch = await scratchDir('build');
    let builder: PackageBuilder | undefined;
    try {
      // Every tree and description is checked before the build root is made: a refused file fails in seconds.
      const prepared = [];
      for (const [name, src] of Object.entries(ctx.loaded.recipe.sources ?? {})) {
        const tree = await sourceTree(ctx, name, src, scratch);
        prepared.push({ name, src, tree, desc: await loadDescription(tree, name, src.version) });
      }
      builder = await family.packageBuilder.make(ctx);
      for (const { name, src, tree, desc } of prepared) {
        ctx.progress(`building ${name} ${src.version} (${format.id})`);
        const work = path.join(scratch, 'work', name);
        await fs.mkdir(work, { recursive: true });
        const file = await format.buildSourcePackage(ctx, desc, tree, staging, work, builder);
        ctx.notes.push(`build: ${path.basename(file)} from ${src.path ?? src.url}: ${format.id === 'rpm' ? 'rpmbuild' : 'dpkg-deb'} ran ${builder.describe}`);
      }
    } finally {
      await builder?.dispose();
      await fs.rm(scratch, { recursive: true, force: true });
    }
  },
};
