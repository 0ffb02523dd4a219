import { LoadedRecipe } from '../recipe/load';
import { Recipe } from '../recipe/schema';
import { Lock } from '../lock/file';
import { BuildLog } from '../util/log';
import { ContentStore } from '../cache/store';
import { TreeCache } from '../cache/trees';
import { SigningKey, KeySource } from '../signing/gpg';
import { TemplateGrant } from '../util/templates';

/** A stage's id; the stage registry (stages/registry.ts) is the one list of them. */
export type StageId = string;

/** Named digests of everything a stage's output depends on. */
export type Inputs = Record<string, string>;

export interface BuildOptions {
  outRoot: string;
  cacheDir: string;
  /** Never touch the network: fail if the lock is stale or a file is missing from the cache. */
  offline: boolean;
  /** Fail instead of re-resolving when the lock is missing or stale. */
  locked: boolean;
  key: KeySource;
  /** Re-resolve even if the lock is current (lock --update). */
  updateLock: boolean;
  /** Download from these URLs instead of the recipe's archive URIs (archive name → URL); the lock is unchanged. */
  mirrors: Record<string, string>;
  /**
   * Where SOURCE_DATE_EPOCH comes from when the environment does not set it: the
   * lock's resolution time (default), or the newest archive state it was resolved
   * against (nightlies: same archives, same bytes, whatever the clock).
   */
  epochFrom?: 'resolution' | 'archive-state';
  /** A vendor boot ISO to remaster (families whose appliance is a remastered vendor ISO: fedora). */
  baseIso?: string;
}

export interface BuildContext {
  loaded: LoadedRecipe;
  options: BuildOptions;
  /** <outRoot>/<recipe name> */
  outDir: string;
  log: BuildLog;
  /** Set by the lock stage (or read from the committed lock). */
  lock?: Lock;
  store(): Promise<ContentStore>;
  trees(): TreeCache;
  signingKey(): Promise<SigningKey>;
  sourceDateEpoch(): number;
  /** Progress text for the running stage (shown by listr2, and in the log). */
  progress(text: string): void;
  /** Lines for the user after the stage ends (e.g. lock --update's changes). */
  notes: string[];
}

/** A recipe key a stage reads; `onlyWith` leaves it out of the inputs while that other key is empty. */
export type RecipeRead = keyof Recipe | { key: keyof Recipe; onlyWith: keyof Recipe };

/** A closure of the lock a stage reads (`every file`: all of them, and the source tarballs' entries). */
export type LockRead = 'packages' | 'installer' | 'test' | 'build' | 'every file';

/** Files and options a stage reads besides the recipe and the lock (plan/file-inputs.ts digests each). */
export type FileRead = 'signing key' | 'source trees' | 'source tarballs' | 'base ISO' | 'archive keyrings';

/**
 * Code of a family or format that a stage runs, named by role; the recipe's family
 * says which module and templates fill it (family/types.ts).
 */
export type PartRole = 'format.sourcePackage' | 'format.metapackages' | 'format.repository' | 'builder' | 'appliance.image' | 'appliance.installer' | 'appliance.iso';

/**
 * What a stage reads, as data. The engine computes the input digest from this alone,
 * hands the stage the template directories it names and nothing else, and prints
 * each changed read as the reason a stage runs.
 */
export interface Reads {
  recipe?: RecipeRead[];
  /** Upstream stages whose output content the stage reads (a disabled one is left out). */
  upstream?: StageId[];
  lock?: LockRead[];
  /** Family and format parts the stage runs: their templates, code and own reads. */
  parts?: PartRole[];
  files?: FileRead[];
  /** Project directories of templates the stage renders itself, e.g. templates/grub. */
  templates?: string[];
  env?: 'SOURCE_DATE_EPOCH'[];
  /** Modules (under src/) the stage runs besides its parts; their local imports count too. */
  code?: string[];
}

/** Something a family or a format supplies for a stage: the code that runs, and what it reads. */
export interface Part {
  /** The module (under src/) that does it: its code, with what it imports, is an input. */
  module: string;
  /** Project directories of the templates it renders (e.g. templates/rpm). */
  templates?: string[];
  recipe?: RecipeRead[];
  files?: FileRead[];
}

/** What the engine hands a running stage: its inputs, their hash, and the templates it declared. */
export interface StageRun {
  inputs: Inputs;
  inputHash: string;
  templates: TemplateGrant;
  /** The published output directory of an upstream directory stage. */
  upstreamDir(id: StageId): string;
}

/** The flags of a stage's CLI verb beyond --dry-run, and how they become build options. */
export interface VerbOption {
  flags: string;
  description: string;
  apply(value: unknown): Partial<BuildOptions>;
}

interface StageBase {
  id: StageId;
  /** What the stage makes, for --help and plan output (<name> and <metapackages> are filled in). */
  makes: string;
  /** The CLI verb's one-line help. */
  summary: string;
  options?: VerbOption[];
  deps: StageId[];
  network: boolean;
  reads: Reads;
  /** Why the recipe calls for no such stage (e.g. it has no iso: section), if it does not. */
  notCalledFor?(recipe: Recipe): string | undefined;
  /** Whether asking for a stage the recipe does not call for is an error (true) or a no-op. */
  requiredAsTarget?: boolean;
}

/**
 * A stage that makes a directory under out/<name>/<id>. The engine decides from the
 * inputs whether it runs, gives it a staging directory, records a manifest of what
 * it wrote and publishes the result atomically.
 */
export interface DirectoryStage extends StageBase {
  kind: 'directory';
  build(ctx: BuildContext, staging: string, run: StageRun): Promise<void>;
  /** Checks the staged output before it is published; throws if it is not complete and right. */
  selfCheck?(ctx: BuildContext, staging: string): Promise<void>;
  /** Deep verification of the published output beyond the manifest (xcpbuild verify). */
  verify?(ctx: BuildContext, output: string): Promise<string[]>;
}

/** A stage that publishes somewhere else (the recipe's lock, the cache) and keeps its own record. */
export interface PublishingStage extends StageBase {
  kind: 'publishing';
  output(ctx: BuildContext): string;
  /** The inputs of what is published now, if anything is. */
  previous(ctx: BuildContext): Promise<Inputs | undefined>;
  /** Why what is published cannot be used as it is, if so. */
  damaged(ctx: BuildContext): Promise<string | undefined>;
  publish(ctx: BuildContext, run: StageRun): Promise<void>;
  /** The digest downstream stages key on. */
  outputDigest(ctx: BuildContext): Promise<string | undefined>;
}

export type StageDefinition = DirectoryStage | PublishingStage;

export interface StageDecision {
  id: StageId;
  inputHash: string;
  upToDate: boolean;
  reasons: string[];
}

/** Thrown while reading inputs when an upstream output a stage keys on does not exist yet. */
export class PendingInput extends Error {
  constructor(readonly upstream: StageId) {
    super(`waits for ${upstream}`);
  }
}
