import { Listr } from 'listr2';
import { BuildContext, StageDecision, StageId } from './types';
import { decide } from './decide';
import { stagesFor } from '../stages';

export interface StageResult {
  id: StageId;
  status: 'up-to-date' | 'built';
  reasons: string[];
  inputHash: string;
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
  /** Why no decision could be made yet (e.g. it depends on a lock that must be made first). */
  pending?: string;
}

/** Works out, without running anything, which stages would run and why. */
export async function planStages(ctx: BuildContext, target: StageId): Promise<PlannedStage[]> {
  const planned: PlannedStage[] = [];
  let blocked: string | undefined;
  for (const stage of stagesFor(target)) {
    const entry: PlannedStage = { id: stage.id, makes: stage.makes, deps: stage.deps, network: stage.network, output: stage.output(ctx) };
    if (blocked || (stage.id !== 'lock' && !ctx.lock)) {
      entry.pending = blocked ?? 'waits for the lock';
    } else {
      const current = await stage.inputs(ctx);
      const d = decide(stage.id, current, await stage.previous(ctx), await stage.damaged?.(ctx));
      entry.decision = d;
      if (stage.id === 'lock' && !d.upToDate) blocked = 'input hash known once the lock is made';
    }
    planned.push(entry);
  }
  return planned;
}

/** Progress lines are throttled so logs of non-interactive runs stay readable. */
const progressIntervalMs = process.stdout.isTTY ? 200 : 2000;

export type RendererChoice = 'default' | 'simple' | 'silent';

/** Runs the stages needed for `target` in order; each builds only if its inputs changed. */
export async function execute(ctx: BuildContext, target: StageId, renderer: RendererChoice): Promise<StageResult[]> {
  const results: StageResult[] = [];
  const tasks = new Listr(
    stagesFor(target).map((stage) => ({
      title: `${stage.id}: ${stage.makes}`,
      task: async (_: unknown, task: { title: string; output: string; skip: (m?: string) => void }) => {
        const started = Date.now();
        const d = decide(stage.id, await stage.inputs(ctx), await stage.previous(ctx), await stage.damaged?.(ctx));
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
        ctx.progress = (text) => {
          const now = Date.now();
          if (now - last < progressIntervalMs) return;
          last = now;
          task.output = text;
        };
        await stage.build(ctx);
        ctx.progress = () => {};
        const after = await stage.inputs(ctx);
        const { inputHash } = decide(stage.id, after, after);
        const seconds = (Date.now() - started) / 1000;
        results.push({ id: stage.id, status: 'built', reasons: d.reasons, inputHash, output: stage.output(ctx), seconds });
        ctx.log.line(`${stage.id}: built in ${seconds.toFixed(1)}s`);
        task.title = `${stage.id}: built in ${seconds.toFixed(1)}s (because ${why})`;
      },
    })),
    {
      concurrent: false,
      exitOnError: true,
      renderer,
      fallbackRenderer: renderer === 'silent' ? 'silent' : 'simple',
      rendererOptions: { collapseErrors: false, showErrorMessage: false },
    } as never,
  );
  await tasks.run();
  return results;
}
