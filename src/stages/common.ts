import { BuildContext } from '../plan/types';
import { Lock } from '../lock/file';
import { XcpError } from '../errors';

export function requireLock(ctx: BuildContext): Lock {
  if (!ctx.lock) throw new XcpError(`no lock for ${ctx.loaded.recipe.name}; run xcpbuild lock`, 'invalidInput');
  return ctx.lock;
}
