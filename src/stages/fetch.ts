import path from 'node:path';
import { promises as fs } from 'node:fs';
import { PublishingStage, BuildContext } from '../plan/types';
import { allLockedFiles } from '../lock/file';
import { familyOf } from '../family/registry';
import { downloadAll, downloadOptionsFromEnv, DownloadItem } from '../cache/download';
import { XcpError } from '../errors';
import { requireLock } from './common';
import { closureDigest } from '../engine/reads';
import { writeFileAtomic } from '../util/fsutil';
import { ownDirectory } from '../util/nofollow';
import { readStamp } from '../plan/stamp';
import { allArchives } from '../recipe/load';
import { ContentStore } from '../cache/store';

const RECORD = 'fetched.json';

const recordDir = (ctx: BuildContext) => path.join(ctx.outDir, 'fetch');

/** fetch: every locked file into the content-addressed cache, verified by sha256 (the only networked step besides lock). */
export const fetchStage: PublishingStage = {
  kind: 'publishing',
  id: 'fetch',
  makes: 'every locked file in the content-addressed cache, verified by sha256',
  summary: 'download every locked package into the cache (parallel, resumable, sha256-verified)',
  deps: ['lock'],
  network: true,
  reads: { lock: ['every file'], files: ['source tarballs'] },
  output: recordDir,
  async previous(ctx) {
    try {
      return (JSON.parse(await fs.readFile(path.join(recordDir(ctx), RECORD), 'utf8')) as { inputs: Record<string, string> }).inputs;
    } catch {
      return (await readStamp(recordDir(ctx)))?.inputs;
    }
  },
  async damaged(ctx) {
    const store = await ctx.store();
    const tarballs = Object.values(ctx.loaded.recipe.sources ?? {}).filter((s) => s.url).map((s) => ({ sha256: s.sha256!, size: s.size! }));
    const missing = await store.countNotIntact([...allLockedFiles(requireLock(ctx)), ...tarballs]);
    return missing ? `${missing} cached file(s) missing or changed` : undefined;
  },
  outputDigest: async (ctx) => closureDigest(allLockedFiles(requireLock(ctx))),
  async publish(ctx, run) {
    const store = await ctx.store();
    const items = downloadItems(ctx);
    if (ctx.options.offline) await refuseMissingOffline(store, items);
    const mib = (n: number) => (n / 1048576).toFixed(1);
    const result = await downloadAll(store, items, ctx.log, {
      ...downloadOptionsFromEnv(),
      onProgress: (done, total, files, totalFiles) => ctx.progress(`${mib(done)} / ${mib(total)} MiB, ${files}/${totalFiles} files`),
    });
    await checkSignatures(ctx, store);
    ctx.notes.push(`fetch: ${result.downloaded} file(s) downloaded (${mib(result.bytes)} MiB), ${items.length - result.downloaded} already cached`);
    await ownDirectory(recordDir(ctx), 'the fetch record directory');
    await writeFileAtomic(path.join(recordDir(ctx), RECORD), JSON.stringify({ inputs: run.inputs, files: items.map((i) => ({ sha256: i.sha256, url: i.url })) }, null, 1) + '\n');
  },
};

/** Every locked file at its archive's URL (or the --mirror for it), and the recipe's source tarballs. */
function downloadItems(ctx: BuildContext): DownloadItem[] {
  const uris = new Map(allArchives(ctx.loaded.recipe).map((a) => [a.name, (ctx.options.mirrors[a.name] ?? a.uri).replace(/\/+$/, '')]));
  const items = allLockedFiles(requireLock(ctx)).map((p) => {
    const base = uris.get(p.archive);
    if (!base) throw new XcpError(`the lock names archive "${p.archive}" (for ${p.name}), which the recipe does not have; run xcpbuild lock`, 'invalidInput');
    return { url: `${base}/${p.filename}`, sha256: p.sha256, size: p.size, label: `${p.name} ${p.version}` };
  });
  for (const [name, src] of Object.entries(ctx.loaded.recipe.sources ?? {})) {
    if (src.url) items.push({ url: src.url, sha256: src.sha256!, size: src.size!, label: `source ${name} ${src.version}` });
  }
  return items;
}

async function refuseMissingOffline(store: ContentStore, items: DownloadItem[]): Promise<void> {
  const missing = [];
  for (const i of items) if (!(await store.has(i.sha256, i.size))) missing.push(i.label);
  if (missing.length) throw new XcpError(`--offline, but ${missing.length} locked file(s) are not in the cache: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`, 'network');
}

/** The family's check of fetched files beyond their sha256 (RPM signatures), if it has one. */
async function checkSignatures(ctx: BuildContext, store: ContentStore): Promise<void> {
  const family = familyOf(ctx.loaded.recipe);
  if (!family.checkFetched) return;
  ctx.progress("checking package signatures against the recipe's keys");
  const locked = allLockedFiles(requireLock(ctx));
  const problems = await family.checkFetched(ctx, locked.map((p) => ({ path: store.pathOf(p.sha256), label: `${p.name} ${p.version} (${p.filename})`, archive: p.archive })));
  if (problems.length) throw new XcpError(`${problems.length} fetched package(s) fail the signature check: ${problems[0]}`, 'verification', problems.slice(1, 20));
}
