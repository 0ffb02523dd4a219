import path from 'node:path';
import { Session } from './session';
import { loadRecipe } from '../family/recipe';
import { familyOf } from '../family/registry';
import { XcpError } from '../errors';
import { checkedPath } from '../util/env';
import { exists } from '../util/fsutil';
import { displayPath } from '../util/paths';
import { onCleanup } from '../util/signals';
import { SigningKey } from '../signing/gpg';
import { Recipe } from '../recipe/schema';
import { InstallCheckResult } from '../format/types';

/** The recipe's own packages: what piuparts checks (the rest of the closure is Debian's, checked by Debian). */
export function ownPackages(recipe: Recipe): string[] {
  return [...Object.keys(recipe.metapackages), ...Object.keys(recipe.sources ?? {})].sort();
}

/** A previous release directory (its repo/) or a repository directory itself. */
export async function repositoryDir(arg: string, what: string): Promise<string> {
  const dir = checkedPath(arg, what);
  if (await exists(path.join(dir, 'repo', 'dists'))) return path.join(dir, 'repo');
  if (await exists(path.join(dir, 'dists'))) return dir;
  throw new XcpError(`${what} ${arg}: neither a release (with repo/) nor a repository (with dists/)`, 'invalidInput');
}

export function installCheckFailure(result: InstallCheckResult): XcpError {
  const failed = result.runs.filter((r) => !r.ok);
  return new XcpError(`${result.tool} failed: ${failed.map((r) => `${r.mode}: ${r.failure}`).join('; ')}`, 'verification', failed.map((r) => `${result.tool} log: ${displayPath(r.log)}`));
}

/** xcpbuild piuparts <recipe> [--previous <release>]: piuparts on the built repository's own packages. */
export async function piupartsCommand(session: Session, recipeArg: string, opts: { previous?: string }): Promise<void> {
  const loaded = await loadRecipe(recipeArg);
  const { recipe } = loaded;
  const check = familyOf(recipe).format.installCheck;
  if (!check) throw new XcpError(`the ${familyOf(recipe).format.id} format has no install/upgrade/purge checker here (piuparts is Debian's)`, 'usage');
  const out = path.resolve(session.opts().out, recipe.name);
  const current = path.join(out, 'repo');
  if (!(await exists(path.join(current, 'dists')))) throw new XcpError(`no repository at ${displayPath(current)}: run xcpbuild repo ${recipeArg} first`, 'invalidInput');
  const previous = opts.previous ? { repo: await repositoryDir(opts.previous, '--previous'), recipe } : undefined;
  const log = await session.openLog(recipe.name, 'piuparts');
  const say = (t: string) => {
    log.line(t);
    if (!session.json) process.stderr.write(`${t}\n`);
  };
  const key = await SigningKey.load(session.buildOptions().key, log);
  onCleanup(() => key.dispose());
  let result: InstallCheckResult;
  try {
    result = await check({ recipe, current, previous, packages: ownPackages(recipe), workDir: path.join(out, 'piuparts'), key, log, progress: say });
  } finally {
    await key.dispose();
  }
  for (const r of result.runs) log.line(`${result.tool} ${r.mode}: ${r.ok ? 'PASS' : `FAIL (${r.failure})`} in ${r.seconds.toFixed(0)} s; log ${r.log}`);
  if (!result.ok) throw installCheckFailure(result);
  if (session.json) return session.emit({ ...result });
  for (const r of result.runs) console.log(`${result.tool} ${r.mode}: PASS (${r.seconds.toFixed(0)} s) ${displayPath(r.log)}`);
}
