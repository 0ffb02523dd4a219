import path from 'node:path';
import { promises as fs } from 'node:fs';
import { Session } from './session';
import { lockOutput, rendererFor } from './build';
import { parseFirmwares, positiveNumber } from './boot-test';
import { LoadedRecipe } from '../recipe/load';
import { loadRecipe } from '../family/recipe';
import { readLock } from '../lock/file';
import { createContext } from '../plan/context';
import { execute, StageResult } from '../engine/run';
import { OwnedContext } from '../plan/context';
import { stageGraph } from '../stages/registry';
import { BuildLog } from '../util/log';
import { SigningKey } from '../signing/gpg';
import { Firmware } from '../boottest/qemu';
import type { BootTestReport as BootReport } from '../boottest/boot-test';
import { familyOf } from '../family/registry';
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
import { computeChanges, Changes, PinNotice } from '../nightly/changes';
import { assembleRelease, ReleaseRecord } from '../nightly/release';
import { toolVersion } from '../version';
import { readRelease } from './upgrade-test';
import { publishToChannel, gateRefusal } from '../channel/promote';
import { pinReports, proposedVersion, PinPolicy } from '../pins/updates';
import { checkChannelName } from '../channel/channel';

export interface NightlyOpts {
  publish: string;
  keep: string;
  firmware: string;
  skipBootTest: boolean;
  skipPiuparts: boolean;
  skipUpgradeTest: boolean;
  channel: string;
  bumpPins?: string;
  installTimeout: string;
  bootTimeout: string;
}

/** The nightly's steps, each timed: reported in --json as steps[] with their seconds. */
class Steps {
  readonly done: { name: string; seconds: number }[] = [];

  async run<T>(name: string, step: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await step();
    } finally {
      this.done.push({ name, seconds: (Date.now() - started) / 1000 });
    }
  }

  seconds(...names: string[]): number {
    return this.done.filter((s) => names.includes(s.name)).reduce((n, s) => n + s.seconds, 0);
  }
}

interface NightlyRun {
  session: Session;
  loaded: LoadedRecipe;
  publishRoot: string;
  log: BuildLog;
  say(text: string): void;
  withIso: boolean;
}

interface GateSettings {
  keep: number;
  firmwares: Firmware[];
  installTimeoutMs: number;
  bootTimeoutMs: number;
}

function gateSettings(opts: NightlyOpts): GateSettings {
  const keep = Number(opts.keep);
  if (!/^\d+$/.test(opts.keep) || keep < 1) throw new XcpError(`--keep: expected a whole number of 1 or more, found "${printable(opts.keep)}"`, 'usage');
  return {
    keep,
    firmwares: parseFirmwares(opts.firmware),
    installTimeoutMs: positiveNumber(opts.installTimeout, '--install-timeout') * 60000,
    bootTimeoutMs: positiveNumber(opts.bootTimeout, '--boot-timeout') * 60000,
  };
}

/**
 * One nightly: re-resolve the lock against today's archives, stamp the version,
 * build the repository and the ISO, boot-test it as a gate, then publish the release
 * atomically, move `latest` to it and prune old releases.
 */
export async function nightlyCommand(session: Session, recipeArg: string, opts: NightlyOpts): Promise<void> {
  const started = Date.now();
  const settings = gateSettings(opts);
  checkChannelName(opts.channel);
  const policy = bumpPolicy(opts.bumpPins);
  const run = await startNightly(session, await loadRecipe(recipeArg), opts.publish);
  const steps = new Steps();
  const releases = await steps.run('hold the publish directory', () => holdPublishDir(run));
  const version = nightlyVersion(run.loaded.recipe.version, nightlyDate(new Date()), await releases.releases());
  const previousVersion = await releases.latest();
  const ctx = await steps.run('prepare the build', () => prepareBuild(run, version, previousVersion));
  try {
    const pins = await steps.run('check the pins', () => checkPins(run, ctx, policy));
    const key = await ctx.signingKey();
    const stages = await steps.run('build', () => execute(ctx, stageGraph, run.withIso ? 'iso' : 'repo', rendererFor(session)));
    for (const n of ctx.notes) run.say(n);
    const gate = await steps.run('boot test', () => bootTestGate(run, ctx, settings, opts.skipBootTest));
    const previousDir = previousVersion ? path.join(run.publishRoot, previousVersion) : undefined;
    gate.record.installCheck = await steps.run('install check', () => installCheckGate(run, ctx, previousDir, opts.skipPiuparts));
    gate.record.upgradeTest = await steps.run('upgrade test', () => upgradeGate(run, ctx, settings, previousDir, opts.skipUpgradeTest || opts.skipBootTest));
    const changes = { ...(await steps.run('compare with the previous release', () => changesSince(run, ctx, version, previousVersion))), pins };
    const published = await steps.run('publish', () => publish(run, ctx, releases, { version, changes, gate, key, keep: settings.keep }));
    published.channel = await steps.run('update the channel', () => updateChannel(run, published, opts.channel, key));
    report(run, { version, previousVersion, published, gate, stages, steps, started });
  } finally {
    await ctx.dispose();
  }
}

/** The run's log and publish root; the ISO is made when the family makes its own (a remaster needs a vendor ISO the nightly is not given). */
async function startNightly(session: Session, loaded: LoadedRecipe, publish: string): Promise<NightlyRun> {
  const recipe = loaded.recipe;
  const withIso = !stageGraph.absence('iso', recipe) && familyOf(recipe).appliance.kind === 'image';
  const publishRoot = path.join(checkedPath(publish, '--publish'), recipe.name);
  const log = await session.openLog(recipe.name, 'nightly');
  log.line(`xcpbuild ${toolVersion}: ${process.argv.slice(2).map((a) => printable(a, 200)).join(' ')}`);
  const say = (t: string) => {
    log.line(t);
    if (!session.json) process.stderr.write(`${t}\n`);
  };
  return { session, loaded, publishRoot, log, say, withIso };
}

/** One nightly per recipe and publish directory at a time: the version counter and `latest` depend on it. */
async function holdPublishDir(run: NightlyRun): Promise<ReleaseDir> {
  const { publishRoot, loaded, say } = run;
  await ensureWritableDir(publishRoot);
  const publishLock = await FileLock.acquire(path.join(publishRoot, '.lock'), `xcpbuild nightly ${loaded.recipe.name}`, (holder) => say(`waiting for another nightly of ${loaded.recipe.name} to finish (${holder})`));
  onCleanup(() => publishLock.release());
  const releases = new ReleaseDir(publishRoot, loaded.recipe.version);
  const swept = await releases.sweep();
  if (swept.length) say(`removed what an interrupted nightly left: ${swept.join(', ')}`);
  return releases;
}

/** Nightlies build under <out>/nightly with their own lock, so the recipe's committed lock and out/<name> stay as they are. */
async function prepareBuild(run: NightlyRun, version: string, previousVersion: string | undefined): Promise<OwnedContext> {
  const { session, loaded } = run;
  const recipe = loaded.recipe;
  const options = session.buildOptions({ updateLock: !session.opts().offline, epochFrom: 'archive-state' });
  options.outRoot = path.join(options.outRoot, 'nightly');
  const nightlyLoaded: LoadedRecipe = { ...loaded, recipe: stampRecipe(recipe, version), lockFile: path.join(options.outRoot, `${recipe.name}.lock`) };
  await ensureWritableDir(options.outRoot);
  if (!(await exists(nightlyLoaded.lockFile)) && (await exists(loaded.lockFile))) await copyFile(loaded.lockFile, nightlyLoaded.lockFile);
  await lockOutput(session, path.join(options.outRoot, recipe.name));
  run.say(`nightly ${recipe.name} ${version}${previousVersion ? ` (previous: ${previousVersion})` : ' (the first)'}; log: ${displayPath(run.log.file!)}`);
  const ctx = await createContext(nightlyLoaded, options, run.log);
  onCleanup(() => ctx.dispose());
  return ctx;
}

function bumpPolicy(value: string | undefined): PinPolicy | undefined {
  if (value === undefined) return undefined;
  if (value !== 'security' && value !== 'all') throw new XcpError(`--bump-pins: expected security or all, found "${printable(value)}"`, 'usage');
  return value;
}

/**
 * The pins against today's archives: each with a newer version (or gone) becomes a
 * "pinned, update available" line of the changes; with --bump-pins the build takes the
 * proposed versions (the recipe as built, in release.json, records them).
 */
async function checkPins(run: NightlyRun, ctx: OwnedContext, policy: PinPolicy | undefined): Promise<PinNotice[]> {
  if (run.session.opts().offline || !familyOf(run.loaded.recipe).resolver.pinUpdates) {
    run.say(`pins not checked (${run.session.opts().offline ? '--offline' : `the ${run.loaded.recipe.target.family} family lists no pin updates yet`})`);
    return [];
  }
  const reports = await pinReports({ ...ctx, progress: run.say });
  const notices: PinNotice[] = [];
  for (const r of reports.filter((x) => x.newest || !x.present)) {
    const to = policy ? proposedVersion(r, policy) : undefined;
    if (to) ctx.loaded.recipe.packages[r.path[1] as string][r.path[2] as number].version = to;
    const shown = (to && policy === 'security' ? r.security : undefined) ?? r.newest;
    const available = to ?? shown?.version ?? r.available[0] ?? '(none)';
    notices.push({ where: r.where, name: r.name, pinned: r.pinned, available, suite: shown?.suite, cves: shown?.cves ?? [], security: !!r.security, gone: !r.present, moved: !!to });
    run.say(`pin ${r.where} ${r.name} ${r.pinned}: ${to ? `moved to ${to}` : `${available} available`}${shown?.suite ? ` (${shown.suite})` : ''}${shown?.cves.length ? `; CVEs: ${shown.cves.join(', ')}` : ''}`);
  }
  return notices;
}

interface Gate {
  record: ReleaseRecord['bootTest'];
  reports: BootReport[];
}

/** The boot test of the built ISO as the release's gate: a failed row publishes nothing. */
async function bootTestGate(run: NightlyRun, ctx: OwnedContext, settings: GateSettings, skip: boolean): Promise<Gate> {
  const record: ReleaseRecord['bootTest'] = { gate: run.withIso ? 'skipped' : 'no-iso', firmwares: [], rows: [] };
  if (!run.withIso) return { record, reports: [] };
  if (skip) {
    run.say('boot test skipped (--skip-boot-test): release.json records it');
    return { record, reports: [] };
  }
  const { bootTest, formatReport } = await import('../boottest/boot-test');
  const iso = path.join(ctx.outDir, 'iso', isoFileName(ctx.loaded.recipe));
  const workDir = path.join(ctx.outDir, 'boot-test');
  const reports: BootReport[] = [];
  for (const firmware of settings.firmwares) {
    const test = { iso, workDir, firmware, installTimeoutMs: settings.installTimeoutMs, bootTimeoutMs: settings.bootTimeoutMs, reuseInstall: false, progress: run.say, store: await ctx.store() };
    reports.push(await bootTest(ctx.loaded, ctx.lock!, test, run.log));
  }
  const table = formatReport(reports);
  for (const l of table) run.log.line(l);
  if (!run.session.json) process.stderr.write(table.join('\n') + '\n');
  const failed = reports.filter((r) => !r.ok);
  if (failed.length) {
    throw new XcpError(`boot test failed, nothing was published: ${failed.map((r) => `${r.firmware}: ${r.failure}`).join('; ')}`, 'verification', [`serial logs: ${displayPath(workDir)}/<firmware>/`, `log: ${displayPath(run.log.file!)}`]);
  }
  record.gate = 'passed';
  record.firmwares = settings.firmwares;
  record.rows = reports.flatMap((r) => r.checks.map((c) => ({ firmware: r.firmware, check: c.name, ok: c.ok })));
  return { record, reports };
}

/** piuparts (the format's install/upgrade/purge checker) on the recipe's own packages, upgrading from the previous release: a failure publishes nothing. */
async function installCheckGate(run: NightlyRun, ctx: OwnedContext, previousDir: string | undefined, skip: boolean): Promise<GateRecord['installCheck']> {
  const check = familyOf(run.loaded.recipe).format.installCheck;
  if (!check) return { gate: 'no-checker', runs: [] };
  if (skip) {
    run.say('install check skipped (--skip-piuparts): release.json records it');
    return { gate: 'skipped', runs: [] };
  }
  const { ownPackages, installCheckFailure } = await import('./piuparts');
  const recipe = ctx.loaded.recipe;
  const previous = previousDir ? { repo: path.join(previousDir, 'repo'), recipe: (await readRelease(previousDir)).loaded.recipe } : undefined;
  const result = await check({ recipe, current: path.join(ctx.outDir, 'repo'), previous, packages: ownPackages(recipe), workDir: path.join(ctx.outDir, 'piuparts'), key: await ctx.signingKey(), log: run.log, progress: run.say });
  if (!result.ok) throw installCheckFailure(result);
  return { gate: 'passed', runs: result.runs.map((r) => ({ mode: r.mode, ok: r.ok })) };
}

/** The upgrade test from the previous release (N−1) to this build, under the gate's first firmware, when both have an ISO. */
async function upgradeGate(run: NightlyRun, ctx: OwnedContext, settings: GateSettings, previousDir: string | undefined, skip: boolean): Promise<GateRecord['upgradeTest']> {
  if (!run.withIso) return { gate: 'no-iso', rows: [] };
  if (skip || !previousDir) {
    run.say(skip ? 'upgrade test skipped: release.json records it' : 'no previous release to upgrade from');
    return { gate: skip ? 'skipped' : 'no-previous', rows: [] };
  }
  const previous = await readRelease(previousDir);
  if (!previous.iso) return { gate: 'no-previous', rows: [] };
  const { upgradeTest, formatUpgradeReport } = await import('../boottest/upgrade-test');
  const firmware = settings.firmwares[0];
  const to = { loaded: ctx.loaded, lock: ctx.lock!, version: ctx.loaded.recipe.version, repo: path.join(ctx.outDir, 'repo') };
  const workDir = path.join(ctx.outDir, 'upgrade-test');
  const report = await upgradeTest({ fromIso: previous.iso, from: previous, to, workDir, firmware, installTimeoutMs: settings.installTimeoutMs, bootTimeoutMs: settings.bootTimeoutMs, progress: run.say, store: await ctx.store(), key: await ctx.signingKey() }, run.log);
  const table = formatUpgradeReport([report]);
  for (const l of table) run.log.line(l);
  if (!run.session.json) process.stderr.write(table.join('\n') + '\n');
  if (!report.ok) throw new XcpError(`upgrade test from ${previous.record.version} failed, nothing was published: ${report.failure}`, 'verification', [`serial logs: ${displayPath(workDir)}/${firmware}/`]);
  return { gate: 'passed', from: previous.record.version, rows: report.checks.map((c) => ({ firmware, check: c.name, ok: c.ok })) };
}

type GateRecord = ReleaseRecord['bootTest'];

async function changesSince(run: NightlyRun, ctx: OwnedContext, version: string, previousVersion: string | undefined): Promise<Changes> {
  const name = run.loaded.recipe.name;
  const previous = previousVersion ? await readLock(path.join(run.publishRoot, previousVersion, `${name}.lock`)) : undefined;
  const store = await ctx.store();
  run.say(previous ? `comparing with ${previousVersion}` : 'no previous nightly to compare with');
  const format = familyOf(run.loaded.recipe).format;
  return computeChanges(format, run.log, name, version, previous ? { version: previousVersion!, lock: previous } : undefined, ctx.lock!, (p) => store.pathOf(p.sha256));
}

interface Publication {
  version: string;
  changes: Changes;
  gate: Gate;
  key: SigningKey;
  keep: number;
}

/** The release staged, committed (latest moves to it) and the oldest pruned. */
async function publish(run: NightlyRun, ctx: OwnedContext, releases: ReleaseDir, p: Publication): Promise<Published> {
  const staging = await releases.stage(p.version);
  const record = await assembleRelease({ ...ctx, progress: (t) => run.say(t) }, staging, { withIso: run.withIso, changes: p.changes, bootTest: p.gate.record, key: p.key, store: await ctx.store() });
  const dir = await releases.commit(staging, p.version);
  const pruned = await releases.prune(p.keep);
  if (pruned.length) run.say(`removed old releases (keeping ${p.keep}): ${pruned.join(', ')}`);
  return { dir, record, pruned, files: await sizes(dir) };
}

/** A passing nightly goes to its channel; one whose gate was skipped does not. */
async function updateChannel(run: NightlyRun, published: Published, channel: string, key: SigningKey): Promise<Published['channel']> {
  const refusal = gateRefusal(published.record);
  if (refusal) {
    run.say(`channel ${channel} not updated: ${refusal}`);
    return undefined;
  }
  const done = await publishToChannel(published.dir, published.record, { channel, keep: CHANNEL_KEEP, key, log: run.log, progress: run.say });
  return { name: channel, root: path.join(run.publishRoot, 'channels', channel), validUntil: done.state?.validUntil };
}

/** How many publications a nightly's channel retains indexes and packages of. */
const CHANNEL_KEEP = 5;

interface Published {
  channel?: { name: string; root: string; validUntil?: string };
  dir: string;
  record: ReleaseRecord;
  pruned: string[];
  /** Each file of the release and its size. */
  files: Record<string, number>;
}

async function sizes(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    if (e.isFile()) out[e.name] = (await fs.stat(path.join(dir, e.name))).size;
  }
  return out;
}

interface Outcome {
  version: string;
  previousVersion?: string;
  published: Published;
  gate: Gate;
  stages: StageResult[];
  steps: Steps;
  started: number;
}

function report(run: NightlyRun, o: Outcome): void {
  const { record, dir, pruned, files } = o.published;
  const total = (Date.now() - o.started) / 1000;
  const summary = {
    ok: true,
    recipe: run.loaded.recipe.name,
    version: o.version,
    previous: o.previousVersion,
    release: dir,
    latest: path.join(run.publishRoot, 'latest'),
    files,
    changes: record.changes,
    bootTest: { ...o.gate.record, reports: o.gate.reports },
    pruned,
    channel: o.published.channel,
    steps: o.steps.done,
    seconds: { build: o.steps.seconds('prepare the build', 'build'), bootTest: o.steps.seconds('boot test'), publish: o.steps.seconds('compare with the previous release', 'publish'), total },
    stages: o.stages.map((s) => ({ id: s.id, status: s.status })),
  };
  run.log.line(JSON.stringify(summary));
  if (run.session.json) return run.session.emit(summary);
  console.log(`nightly ${summary.recipe} ${o.version}: ${displayPath(dir)} (${total.toFixed(0)}s)`);
  console.log(`  changes since ${o.previousVersion ?? '(none)'}: ${record.changes.added} added, ${record.changes.removed} removed, ${record.changes.changed} changed${record.changes.cves.length ? `; CVEs: ${record.changes.cves.join(', ')}` : ''}`);
  console.log(`  boot test: ${o.gate.record.gate}${o.gate.record.firmwares.length ? ` (${o.gate.record.firmwares.join(', ')})` : ''}; latest → ${o.version}`);
  if (o.published.channel) console.log(`  channel ${o.published.channel.name}: ${displayPath(o.published.channel.root)} (valid until ${o.published.channel.validUntil})`);
  console.log(`log: ${displayPath(run.log.file!)}`);
}
