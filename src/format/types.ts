import { BuildContext, Part } from '../plan/types';
import { LoadedDescription } from '../sources/load';
import { Recipe } from '../recipe/schema';
import { BuildLog } from '../util/log';
import { TemplateGrant } from '../util/templates';
import { MappedLicense } from '../license/spdx-map';
import { ChannelJob, ChannelRefreshJob, ChannelIndexState } from './channel-files';
import { SigningKey } from '../signing/gpg';

/**
 * A package format: how packages are built and published (deb: dpkg-deb and an apt
 * repository; rpm: rpmbuild and a yum repository). Independent of the distribution family, which decides where packages
 * come from and how a closure is resolved.
 */
export interface PackageFormat {
  id: 'deb' | 'rpm';
  /** What this format calls the source a binary package is built from (an SBOM's sourceInfo). */
  sourceKind: string;
  compareVersions(a: string, b: string): number;
  sourcePackage: SourcePackagePart;
  metapackages: Part & {
    /** Builds the recipe's metapackages into `outDir`. */
    build(ctx: BuildContext, outDir: string, templates: TemplateGrant): Promise<void>;
  };
  repository: RepositoryPart;
  channel: ChannelPart;
  /** The distribution's install/upgrade/purge checker on the recipe's own packages (deb: piuparts), where the format has one. */
  installCheck?(job: InstallCheckJob): Promise<InstallCheckResult>;
  /** The package URL (purl) of a package of `recipe`'s distribution, or of the recipe's own (`ownNamespace`). */
  purl(recipe: Recipe, p: { name: string; version: string; architecture: string }, ownNamespace?: string): string;
  /** The changelog entries of a package file newer than `since`, newest first; undefined if it carries none. */
  changelogSince(log: BuildLog, file: string, name: string, since: string): Promise<ChangelogEntry[] | undefined>;
  /** The license a package file declares, mapped to an SPDX expression; undefined if it declares none readably. */
  declaredLicense(log: BuildLog, file: string, name: string): Promise<DeclaredLicense | undefined>;
}

export interface SourcePackagePart extends Part {
  /** The tool that makes the package, for the build notes (dpkg-deb, rpmbuild). */
  tool: string;
  /**
   * Builds one source package (a packaging description and its tree) into `outDir`;
   * returns the file. Everything the build tool reads and writes is laid out under
   * `workDir`, and the tool runs through `builder` (a clean root).
   */
  build(ctx: BuildContext, job: SourcePackageJob, builder: PackageBuilder, templates: TemplateGrant): Promise<string>;
}

export interface SourcePackageJob {
  desc: LoadedDescription;
  tree: string;
  outDir: string;
  workDir: string;
}

export interface RepositoryPart extends Part {
  /** Lays out, indexes and signs the repository of the locked closure plus the packages built by this recipe. */
  publish(ctx: BuildContext, outDir: string, templates: TemplateGrant): Promise<void>;
  /** Refuses a staged repository that is not complete: every locked package listed with its sha256, signatures valid. */
  check(ctx: BuildContext, dir: string): Promise<void>;
  /** Checks a published repository against its own signed indexes; returns every problem. */
  verify(ctx: BuildContext, dir: string): Promise<string[]>;
  /** The repository's signed top index, relative to its root (what the SBOM names the repository by). */
  index(recipe: Recipe): string;
  /** Every package a published repository lists (from its indexes, not its files). */
  list(recipe: Recipe, dir: string, log: BuildLog): Promise<RepositoryEntry[]>;
}

export interface InstallCheckJob {
  recipe: Recipe;
  /** This release's repository. */
  current: string;
  /** The previous release's repository (and its recipe), for the upgrade run. */
  previous?: { repo: string; recipe: Recipe };
  /** The packages to check: the recipe's metapackages and source packages. */
  packages: string[];
  workDir: string;
  key: SigningKey;
  log: BuildLog;
  progress(text: string): void;
}

export interface InstallCheckRun {
  mode: 'install-purge' | 'upgrade';
  ok: boolean;
  seconds: number;
  log: string;
  failure?: string;
}

export interface InstallCheckResult {
  tool: string;
  ok: boolean;
  runs: InstallCheckRun[];
}

/** Update channels: a moving, signed repository a host follows, fed from published releases. */
export interface ChannelPart {
  /** Publishes a release's repository to the channel, atomically for a following client; returns the files (relative to the root) it needs. */
  publish(job: ChannelJob): Promise<string[]>;
  /** Re-signs the channel's top index with a new date and expiry, changing nothing else; absent where the format has no expiry (dnf). */
  refresh?(job: ChannelRefreshJob): Promise<void>;
  /** The channel's signed top index's date and expiry, or undefined if nothing was published. */
  state(root: string, channel: string): Promise<ChannelIndexState | undefined>;
  /** What a client cannot be protected from with this format, for the command's output. */
  limits?: string;
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

