import { promises as fs } from 'node:fs';
import path from 'node:path';
import { StageDefinition, StageId, BuildContext, Inputs } from '../plan/types';
import { buildDir, readStamp } from '../plan/stamp';
import { inputHash } from '../plan/decide';
import { familyOf } from '../family';
import { readLock, writeLock, diffLocks, formatLockDiff, Lock, LockedPackage, allLockedFiles } from '../lockfile';
import { keyringPath } from '../recipe/load';
import { hashValue, hashTree, sha256 } from '../util/hash';
import { templateDir, projectRoot } from '../util/templates';
import { buildInstallerEnv, installerOutputs } from '../family/debian/installer-env';
import { buildIso, isoFileName } from '../iso/build-iso';
import { signingKeySource } from '../signing/gpg';
import { downloadAll } from '../cache/download';
import { XcpError } from '../errors';
import { compareDebianVersions } from '../format/deb/version';
import { exists } from '../util/fsutil';
import { codeDigest } from '../version';

function requireLock(ctx: BuildContext): Lock {
  if (!ctx.lock) throw new XcpError(`no lock for ${ctx.loaded.recipe.name}; run xcpbuild lock`, 'invalidInput');
  return ctx.lock;
}

/** The part of a closure later stages depend on: what each file is. */
function closureDigest(packages: LockedPackage[]): string {
  return hashValue(packages.map((p) => [p.name, p.version, p.architecture, p.sha256, p.filename]));
}

const lockStage: StageDefinition = {
  id: 'lock',
  makes: 'recipes/<name>.lock: the pinned install closure with sha256s',
  deps: [],
  network: true,
  output: (ctx) => ctx.loaded.lockFile,
  async inputs(ctx) {
    const r = ctx.loaded.recipe;
    const keyrings: string[] = [];
    for (const a of r.archives) keyrings.push(sha256(await fs.readFile(keyringPath(ctx.loaded, a.keyring))));
    return {
      'recipe.target': hashValue(r.target),
      'recipe.archives': hashValue(r.archives),
      'recipe.base': hashValue(r.base),
      'recipe.packages': hashValue(r.packages),
      'recipe.installer': hashValue(r.installer ?? null),
      'archive keyrings': hashValue(keyrings),
    };
  },
  async previous(ctx) {
    if (ctx.options.updateLock) return { 'lock --update': 'requested' };
    return (await readLock(ctx.loaded.lockFile))?.inputs;
  },
  async build(ctx) {
    const old = await readLock(ctx.loaded.lockFile);
    if (ctx.options.offline || ctx.options.locked) {
      const why = old ? 'is out of date with the recipe' : 'does not exist';
      throw new XcpError(`${path.relative(process.cwd(), ctx.loaded.lockFile)} ${why}; run xcpbuild lock (not allowed with --${ctx.options.offline ? 'offline' : 'locked'})`, 'invalidInput');
    }
    const inputs = await lockStage.inputs(ctx);
    const lock = await familyOf(ctx.loaded.recipe).resolveLock(ctx, inputs);
    const diff = diffLocks(old, lock);
    const installerDiff = diffLocks(old && { ...old, packages: old.installer ?? [] }, { ...lock, packages: lock.installer ?? [] });
    const changes = (d: typeof diff) => d.added.length + d.removed.length + d.changed.length;
    if (old && changes(diff) + changes(installerDiff) === 0) lock.resolvedAt = old.resolvedAt;
    await writeLock(ctx.loaded.lockFile, lock);
    ctx.lock = lock;
    const lines = formatLockDiff(diff, compareDebianVersions);
    const counts = `${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed; ${lock.packages.length} packages, ${(lock.packages.reduce((s, p) => s + p.size, 0) / 1048576).toFixed(1)} MiB`;
    ctx.notes.push(`lock: ${counts}`, ...(old ? lines : []));
    if (lock.installer) {
      ctx.notes.push(`lock: installer environment: ${lock.installer.length} packages`, ...(old ? formatLockDiff(installerDiff, compareDebianVersions).map((l) => `installer ${l}`) : []));
    }
  },
};

const fetchStage: StageDefinition = {
  id: 'fetch',
  makes: 'every locked file in the content-addressed cache, verified by sha256',
  deps: ['lock'],
  network: true,
  output: (ctx) => path.join(ctx.outDir, 'fetch'),
  async inputs(ctx) {
    return { lock: closureDigest(allLockedFiles(requireLock(ctx))) };
  },
  previous: (ctx) => readStamp(fetchStage.output(ctx)),
  async damaged(ctx) {
    const store = await ctx.store();
    let missing = 0;
    for (const p of allLockedFiles(requireLock(ctx))) if (!(await store.looksIntact(p.sha256))) missing++;
    return missing ? `${missing} cached file(s) missing or changed` : undefined;
  },
  async build(ctx) {
    const lock = requireLock(ctx);
    const store = await ctx.store();
    const uris = new Map(ctx.loaded.recipe.archives.map((a) => [a.name, a.uri.replace(/\/+$/, '')]));
    const items = allLockedFiles(lock).map((p) => {
      const base = uris.get(p.archive);
      if (!base) throw new XcpError(`the lock names archive "${p.archive}" (for ${p.name}), which the recipe does not have; run xcpbuild lock`, 'invalidInput');
      return { url: `${base}/${p.filename}`, sha256: p.sha256, size: p.size, label: `${p.name} ${p.version}` };
    });
    if (ctx.options.offline) {
      const missing = [];
      for (const i of items) if (!(await store.has(i.sha256))) missing.push(i.label);
      if (missing.length) throw new XcpError(`--offline, but ${missing.length} locked file(s) are not in the cache: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`, 'network');
    }
    const mib = (n: number) => (n / 1048576).toFixed(1);
    const result = await downloadAll(store, items, ctx.log, {
      concurrency: 6,
      attempts: 5,
      backoffMs: 500,
      idleTimeoutMs: 30000,
      onProgress: (done, total, files, totalFiles) => ctx.progress(`${mib(done)} / ${mib(total)} MiB, ${files}/${totalFiles} files`),
    });
    ctx.notes.push(`fetch: ${result.downloaded} file(s) downloaded (${mib(result.bytes)} MiB), ${items.length - result.downloaded} already cached`);
    const inputs = await fetchStage.inputs(ctx);
    await buildDir('fetch', fetchStage.output(ctx), inputs, async (staging) => {
      await fs.writeFile(path.join(staging, 'manifest.json'), JSON.stringify(items.map((i) => ({ sha256: i.sha256, url: i.url })), null, 1) + '\n');
    });
  },
};

const metaStage: StageDefinition = {
  id: 'meta',
  makes: 'the metapackages (xenserver-core, xcp-full) with exact Depends',
  deps: ['lock'],
  network: false,
  output: (ctx) => path.join(ctx.outDir, 'meta'),
  async inputs(ctx) {
    const r = ctx.loaded.recipe;
    return {
      'recipe.metapackages': hashValue(r.metapackages),
      'recipe.packages': hashValue(r.packages),
      'templates/deb': await hashTree(templateDir('deb')),
      SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch()),
      'xcpbuild code': codeDigest([familyOf(r).format.module, 'plan/stamp']),
    };
  },
  previous: (ctx) => readStamp(metaStage.output(ctx)),
  async build(ctx) {
    const inputs = await metaStage.inputs(ctx);
    await buildDir('meta', metaStage.output(ctx), inputs, async (staging) => {
      await familyOf(ctx.loaded.recipe).format.buildMetapackages(ctx, staging);
    });
  },
};

const repoStage: StageDefinition = {
  id: 'repo',
  makes: 'the signed package repository: the locked closure plus the metapackages',
  deps: ['fetch', 'meta'],
  network: false,
  output: (ctx) => path.join(ctx.outDir, 'repo'),
  async inputs(ctx) {
    const r = ctx.loaded.recipe;
    const key = signingKeySource(ctx.options.signingKey);
    const metaInputs = await metaStage.inputs(ctx);
    return {
      lock: closureDigest(requireLock(ctx).packages),
      meta: inputHash(metaInputs),
      'recipe.repository': hashValue(r.repository),
      'signing key': (await exists(key.file)) ? sha256(await fs.readFile(key.file)) : 'missing',
      'templates/repo': await hashTree(templateDir('repo')),
      SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch()),
      'xcpbuild code': codeDigest([familyOf(r).format.module, 'plan/stamp']),
    };
  },
  previous: (ctx) => readStamp(repoStage.output(ctx)),
  async damaged(ctx) {
    const marker = familyOf(ctx.loaded.recipe).format.repositoryMarker(ctx.loaded.recipe);
    return (await exists(path.join(repoStage.output(ctx), marker))) ? undefined : `${marker} is missing`;
  },
  async build(ctx) {
    const inputs = await repoStage.inputs(ctx);
    await buildDir('repo', repoStage.output(ctx), inputs, async (staging) => {
      await familyOf(ctx.loaded.recipe).format.publishRepository(ctx, staging, metaStage.output(ctx));
    });
  },
};

const installerStage: StageDefinition = {
  id: 'installer',
  makes: 'the installer environment: kernel, initramfs (live-boot) and squashfs root with the installer',
  deps: ['fetch'],
  network: false,
  output: (ctx) => path.join(ctx.outDir, 'installer'),
  async inputs(ctx) {
    const r = ctx.loaded.recipe;
    return {
      'lock (installer)': closureDigest(requireLock(ctx).installer ?? []),
      'recipe.installer': hashValue(r.installer ?? null),
      'recipe.iso': hashValue(r.iso ?? null),
      'recipe.repository': hashValue(r.repository),
      'templates/installer': await hashTree(templateDir('installer')),
      SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch()),
      'xcpbuild code': codeDigest([familyOf(r).installerModule, 'plan/stamp', 'cache/store']),
    };
  },
  previous: (ctx) => readStamp(installerStage.output(ctx)),
  async damaged(ctx) {
    return (await exists(path.join(installerStage.output(ctx), installerOutputs.rootImage))) ? undefined : `${installerOutputs.rootImage} is missing`;
  },
  async build(ctx) {
    const inputs = await installerStage.inputs(ctx);
    const store = await ctx.store();
    const hash = inputHash(inputs);
    await buildDir('installer', installerStage.output(ctx), inputs, async (staging) => {
      if (await store.restoreTree('installer', hash, staging)) {
        ctx.notes.push(`installer: restored from the cache (${hash.slice(0, 12)})`);
        return;
      }
      await buildInstallerEnv(ctx, staging);
      await store.saveTree('installer', hash, staging);
    });
  },
};

const isoStage: StageDefinition = {
  id: 'iso',
  makes: 'the hybrid BIOS/UEFI appliance ISO with the signed repository and the installer',
  deps: ['repo', 'installer'],
  network: false,
  output: (ctx) => path.join(ctx.outDir, 'iso'),
  async inputs(ctx) {
    const r = ctx.loaded.recipe;
    return {
      repo: inputHash(await repoStage.inputs(ctx)),
      installer: inputHash(await installerStage.inputs(ctx)),
      'recipe.iso': hashValue(r.iso ?? null),
      'isolinux/': await hashTree(path.join(projectRoot, 'isolinux')),
      'templates/grub': await hashTree(templateDir('grub')),
      'preseed/': await hashTree(path.join(projectRoot, 'preseed')),
      SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch()),
      'xcpbuild code': codeDigest(['iso/build-iso', 'plan/stamp']),
    };
  },
  previous: (ctx) => readStamp(isoStage.output(ctx)),
  async damaged(ctx) {
    return (await exists(path.join(isoStage.output(ctx), isoFileName(ctx.loaded.recipe)))) ? undefined : `${isoFileName(ctx.loaded.recipe)} is missing`;
  },
  async build(ctx) {
    const inputs = await isoStage.inputs(ctx);
    await buildDir('iso', isoStage.output(ctx), inputs, async (staging) => {
      const iso = await buildIso(ctx, staging, { repoDir: repoStage.output(ctx), installerDir: installerStage.output(ctx) });
      ctx.notes.push(`iso: ${path.join(isoStage.output(ctx), path.basename(iso))} (${((await fs.stat(iso)).size / 1048576).toFixed(1)} MiB)`);
    });
  },
};

export const stages: Record<StageId, StageDefinition> = { lock: lockStage, fetch: fetchStage, meta: metaStage, repo: repoStage, installer: installerStage, iso: isoStage };

/** The stages needed to make `target`, dependencies first. */
export function stagesFor(target: StageId): StageDefinition[] {
  const order: StageDefinition[] = [];
  const visit = (id: StageId) => {
    if (order.some((s) => s.id === id)) return;
    for (const d of stages[id].deps) visit(d);
    order.push(stages[id]);
  };
  visit(target);
  return order;
}

export type { Inputs };
