import { BuildContext } from '../plan/types';
import { Lock } from '../lock/file';
import { XcpError } from '../errors';

/**
 * A package format: how packages are built and published (deb: dpkg-deb and an apt
 * repository; rpm: rpmbuild and a yum repository). Independent of the distribution family, which decides where packages
 * come from and how a closure is resolved.
 */
export interface PackageFormat {
  id: 'deb' | 'rpm';
  /** The module (under src/) that implements this format: its code is an input of the stages it runs. */
  module: string;
  compareVersions(a: string, b: string): number;
  /** Builds the recipe's metapackages into `outDir`. */
  buildMetapackages(ctx: BuildContext, outDir: string): Promise<void>;
  /** Lays out, indexes and signs the repository of the locked closure plus the built packages in `metaDir`. */
  publishRepository(ctx: BuildContext, outDir: string, metaDir: string): Promise<void>;
  /** Refuses a staged repository that is not complete: every locked package listed with its sha256, signatures valid. */
  checkRepository(ctx: BuildContext, dir: string): Promise<void>;
  /** Checks a published repository against its own signed indexes; returns every problem. */
  verifyRepository(ctx: BuildContext, dir: string): Promise<string[]>;
}

/** The lock a format publishes from (read or made by the lock stage before any format runs). */
export function lockOf(ctx: BuildContext): Lock {
  if (!ctx.lock) throw new XcpError('no lock; run xcpbuild lock', 'invalidInput');
  return ctx.lock;
}
