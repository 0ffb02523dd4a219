import path from 'node:path';
import { StageDefinition, BuildContext } from '../plan/types';
import { hashValue } from '../util/hash';
import { allLockedFiles } from '../lock/file';
import { familyOf } from '../family';
import { downloadAll, downloadOptionsFromEnv } from '../cache/download';
import { XcpError } from '../errors';
import { requireLock, closureDigest, stageDir } from './common';
import { writeFileAtomic } from '../util/fsutil';
import { ownDirectory } from '../util/nofollow';
import { readStamp } from '../plan/stamp';
import { promises as fs } from 'node:fs';
import { allArchives } from '../recipe/load';

const RECORD = 'fetched.json';

/** The source tarballs the recipe names (sources: with url:), as fetch inputs. */
function sourceTarballs(ctx: BuildContext): Record<string, string> {
  const urls = Object.entries(ctx.loaded.recipe.sources ?? {}).filter(([, s]) => s.url).map(([n, s]) => [n, s.url, s.sha256, s.size]);
  return urls.length ? { 'source tarballs': hashValue(urls) } : {};
}

/** fetch: every locked file into the content-addressed cache, verified by sha256 (the only networked step besides lock). */
export const fetchStage: StageDefinition = {
  id: 'fetch',
  makes: 'every locked file in the content-addressed cache, verified by sha256',
  deps: ['lock'],
  network: true,
  enabled: () => true,
  output: (ctx) => stageDir(ctx, 'fetch'),
  async inputs(ctx) {
    return { lock: closureDigest(allLockedFiles(requireLock(ctx))), ...sourceTarballs(ctx) };
  },
  build() {
    throw new Error('fetch runs itself');
  },
  custom: {
    async previous(ctx) {
      try {
        return (JSON.parse(await fs.readFile(path.join(stageDir(ctx, 'fetch'), RECORD), 'utf8')) as { inputs: Record<string, string> }).inputs;
      } catch {
        return (await readStamp(stageDir(ctx, 'fetch')))?.inputs;
      }
    },
    async damaged(ctx) {
      const store = await ctx.store();
      const tarballs = Object.values(ctx.loaded.recipe.sources ?? {}).filter((s) => s.url).map((s) => ({ sha256: s.sha256!, size: s.size! }));
      const missing = await store.countNotIntact([...allLockedFiles(requireLock(ctx)), ...tarballs]);
      return missing ? `${missing} cached file(s) missing or changed` : undefined;
    },
    outputDigest: async (ctx) => closureDigest(allLockedFiles(requireLock(ctx))),
    async run(ctx, inputs) {
      const lock = requireLock(ctx);
      const store = await ctx.store();
      const uris = new Map(allArchives(ctx.loaded.recipe).map((a) => [a.name, (ctx.options.mirrors[a.name] ?? a.uri).replace(/\/+$/, '')]));
      const items = allLockedFiles(lock).map((p) => {
        const base = uris.get(p.archive);
        if (!base) throw new XcpError(`the lock names archive "${p.archive}" (for ${p.name}), which the recipe does not have; run xcpbuild lock`, 'invalidInput');
        return { url: `${base}/${p.filename}`, sha256: p.sha256, size: p.size, label: `${p.name} ${p.version}` };
      });
      for (const [name, src] of Object.entries(ctx.loaded.recipe.sources ?? {})) {
        if (src.url) items.push({ url: src.url, sha256: src.sha256!, size: src.size!, label: `source ${name} ${src.version}` });
      }
      if (ctx.options.offline) {
        const missing = [];
        for (const i of items) if (!(await store.has(i.sha256, i.size))) missing.push(i.label);
        if (missing.length) throw new XcpError(`--offline, but ${missing.length} locked file(s) are not in the cache: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`, 'network');
      }
      const mib = (n: number) => (n / 1048576).toFixed(1);
      const result = await downloadAll(store, items, ctx.log, {
        ...downloadOptionsFromEnv(),
        onProgress: (done, total, files, totalFiles) => ctx.progress(`${mib(done)} / ${mib(total)} MiB, ${files}/${totalFiles} files`),
      });
      const family = familyOf(ctx.loaded.recipe);
      if (family.checkFetched) {
        ctx.progress('checking package signatures against the recipe\'s keys');
        const locked = allLockedFiles(lock);
        const problems = await family.checkFetched(ctx, locked.map((p) => ({ path: store.pathOf(p.sha256), label: `${p.name} ${p.version} (${p.filename})`, archive: p.archive })));
        if (problems.length) throw new XcpError(`${problems.length} fetched package(s) fail the signature check: ${problems[0]}`, 'verification', problems.slice(1, 20));
      }
      ctx.notes.push(`fetch: ${result.downloaded} file(s) downloaded (${mib(result.bytes)} MiB), ${items.length - result.downloaded} already cached`);
      const dir = stageDir(ctx, 'fetch');
      await ownDirectory(dir, 'the fetch record directory');
      await writeFileAtomic(path.join(dir, RECORD), JSON.stringify({ inputs, files: items.map((i) => ({ sha256: i.sha256, url: i.url })) }, null, 1) + '\n');
    },
  },
};
