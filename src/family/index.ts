import { Recipe } from '../recipe/schema';
import { BuildContext } from '../plan/types';
import { Lock } from '../lock/file';
import { PackageFormat, PackageBuilder } from '../format';
import { XcpError } from '../errors';
import { debian } from './debian';
import { fedora } from './fedora';

/**
 * A distribution family: where packages come from, how the closure is resolved, and
 * how the installer environment is made. Stages reach a family only through this
 * interface; adding a family is adding a folder and a line below.
 */
export interface DistroFamily {
  id: Recipe['target']['family'];
  format: PackageFormat;
  resolveLock(ctx: BuildContext, inputs: Record<string, string>): Promise<Lock>;
  /** Checks fetched files beyond their sha256 (e.g. RPM signatures against the recipe's keys); returns every problem. */
  checkFetched?(ctx: BuildContext, files: { path: string; label: string; archive: string }[]): Promise<string[]>;
  /** Where the recipe's source packages are built (a clean root, or the host), and the module that decides it. */
  packageBuilder: { module: string; make(ctx: BuildContext): Promise<PackageBuilder> };
  /** How the family makes the appliance, if it does. */
  appliance?: Appliance;
}

export interface Appliance {
  /** Modules (under src/) whose code is an input of the stages that run them. */
  modules: { image: string; installer: string };
  /** Builds the installed system as an image (and its signed checksum) into `outDir`, from the published repository. */
  buildImage(ctx: BuildContext, outDir: string, repoDir: string): Promise<void>;
  /** Builds the installer environment (boot files and its layer over the image) into `outDir`. */
  buildInstaller(ctx: BuildContext, outDir: string, imageDir: string): Promise<void>;
}

const families: Record<Recipe['target']['family'], DistroFamily> = { debian, fedora };

export function familyOf(recipe: Recipe): DistroFamily {
  return families[recipe.target.family];
}

export function applianceOf(recipe: Recipe): Appliance {
  const appliance = familyOf(recipe).appliance;
  if (!appliance) throw new XcpError(`the ${recipe.target.family} family makes packages and a repository only; the appliance image is made for debian recipes`, 'usage');
  return appliance;
}
