import { Listr } from 'listr2';
import { BuildContext, PendingInput, StageDecision, StageDefinition, StageId, Inputs, STAGE_IDS } from './types';
import { decide } from './decide';
import { readStamp, writeStamp, damageOf } from './stamp';
import { stagesFor } from '../stages';
import { makeStagingDir, publishDir } from '../util/fsutil';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { XcpError } from '../errors';

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
  /** Why no decision could be made yet (it keys on an upstream output that will change). */
  pending?: string;
}

/** `makes` with the recipe's own name in place of <name> and its metapackages' names in place of <metapackages>. */
export function describeStage(stage: StageDefinition, ctx: BuildContext): string {
  const { recipe } = ctx.loaded;
  return stage.makes.replace(/<name>/g, recipe.name).replace(/<metapackages>/g, Object.keys(recipe.metapackages).join(', '));
}

async function previousOf(stage: StageDefinition, ctx: BuildContext): Promise<{ inputs?: Inputs; damage?: string }> {
  if (stage.custom) return { inputs: await stage.custom.previous(ctx), damage: await stage.custom.damaged(ctx) };
  const stamp = await readStamp(stage.output(ctx));
  if (!stamp) return {};
  return { inputs: stamp.inputs, damage: await damageOf(stage.output(ctx), stamp) };
}

/** Decides one stage now: its current inputs against those of its present output. */
export async function decideStage(stage: StageDefinition, ctx: BuildContext): Promise<StageDecision> {
  const current = await stage.inputs(ctx);
  const prev = await previousOf(stage, ctx);
  return decide(stage.id, current, prev.inputs, prev.damage);
}

/** Works out, without running anything, which stages would run and why. */
export async function planStages(ctx: BuildContext, target: StageId): Promise<PlannedStage[]> {
  const planned: PlannedStage[] = [];
  const willRun = new Set<StageId>();
  for (const stage of stagesFor(target, ctx)) {
    const entry: PlannedStage = { id: stage.id, makes: describeStage(stage, ctx), deps: stage.deps, network: stage.network, output: stage.output(ctx) };
    const changedUpstream = stage.deps.filter((d) => willRun.has(d));
    if (stage.id !== 'lock' && !ctx.lock) {
      entry.pending = 'waits for the lock';
      willRun.add(stage.id);
    } else {
      try {
        const d = await decideStage(stage, ctx);
        entry.decision = d;
        if (!d.upToDate) willRun.add(stage.id);
        else if (changedUpstream.length) {
          entry.pending = `runs if the output of ${changedUpstream.join(' and ')} changes`;
          willRun.add(stage.id);
        }
      } catch (err) {
        if (!(err instanceof PendingInput)) throw err;
        entry.pending = `waits for ${err.upstream}`;
        willRun.add(stage.id);
      }
    }
    planned.push(entry);
  }
  return planned;
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

async function buildInStaging(stage: StageDefinition, ctx: BuildContext, inputs: Inputs): Promise<string> {
  const finalDir = stage.output(ctx);
  const staging = await makeStagingDir(finalDir);
  try {
    await stage.build(ctx, staging);
    await stage.selfCheck?.(ctx, staging);
    await clampTimes(staging, ctx.sourceDateEpoch());
    const stamp = await writeStamp(stage.id, staging, inputs);
    await publishDir(staging, finalDir);
    return stamp.outputDigest;
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    const e = err as NodeJS.ErrnoException;
    if (e && typeof e.code === 'string' && typeof e.syscall === 'string' && !e.path) e.path = staging;
    throw err;
  }
}

/** Runs the stages needed for `target` in order; each builds only if its inputs changed. */
export async function execute(ctx: BuildContext, target: StageId, renderer: RendererChoice): Promise<StageResult[]> {
  const results: StageResult[] = [];
  const tasks = new Listr(
    stagesFor(target, ctx).map((stage) => ({
      title: `${stage.id}: ${describeStage(stage, ctx)}`,
      task: async (_: unknown, task: { title: string; output: string }) => {
        const started = Date.now();
        const d = await decideStage(stage, ctx);
        if (d.upToDate) {
          ctx.log.line(`${stage.id}: up to date (${d.inputHash.slice(0, 12)})`);
          results.push({ id: stage.id, status: 'up-to-date', reasons: [], inputHash: d.inputHash, output: stage.output(ctx), seconds: 0 });
          task.title = `${stage.id}: up to date`;
          return;
        }
        const why = d.reasons.join('; ');
        ctx.log.line(`${stage.id}: building because ${why}`);
        task.title = `${stage.id}: building because ${why}`;
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
        const inputs = await stage.inputs(ctx);
        let outputDigest: string | undefined;
        try {
          if (stage.custom) {
            await stage.custom.run(ctx, inputs);
            outputDigest = await stage.custom.outputDigest(ctx);
          } else outputDigest = await buildInStaging(stage, ctx, inputs);
        } finally {
          clearInterval(heartbeat);
          ctx.progress = () => {};
        }
        const after = stage.custom ? await stage.inputs(ctx) : inputs;
        const { inputHash } = decide(stage.id, after, after);
        const seconds = (Date.now() - started) / 1000;
        results.push({ id: stage.id, status: 'built', reasons: d.reasons, inputHash, outputDigest, output: stage.output(ctx), seconds });
        ctx.log.line(`${stage.id}: built in ${seconds.toFixed(1)}s${outputDigest ? ` (output ${outputDigest.slice(0, 12)})` : ''}`);
        task.title = `${stage.id}: built in ${seconds.toFixed(1)}s (because ${why})`;
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
export async function stagesThatRun(ctx: BuildContext, target: StageId): Promise<StageId[]> {
  const plan = await planStages(ctx, target);
  return plan.filter((p) => p.pending || !p.decision?.upToDate).map((p) => p.id);
}

export function assertKnownTarget(target: string): asserts target is StageId {
  if (!(STAGE_IDS as string[]).includes(target)) {
    throw new XcpError(`--target: expected one of ${STAGE_IDS.join(', ')}; found "${target}"`, 'usage');
  }
}
