import path from 'node:path';
import { promises as fs } from 'node:fs';
import { Session } from './session';
import { lockOutput, rendererFor } from './build';
import { parseFirmwares, positiveNumber } from './boot-test';
import { loadRecipe, LoadedRecipe } from '../recipe/load';
import { readLock } from '../lock/file';
import { createContext } from '../plan/context';
import { execute } from '../plan/engine';
import { familyOf } from '../family';
import { XcpError } from '../errors';
import { checkedPath } from '../util/env';
import { ensureWritableDir, exists, copyFile } from '../util/fsutil';
import { FileLock } from '../util/flock';
import { onCleanup } from '../util/signals';
import { displayPath } from '../util/paths';
import { printable } from '../util/text';
import { isoFileName } from '../iso/build-iso';
import { nightlyDate, nightlyVersion, stampRecipe } from '../nightly/version';
import { ReleaseDir } from '../nightly/publish';
import { computeChanges } from '../nightly/changes';
import { assembleRelease, ReleaseRecord } from '../nightly/release';
import { toolVersion } from '../version';

export interface NightlyOpts {
  publish: string;
  keep: string;
  firmware: string;
  skipBootTest: boolean;
  installTimeout: string;
  bootTimeout: string;
}

/**
 * One nightly: re-resolve the lock against today's archives, stamp the version,
 * build the repository and the ISO, boot-test it as a gate, then publish the release
 * atomically, move `latest` to it and prune old releases.
 */
export async function nightlyCommand(session: Session, recipeArg: string, opts: NightlyOpts): Promise<void> {
  const started = Date.now();
  const keep = Number(opts.keep);
  if (!/^\d+$/.test(opts.keep) || keep < 1) throw new XcpError(`--keep: expected a whole number of 1 or more, found "${printable(opts.keep)}"`, 'usage');
  const firmwares = parseFirmwares(opts.firmware);
  const installTimeoutMs = positiveNumber(opts.installTimeout, '--install-timeout') * 60000;
  const bootTimeoutMs = positiveNumber(opts.bootTimeout, '--boot-timeout') * 60000;
  const loaded = await loadRecipe(recipeArg);
  const recipe = loaded.recipe;
  const family = familyOf(recipe);
  const withIso = !!(family.appliance && recipe.iso && recipe.installer);
  const publishRoot = path.join(checkedPath(opts.publish, '--publish'), recipe.name);
  const log = await session.openLog(recipe.name, 'nightly');
  log.line(`xcpbuild ${toolVersion}: ${process.argv.slice(2).map((a) => printable(a, 200)).join(' ')}`);
  const say = (t: string) => {
    log.line(t);
    if (!session.json) process.stderr.write(`${t}\n`);
  };

  // One nightly per recipe and publish directory at a time: the version counter and `latest` depend on it.
  await ensureWritableDir(publishRoot);
  const publishLock = await FileLock.acquire(path.join(publishRoot, '.lock'), `xcpbuild nightly ${recipe.name}`, (holder) => say(`waiting for another nightly of ${recipe.name} to finish (${holder})`));
  onCleanup(() => publishLock.release());
  const releases = new ReleaseDir(publishRoot, recipe.version);
  const swept = await releases.sweep();
  if (swept.length) say(`removed what an interrupted nightly left: ${swept.join(', ')}`);
  const version = nightlyVersion(recipe.version, nightlyDate(new Date()), await releases.releases());
  const previousVersion = await releases.latest();

  // Nightlies build under <out>/nightly with their own lock, so the recipe's committed lock and out/<name> stay as they are.
  const options = session.buildOptions({ updateLock: !session.opts().offline, epochFrom: 'archive-state' });
  options.outRoot = path.join(options.outRoot, 'nightly');
  const nightlyLoaded: LoadedRecipe = { ...loaded, recipe: stampRecipe(recipe, version), lockFile: path.join(options.outRoot, `${recipe.name}.lock`) };
  await ensureWritableDir(options.outRoot);
  if (!(await exists(nightlyLoaded.lockFile)) && (await exists(loaded.lockFile))) await copyFile(loaded.lockFile, nightlyLoaded.lockFile);
  const outDir = path.join(options.outRoot, recipe.name);
  await lockOutput(session, outDir);
  say(`nightly ${recipe.name} ${version}${previousVersion ? ` (previous: ${previousVersion})` : ' (the first)'}; log: ${displayPath(log.file!)}`);

  const ctx = await createContext(nightlyLoaded, options, log);
  onCleanup(() => ctx.dispose());
  try {
    const key = await ctx.signingKey();
    const target = withIso ? 'iso' : 'repo';
    const stages = await execute(ctx, target, rendererFor(session));
    for (const n of ctx.notes) say(n);
    const buildSeconds = (Date.now() - started) / 1000;

    const bootTest: ReleaseRecord['bootTest'] = { gate: withIso ? 'skipped' : 'no-iso', firmwares: [], rows: [] };
    let bootReports: unknown[] = [];
    const bootStarted = Date.now();
    if (withIso && !opts.skipBootTest) {
      const { bootTest: runBootTest, formatReport } = await import('../boottest/boot-test');
      const iso = path.join(outDir, 'iso', isoFileName(nightlyLoaded.recipe));
      const reports = [];
      for (const firmware of firmwares) {
        reports.push(await runBootTest(nightlyLoaded, ctx.lock!, { iso, workDir: path.join(outDir, 'boot-test'), firmware, installTimeoutMs, bootTimeoutMs, reuseInstall: false, progress: say, store: await ctx.store() }, log));
      }
      bootReports = reports;
      const table = formatReport(reports);
      for (const l of table) log.line(l);
      if (!session.json) process.stderr.write(table.join('\n') + '\n');
      const failed = reports.filter((r) => !r.ok);
      if (failed.length) {
        throw new XcpError(`boot test failed, nothing was published: ${failed.map((r) => `${r.firmware}: ${r.failure}`).join('; ')}`, 'verification', [`serial logs: ${displayPath(path.join(outDir, 'boot-test'))}/<firmware>/`]);
      }
      bootTest.gate = 'passed';
      bootTest.firmwares = firmwares;
      bootTest.rows = reports.flatMap((r) => r.checks.map((c) => ({ firmware: r.firmware, check: c.name, ok: c.ok })));
    } else if (withIso) say('boot test skipped (--skip-boot-test): release.json records it');
    const bootSeconds = (Date.now() - bootStarted) / 1000;

    const publishStarted = Date.now();
    const previous = previousVersion ? await readLock(path.join(publishRoot, previousVersion, `${recipe.name}.lock`)) : undefined;
    const store = await ctx.store();
    say(previous ? `comparing with ${previousVersion}` : 'no previous nightly to compare with');
    const changes = await computeChanges(family.format, log, recipe.name, version, previous ? { version: previousVersion!, lock: previous } : undefined, ctx.lock!, (p) => store.pathOf(p.sha256));
    const staging = await releases.stage(version);
    const record = await assembleRelease({ ...ctx, progress: (t) => say(t) }, staging, { withIso, changes, bootTest, key, store });
    const final = await releases.commit(staging, version);
    const pruned = await releases.prune(keep);
    if (pruned.length) say(`removed old releases (keeping ${keep}): ${pruned.join(', ')}`);
    const files = await sizes(final);
    const summary = {
      ok: true,
      recipe: recipe.name,
      version,
      previous: previousVersion,
      release: final,
      latest: path.join(publishRoot, 'latest'),
      files,
      changes: record.changes,
      bootTest: { ...bootTest, reports: bootReports },
      pruned,
      seconds: { build: buildSeconds, bootTest: bootSeconds, publish: (Date.now() - publishStarted) / 1000, total: (Date.now() - started) / 1000 },
      stages: stages.map((s) => ({ id: s.id, status: s.status })),
    };
    log.line(JSON.stringify(summary));
    if (session.json) session.emit(summary);
    else {
      console.log(`nightly ${recipe.name} ${version}: ${displayPath(final)} (${summary.seconds.total.toFixed(0)}s)`);
      console.log(`  changes since ${previousVersion ?? '(none)'}: ${record.changes.added} added, ${record.changes.removed} removed, ${record.changes.changed} changed${record.changes.cves.length ? `; CVEs: ${record.changes.cves.join(', ')}` : ''}`);
      console.log(`  boot test: ${bootTest.gate}${bootTest.firmwares.length ? ` (${bootTest.firmwares.join(', ')})` : ''}; latest → ${version}`);
      console.log(`log: ${displayPath(log.file!)}`);
    }
  } finally {
    await ctx.dispose();
  }
}

async function sizes(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    if (e.isFile()) out[e.name] = (await fs.stat(path.join(dir, e.name))).size;
  }
  return out;
}
