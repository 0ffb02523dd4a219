import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BuildContext } from '../plan/types';
import { Lock } from '../lock/file';
import { XcpError } from '../errors';
import { PackagingDescription } from '../sources/schema';
import { MetapackageSpec, metapackageSpecs } from './metapackages';
import { Recipe } from '../recipe/schema';
import { BuildLog } from '../util/log';
import { MappedLicense } from '../sbom/license';

/** The package files this recipe built (build and meta stages) with extension `ext`, sorted. */
export async function builtPackages(ctx: BuildContext, ext: string): Promise<string[]> {
  const files: string[] = [];
  for (const stage of ['build', 'meta']) {
    const dir = path.join(ctx.outDir, stage);
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    files.push(...names.filter((f) => f.endsWith(ext)).sort().map((f) => path.join(dir, f)));
  }
  return files;
}

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
  /**
   * Builds one source package (a packaging description and its tree) into `outDir`;
   * returns the file. Everything the build tool reads and writes is laid out under
   * `workDir`, and the tool runs through `builder` (a clean root, or the host).
   */
  buildSourcePackage(ctx: BuildContext, desc: PackagingDescription, tree: string, outDir: string, workDir: string, builder: PackageBuilder): Promise<string>;
  /** Builds the recipe's metapackages into `outDir`. */
  buildMetapackages(ctx: BuildContext, outDir: string): Promise<void>;
  /** Lays out, indexes and signs the repository of the locked closure plus the packages built by this recipe (builtPackages). */
  publishRepository(ctx: BuildContext, outDir: string): Promise<void>;
  /** Refuses a staged repository that is not complete: every locked package listed with its sha256, signatures valid. */
  checkRepository(ctx: BuildContext, dir: string): Promise<void>;
  /** Checks a published repository against its own signed indexes; returns every problem. */
  verifyRepository(ctx: BuildContext, dir: string): Promise<string[]>;
  /** The repository's signed top index, relative to its root (what the SBOM names the repository by). */
  repositoryIndex(recipe: Recipe): string;
  /** Every package a published repository lists (from its indexes, not its files). */
  listRepository(recipe: Recipe, dir: string, log: BuildLog): Promise<RepositoryEntry[]>;
  /** The package URL (purl) of a package of `recipe`'s distribution, or of the recipe's own (`ownNamespace`). */
  purl(recipe: Recipe, p: { name: string; version: string; architecture: string }, ownNamespace?: string): string;
  /** The changelog entries of a package file newer than `since`, newest first; undefined if it carries none. */
  changelogSince(log: BuildLog, file: string, name: string, since: string): Promise<ChangelogEntry[] | undefined>;
  /** The license a package file declares, mapped to an SPDX expression; undefined if it declares none readably. */
  declaredLicense(log: BuildLog, file: string, name: string): Promise<DeclaredLicense | undefined>;
}

/** Where package build tools run: the family decides (a clean root made from the lock, or the host). */
export interface PackageBuilder {
  /** What ran and where, for the build notes. */
  describe: string;
  /** Runs `cmd args`; every path it uses is under `workDir`, which is all of the project it sees. */
  run(cmd: string, args: string[], opts: { workDir: string; env: Record<string, string>; purpose: string }): Promise<void>;
  dispose(): Promise<void>;
}

export interface RepositoryEntry {
  name: string;
  version: string;
  architecture: string;
  sha256: string;
  /** The path inside the repository. */
  file: string;
}

export interface ChangelogEntry {
  version: string;
  date?: string;
  distribution?: string;
  text: string;
}

export interface DeclaredLicense extends MappedLicense {
  /** The license as the package names it. */
  declared: string;
}

/** The lock a format publishes from (read or made by the lock stage before any format runs). */
export function lockOf(ctx: BuildContext): Lock {
  if (!ctx.lock) throw new XcpError('no lock; run xcpbuild lock', 'invalidInput');
  return ctx.lock;
}

/** Builds each of the recipe's metapackages with `build`, in a scratch tree under `outDir` removed after. */
export async function buildEachMetapackage(ctx: BuildContext, outDir: string, build: (spec: MetapackageSpec, work: string) => Promise<unknown>): Promise<void> {
  const work = path.join(outDir, '.tree');
  for (const spec of metapackageSpecs(ctx.loaded.recipe)) {
    ctx.progress(`building ${spec.name} ${spec.version}`);
    await build(spec, work);
  }
  await fs.rm(work, { recursive: true, force: true });
}
