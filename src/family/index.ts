import { Recipe } from '../recipe/schema';
import { BuildContext } from '../plan/types';
import { Lock } from '../lockfile';
import { resolveDebianLock } from './debian/lock';
import { debFormat } from '../format/deb';

/** A package format: how packages are built and published. Independent of the distribution family. */
export interface PackageFormat {
  id: 'deb';
  /** The module (under src/) that implements this format: its code is an input of the stages it runs. */
  module: string;
  buildMetapackages(ctx: BuildContext, outDir: string): Promise<string[]>;
  publishRepository(ctx: BuildContext, outDir: string, metaDir: string): Promise<void>;
  /** A file whose absence means a published repository is incomplete. */
  repositoryMarker(recipe: Recipe): string;
}

/** A distribution family: where packages come from and how the closure is resolved. */
export interface DistroFamily {
  id: Recipe['target']['family'];
  format: PackageFormat;
  /** The module (under src/) that builds this family's installer environment. */
  installerModule: string;
  resolveLock(ctx: BuildContext, inputs: Record<string, string>): Promise<Lock>;
}

const families: Record<Recipe['target']['family'], DistroFamily> = {
  debian: { id: 'debian', format: debFormat, resolveLock: resolveDebianLock, installerModule: 'family/debian/installer-env' },
};

export function familyOf(recipe: Recipe): DistroFamily {
  return families[recipe.target.family];
}
