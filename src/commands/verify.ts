import path from 'node:path';
import { Session } from './session';
import { loadRecipe } from '../family/recipe';
import { createContext } from '../plan/context';
import { allLockedFiles } from '../lock/file';
import { stageGraph } from '../stages/registry';
import { readStamp, verifyOutput } from '../plan/stamp';
import { XcpError } from '../errors';
import { lockOutput } from './build';
import { displayPath } from '../util/paths';
import { exists } from '../util/fsutil';
import { StageId } from '../plan/types';

/**
 * Everything, deeply: every file of the lock in the cache (target, installer and test
 * closures), every cached tree, every published output against the manifest it was
 * published with, the repository against its own signed indexes, the ISO against its
 * .sha256. Damaged cache entries and trees are removed so the next build replaces them.
 */
export async function verifyCommand(session: Session, recipeArg: string): Promise<void> {
  const loaded = await loadRecipe(recipeArg);
  const options = session.buildOptions();
  const log = await session.openLog(loaded.recipe.name, 'verify');
  await lockOutput(session, path.join(options.outRoot, loaded.recipe.name));
  const ctx = await createContext(loaded, options, log);
  if (!ctx.lock) throw new XcpError(`no lock at ${displayPath(loaded.lockFile)}; run xcpbuild lock`, 'invalidInput');
  const store = await ctx.store();
  const problems: string[] = [];
  const files = allLockedFiles(ctx.lock);
  let n = 0;
  for (const p of files) {
    if (!(await store.has(p.sha256, p.size, true))) problems.push(`cache: ${p.name} ${p.version} (${p.sha256.slice(0, 12)}) missing or corrupt${(await exists(store.pathOf(p.sha256))) ? '' : ' (run xcpbuild fetch)'}`);
    if (++n % 50 === 0 && !session.json && process.stderr.isTTY) process.stderr.write(`verify: ${n} of ${files.length} cached files hashed\r`);
  }
  if (!session.json && process.stderr.isTTY) process.stderr.write('\x1b[K');
  const trees = await ctx.trees().verifyAll();
  problems.push(...trees.problems);
  const outputs: { stage: StageId; files: number; ok: boolean }[] = [];
  for (const stage of stageGraph.closure('iso', ctx.loaded.recipe)) {
    if (stage.kind !== 'directory') continue;
    const dir = stageGraph.outputOf(stage, ctx);
    const stamp = await readStamp(dir);
    if (!stamp) continue;
    const found = [...(await verifyOutput(dir, stamp)), ...((await stage.verify?.(ctx, dir)) ?? [])];
    problems.push(...found.map((p) => `${stage.id}: ${p}`));
    outputs.push({ stage: stage.id, files: stamp.files.filter((f) => f.type === 'f').length, ok: found.length === 0 });
  }
  const summary = { lockedFiles: files.length, cacheTrees: trees.checked, outputs };
  if (session.json) session.emit({ ok: problems.length === 0, ...summary, problems });
  if (problems.length) throw new XcpError(`verification failed: ${problems.length} problem(s); damaged cache entries were removed (run the build again)`, 'verification', problems.slice(0, 100));
  if (!session.json) {
    console.log(`cache: all ${files.length} locked files intact; ${trees.checked} cached tree(s) intact`);
    for (const o of outputs) console.log(`${o.stage}: ${o.files} files match what was built`);
  }
}
