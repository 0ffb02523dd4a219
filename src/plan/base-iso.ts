import path from 'node:path';
import { BuildContext } from './types';
import { XcpError } from '../errors';

/** The vendor boot ISO given with --base-iso (families whose appliance is a remastered vendor ISO). */
export function baseIsoPath(ctx: BuildContext): string {
  if (!ctx.options.baseIso) {
    throw new XcpError(`the ${ctx.loaded.recipe.target.family} family's ISO is a vendor boot ISO remastered with the recipe's kickstart: give it with --base-iso <boot.iso>`, 'usage');
  }
  return path.resolve(ctx.options.baseIso);
}
