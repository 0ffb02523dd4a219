import { promises as fs } from 'node:fs';
import { BuildContext, FileRead } from '../plan/types';
import { hashValue, hashTree, sha256, sha256File } from '../util/hash';
import { exists } from '../util/fsutil';
import { sourceTreePath, keyringPath, allArchives } from '../recipe/load';
import { XcpError } from '../errors';
import { baseIsoPath } from '../plan/base-iso';

/**
 * The digest of each file input a stage may declare; undefined leaves the input out
 * (a recipe without tarball sources has no "source tarballs" input, so adding that
 * kind of input later did not change the inputs of recipes without it).
 */
export const fileInputs: Record<FileRead, (ctx: BuildContext) => Promise<string | undefined>> = {
  async 'signing key'(ctx) {
    const key = ctx.options.key.file;
    return (await exists(key)) ? sha256(await fs.readFile(key)) : 'missing';
  },
  async 'source trees'(ctx) {
    const trees: Record<string, string> = {};
    for (const [name, src] of Object.entries(ctx.loaded.recipe.sources ?? {})) trees[name] = src.path ? await hashTree(sourceTreePath(ctx.loaded, src.path)) : src.sha256!;
    return hashValue(trees);
  },
  async 'source tarballs'(ctx) {
    const urls = Object.entries(ctx.loaded.recipe.sources ?? {}).filter(([, s]) => s.url).map(([n, s]) => [n, s.url, s.sha256, s.size]);
    return urls.length ? hashValue(urls) : undefined;
  },
  async 'base ISO'(ctx) {
    const base = baseIsoPath(ctx);
    const st = await fs.stat(base).catch(() => undefined);
    if (!st?.isFile()) throw new XcpError(`--base-iso: ${base} is not a readable file`, 'usage');
    return sha256File(base);
  },
  async 'archive keyrings'(ctx) {
    const keyrings: string[] = [];
    // The build root's archives come after the recipe's, so a recipe without them keeps its inputs.
    for (const a of allArchives(ctx.loaded.recipe)) keyrings.push(a.keyring ? sha256(await fs.readFile(keyringPath(ctx.loaded, a.keyring))) : `fingerprint ${a.key!.fingerprint}`);
    return hashValue(keyrings);
  },
};
