import { Recipe } from '../recipe/schema';
import { BuildContext } from '../plan/types';
import { Lock } from '../lock/file';
import { PackageFormat } from '../format';
import { debian } from './debian';

/**
 * A distribution family: where packages come from, how the closure is resolved, and
 * how the installer environment is made. Stages reach a family only through this
 * interface; adding a family is adding a folder and a line below.
 */
export interface DistroFamily {
  id: Recipe['target']['family'];
  format: PackageFormat;
  /** Modules (under src/) whose code is an input of the stages that run them. */
  modules: { image: string; installer: string };
  resolveLock(ctx: BuildContext, inputs: Record<string, string>): Promise<Lock>;
  /** Builds the installed system as an image (and its signed checksum) into `outDir`, from the published repository. */
  buildImage(ctx: BuildContext, outDir: string, repoDir: string): Promise<void>;
  /** Builds the installer environment (boot files and its layer over the image) into `outDir`. */
  buildInstaller(ctx: BuildContext, outDir: string, imageDir: string): Promise<void>;
}

const families: Record<Recipe['target']['family'], DistroFamily> = { debian };

export function familyOf(recipe: Recipe): DistroFamily {
  return families[recipe.target.family];
}
