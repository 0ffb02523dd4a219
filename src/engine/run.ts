import { Listr } from 'listr2';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BuildContext, PendingInput, StageDecision, StageDefinition, StageId, Inputs, StageRun, DirectoryStage, PublishingStage } from '../plan/types';
import { StageGraph } from './graph';
import { inputsOf, resolveReads } from './reads';
import { decide, inputHash } from '../plan/decide';
import { readStamp, writeStamp, damageOf } from '../plan/stamp';
import { makeStagingDir, publishDir } from '../util/fsutil';
import { TemplateGrant } from '../util/templates';

export interface StageResult {
  id: StageId;
  status: 'up-to-date' | 'built';
  reasons: string[];
  inputHash: string;
  outputDigest?: string;
  output: string;
  seconds: number;
}

export interface PlannedStage {
  id: StageId;
  makes: string;
  deps: StageId[];
  network: boolean;
  output: string;
  decision?: StageDecision;
  /** The names of the inputs it was decided on (recipe keys, template directories, upstream stages, …). */
  inputs?: string[];
  /** Why no decision could be made yet (it keys on an upstream output that will change). */
  pending?: string;
}

/** `makes` with the recipe's own name in place of <name> and its metapackages' names in place of <metapackages>. */
export function describeStage(stage: StageDefinition, ctx: BuildContext): string {
  const { recipe } = ctx.loaded;
  return stage.makes.replace(/<name>/g, recipe.name).replace(/<metapackages>/g, Object.keys(recipe.metapackages).join(', '));
}

async function previousOf(stage: StageDefinition, ctx: BuildContext, graph: StageGraph): Promise<{ inputs?: Inputs; damage?: string }> {
  if (stage.kind === 'publishing') return { inputs: await stage.previous(ctx), damage: await stage.damaged(ctx) };
  const output = graph.outputOf(stage, ctx);
  const stamp = await readStamp(output);
  if (!stamp) return {};
  return { inputs: stamp.inputs, damage: await damageOf(output, stamp) };
}

/** Decides one stage now: its current inputs against those of its present output. */
export async function decideStage(stage: StageDefinition, ctx: BuildContext, graph: StageGraph): Promise<{ decision: StageDecision; inputs: Inputs }> {
  const inputs = await inputsOf(stage, ctx, graph);
  const prev = await previousOf(stage, ctx, graph);
  return { decision: decide(stage.id, inputs, prev.inputs, prev.damage), inputs };
}

/** Works out, without running anything, which stages would run and why. */
export async function planStages(ctx: BuildContext, graph: StageGraph, target: StageId): Promise<PlannedStage[]> {
  const planned: PlannedStage[] = [];
  const willRun = new Set<StageId>();
  for (const stage of graph.closure(target, ctx.loaded.recipe)) {
    const entry: PlannedStage = { id: stage.id, makes: describeStage(stage, ctx), deps: stage.deps, network: stage.network, output: graph.outputOf(stage, ctx) };
    const status = await planOne(stage, ctx, graph, willRun);
    Object.assign(entry, status);
    if (status.pending || !status.decision?.upToDate) willRun.add(stage.id);
    planned.push(entry);
  }
  return planned;
}

async function planOne(stage: StageDefinition, ctx: BuildContext, graph: StageGraph, willRun: Set<StageId>): Promise<Pick<PlannedStage, 'decision' | 'pending' | 'inputs'>> {
  if (stage.kind === 'directory' && !ctx.lock) return { pending: 'waits for the lock' };
  if (stage.kind === 'publishing' && stage.reads.lock?.length && !ctx.lock) return { pending: 'waits for the lock' };
  try {
    const { decision, inputs } = await decideStage(stage, ctx, graph);
    const names = Object.keys(inputs).sort();
    const changedUpstream = stage.deps.filter((d) => willRun.has(d));
    if (decision.upToDate && changedUpstream.length) return { decision, inputs: names, pending: `runs if the output of ${changedUpstream.join(' and ')} changes` };
    return { decision, inputs: names };
  } catch (err) {
    if (!(err instanceof PendingInput)) throw err;
    return { pending: `waits for ${err.upstream}` };
  }
}

/** Progress lines are throttled so logs of non-interactive runs stay readable. */
const progressIntervalMs = process.stdout.isTTY ? 200 : 2000;

export type RendererChoice = 'default' | 'simple' | 'silent';

/** Every output's file times are SOURCE_DATE_EPOCH: outputs do not depend on when they were built. */
async function clampTimes(dir: string, epoch: number): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await clampTimes(full, epoch);
    await fs.lutimes(full, epoch, epoch);
  }
  await fs.lutimes(dir, epoch, epoch);
}

function stageRun(stage: StageDefinition, ctx: BuildContext, graph: StageGraph, inputs: Inputs): StageRun {
  return {
    inputs,
    inputHash: inputHash(inputs),
    templates: new TemplateGrant(resolveReads(stage, ctx.loaded.recipe).templates),
    upstreamDir: (id) => graph.outputOf(graph.get(id), ctx),
  };
}

async function buildInStaging(stage: DirectoryStage, ctx: BuildContext, finalDir: string, run: StageRun): Promise<string> {
  const staging = await makeStagingDir(finalDir);
  try {
    await stage.build(ctx, staging, run);
    await stage.selfCheck?.(ctx, staging);
    await clampTimes(staging, ctx.sourceDateEpoch());
    const stamp = await writeStamp(stage.id, staging, run.inputs);
    await publishDir(staging, finalDir);
    return stamp.outputDigest;
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    const e = err as NodeJS.ErrnoException;
    if (e && typeof e.code === 'string' && typeof e.syscall === 'string' && !e.path) e.path = staging;
    throw err;
  }
}

/** Publishes, then the input hash of what is now published (lock's inputs are recorded in the lock it wrote). */
async function publishStage(stage: PublishingStage, ctx: BuildContext, graph: StageGraph, run: StageRun): Promise<{ outputDigest?: string; inputHash: string }> {
  await stage.publish(ctx, run);
  const after = await inputsOf(stage, ctx, graph);
  return { outputDigest: await stage.outputDigest(ctx), inputHash: inputHash(after) };
}

interface TaskView {
  title: string;
  output: string;
}

/** ctx.progress for a running stage: logged when it changes, shown throttled, with a heartbeat while a step is silent. */
function watchProgress(stage: StageDefinition, ctx: BuildContext, task: TaskView, started: number): () => void {
  let last = 0;
  let lastLogged = 0;
  let lastText = 'starting';
  ctx.progress = (text) => {
    const now = Date.now();
    if (text !== lastText) {
      ctx.log.line(`${stage.id}: ${text}`);
      lastLogged = now;
    }
    lastText = text;
    if (now - last < progressIntervalMs) return;
    last = now;
    task.output = text;
  };
  // A long step that says nothing still shows it is alive, at least every 15 s.
  const heartbeat = setInterval(() => {
    if (Date.now() - lastLogged < 15000) return;
    const line = `${lastText} (${Math.round((Date.now() - started) / 1000)} s)`;
    ctx.log.line(`${stage.id}: ${line}`);
    lastLogged = Date.now();
    task.output = line;
  }, 5000);
  return () => {
    clearInterval(heartbeat);
    ctx.progress = () => {};
  };
}

/** Runs one stage if its inputs changed; returns what happened. */
async function runStage(stage: StageDefinition, ctx: BuildContext, graph: StageGraph, task: TaskView): Promise<StageResult> {
  const started = Date.now();
  const output = graph.outputOf(stage, ctx);
  const { decision: d, inputs } = await decideStage(stage, ctx, graph);
  if (d.upToDate) {
    ctx.log.line(`${stage.id}: up to date (${d.inputHash.slice(0, 12)})`);
    task.title = `${stage.id}: up to date`;
    return { id: stage.id, status: 'up-to-date', reasons: [], inputHash: d.inputHash, output, seconds: 0 };
  }
  const why = d.reasons.join('; ');
  ctx.log.line(`${stage.id}: building because ${why}`);
  task.title = `${stage.id}: building because ${why}`;
  const stop = watchProgress(stage, ctx, task, started);
  const run = stageRun(stage, ctx, graph, inputs);
  let made: { outputDigest?: string; inputHash: string };
  try {
    made = stage.kind === 'publishing' ? await publishStage(stage, ctx, graph, run) : { outputDigest: await buildInStaging(stage, ctx, output, run), inputHash: run.inputHash };
  } finally {
    stop();
  }
  const seconds = (Date.now() - started) / 1000;
  ctx.log.line(`${stage.id}: built in ${seconds.toFixed(1)}s${made.outputDigest ? ` (output ${made.outputDigest.slice(0, 12)})` : ''}`);
  task.title = `${stage.id}: built in ${seconds.toFixed(1)}s (because ${why})`;
  return { id: stage.id, status: 'built', reasons: d.reasons, inputHash: made.inputHash, outputDigest: made.outputDigest, output, seconds };
}

/** Runs the stages needed for `target` in order; each builds only if its inputs changed. */
export async function execute(ctx: BuildContext, graph: StageGraph, target: StageId, renderer: RendererChoice): Promise<StageResult[]> {
  const results: StageResult[] = [];
  const tasks = new Listr(
    graph.closure(target, ctx.loaded.recipe).map((stage) => ({
      title: `${stage.id}: ${describeStage(stage, ctx)}`,
      task: async (_: unknown, task: TaskView) => {
        results.push(await runStage(stage, ctx, graph, task));
      },
    })),
    {
      concurrent: false,
      exitOnError: true,
      // xcpbuild handles SIGINT itself (cleanup, then exit 130); listr2 would exit 127 at once.
      registerSignalListeners: false,
      renderer,
      fallbackRenderer: renderer === 'silent' ? 'silent' : 'simple',
      rendererOptions: { collapseErrors: false, showErrorMessage: false },
    } as never,
  );
  await tasks.run();
  return results;
}

/** Stages of the plan that will (or may) run: used to check the signing key before anything runs. */
export async function stagesThatRun(ctx: BuildContext, graph: StageGraph, target: StageId): Promise<StageId[]> {
  const plan = await planStages(ctx, graph, target);
  return plan.filter((p) => p.pending || !p.decision?.upToDate).map((p) => p.id);
}
