import path from 'node:path';
import { Session } from './session';
import { LoadedRecipe } from '../recipe/load';
import { loadRecipe } from '../family/recipe';
import { BuildOptions, StageId } from '../plan/types';
import { createContext } from '../plan/context';
import { execute, planStages, stagesThatRun, RendererChoice, PlannedStage } from '../engine/run';
import { stageGraph } from '../stages/registry';
import { ensureWritableDir, sweepStaging } from '../util/fsutil';
import { FileLock } from '../util/flock';
import { onCleanup } from '../util/signals';
import { XcpError } from '../errors';
import { displayPath } from '../util/paths';
import { toolVersion } from '../version';
import { printable } from '../util/text';

/**
 * Holds the build lock of out/<name> for the rest of the run: one build per output
 * directory at a time. A second build waits, saying for whom.
 */
export async function lockOutput(session: Session, outDir: string): Promise<void> {
  await ensureWritableDir(outDir);
  const lock = await FileLock.acquire(path.join(outDir, '.lock'), `xcpbuild ${process.argv.slice(2).map((a) => printable(a, 100)).join(' ')}`, (holder) => {
    const line = `waiting for another build of ${displayPath(outDir)} to finish (${holder})`;
    session.log?.line(line);
    process.stderr.write(`xcpbuild: ${line}\n`);
  });
  onCleanup(() => lock.release());
  const swept = await sweepStaging(outDir);
  if (swept.length) session.log?.line(`removed ${swept.length} staging director${swept.length === 1 ? 'y' : 'ies'} left by an interrupted build: ${swept.join(', ')}`);
}

export async function runStages(session: Session, recipeArg: string, target: StageId, command: string, extra: Partial<BuildOptions> = {}, dryRun = false): Promise<void> {
  const loaded = await loadRecipe(recipeArg);
  requireStage(loaded, target);
  if (dryRun) return printPlan(session, loaded, target, extra);
  const options = session.buildOptions(extra);
  const outDir = path.join(options.outRoot, loaded.recipe.name);
  const log = await session.openLog(loaded.recipe.name, command);
  log.line(`xcpbuild ${toolVersion}: ${process.argv.slice(2).map((a) => printable(a, 200)).join(' ')}`);
  await lockOutput(session, outDir);
  const ctx = await createContext(loaded, options, log);
  onCleanup(() => ctx.dispose());
  // The signing key is checked before any stage runs, not after fetch and meta did their work.
  if ((await stagesThatRun(ctx, stageGraph, target)).includes('repo')) await ctx.signingKey();
  const renderer = rendererFor(session);
  const started = Date.now();
  try {
    const results = await execute(ctx, stageGraph, target, renderer);
    const seconds = (Date.now() - started) / 1000;
    for (const n of ctx.notes) log.line(`note: ${n}`);
    if (session.json) {
      session.emit({ ok: true, recipe: loaded.recipe.name, target, seconds, stages: results, notes: ctx.notes });
    } else {
      for (const n of ctx.notes) console.log(n);
      const built = results.filter((r) => r.status === 'built').length;
      const output = displayPath(results.find((r) => r.id === target)?.output ?? '');
      console.log(built === 0 ? `${target}: up to date (${seconds.toFixed(2)}s)` : `${target}: ${output} (${seconds.toFixed(1)}s)`);
      console.log(`log: ${displayPath(log.file!)}`);
    }
  } finally {
    await ctx.dispose();
  }
}

/** Progress as the session wants it: none with --json, plain lines when verbose or not on a terminal. */
export function rendererFor(session: Session): RendererChoice {
  return session.json ? 'silent' : session.opts().verbose || !process.stderr.isTTY ? 'simple' : 'default';
}

/** Refuses a target the recipe has no such stage for, saying why (a family without it is a usage error). */
function requireStage(loaded: LoadedRecipe, target: StageId): void {
  const stage = stageGraph.get(target);
  const absent = stageGraph.absence(target, loaded.recipe);
  if (!absent || !(stage.requiredAsTarget || absent.byFamily)) return;
  const message = absent.byFamily ? absent.reason : `recipe ${displayPath(loaded.file)}: ${absent.reason}`;
  throw new XcpError(message, absent.byFamily ? 'usage' : 'invalidInput');
}

export async function printPlan(session: Session, loaded: LoadedRecipe, target: StageId, extra: Partial<BuildOptions> = {}): Promise<void> {
  requireStage(loaded, target);
  const ctx = await createContext(loaded, session.buildOptions(extra), new (await import('../util/log')).BuildLog(undefined, false));
  const planned = await planStages(ctx, stageGraph, target);
  if (session.json) {
    session.emit({ ok: true, recipe: loaded.recipe.name, target, stages: planned });
    return;
  }
  console.log(`plan for ${loaded.recipe.name} → ${target}`);
  for (const s of planned) console.log(formatPlanned(s));
}

function formatPlanned(s: PlannedStage): string {
  const hash = s.decision ? s.decision.inputHash.slice(0, 16) : '(pending)       ';
  const own = s.decision && !s.decision.upToDate ? s.decision.reasons.join('; ') : '';
  const status = own ? `will run: ${own}` : s.pending ? (s.pending.startsWith('runs if') ? `up to date; ${s.pending}` : `will run: ${s.pending}`) : 'up to date';
  return [
    `  ${s.id.padEnd(9)} ${hash}  ${s.network ? 'network' : 'offline'}  after [${s.deps.join(', ')}]`,
    `            makes ${s.makes}`,
    ...(s.inputs ? [`            reads ${s.inputs.join(', ')}`] : []),
    `            → ${displayPath(s.output)}  ${status}`,
  ].join('\n');
}

