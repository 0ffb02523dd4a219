import path from 'node:path';
import { BuildContext, PendingInput, StageId } from '../plan/types';
import { Lock, LockedPackage, allLockedFiles } from '../lock/file';
import { readStamp } from '../plan/stamp';
import { hashValue } from '../util/hash';
import { XcpError } from '../errors';

export function requireLock(ctx: BuildContext): Lock {
  if (!ctx.lock) throw new XcpError(`no lock for ${ctx.loaded.recipe.name}; run xcpbuild lock`, 'invalidInput');
  return ctx.lock;
}

/** The part of a closure later stages depend on: what each file is. */
export function closureDigest(packages: LockedPackage[]): string {
  return hashValue(packages.map((p) => [p.name, p.version, p.architecture, p.sha256, p.filename]));
}

/** Where a directory stage publishes its output. */
export function stageDir(ctx: BuildContext, id: StageId): string {
  return path.join(ctx.outDir, id);
}

/**
 * The content digest of an upstream stage's output, as its stamp recorded it: what a
 * downstream stage keys on. The fetch stage's output is the locked files themselves.
 */
export async function upstream(ctx: BuildContext, id: StageId): Promise<string> {
  if (id === 'fetch') return closureDigest(allLockedFiles(requireLock(ctx)));
  const stamp = await readStamp(stageDir(ctx, id));
  if (!stamp) throw new PendingInput(id);
  return stamp.outputDigest;
}
