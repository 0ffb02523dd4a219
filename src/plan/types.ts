import { LoadedRecipe } from '../recipe/load';
import { Lock } from '../lock/file';
import { BuildLog } from '../util/log';
import { ContentStore } from '../cache/store';
import { TreeCache } from '../cache/trees';
import { SigningKey, KeySource } from '../signing/gpg';

export type StageId = 'lock' | 'fetch' | 'build' | 'meta' | 'repo' | 'image' | 'installer' | 'iso';
export const STAGE_IDS: StageId[] = ['lock', 'fetch', 'build', 'meta', 'repo', 'image', 'installer', 'iso'];

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
  /** A vendor boot ISO to remaster (families without an appliance image of their own: fedora). */
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

/**
 * One stage: a function of declared inputs to one output directory. The engine
 * decides from the inputs whether it runs, gives it a staging directory, records a
 * manifest of what it wrote and publishes the result atomically.
 */
export interface StageDefinition {
  id: StageId;
  /** What the stage makes, for --help and plan output. */
  makes: string;
  deps: StageId[];
  network: boolean;
  /** False when the recipe does not call for this stage (e.g. no iso: section). */
  enabled(ctx: BuildContext): boolean;
  /** The stage's output directory (the lock file for `lock`). */
  output(ctx: BuildContext): string;
  /**
   * The inputs' digests. Upstream stages enter through the digest of their output's
   * content (`upstream(ctx, id)`), so a rebuilt but identical upstream output changes
   * nothing downstream, and a different one always does.
   */
  inputs(ctx: BuildContext): Promise<Inputs>;
  /** Makes the output in `staging`. */
  build(ctx: BuildContext, staging: string): Promise<void>;
  /** Checks the staged output before it is published; throws if it is not complete and right. */
  selfCheck?(ctx: BuildContext, staging: string): Promise<void>;
  /** Deep verification of the published output beyond the manifest (xcpbuild verify). */
  verify?(ctx: BuildContext, output: string): Promise<string[]>;
  /** Stages that are not a directory build (lock, fetch) run themselves. */
  custom?: {
    previous(ctx: BuildContext): Promise<Inputs | undefined>;
    damaged(ctx: BuildContext): Promise<string | undefined>;
    run(ctx: BuildContext, inputs: Inputs): Promise<void>;
    /** The digest downstream stages key on. */
    outputDigest(ctx: BuildContext): Promise<string | undefined>;
  };
}

export interface StageDecision {
  id: StageId;
  inputHash: string;
  upToDate: boolean;
  reasons: string[];
}

/** Thrown by inputs() when an upstream output it keys on does not exist yet. */
export class PendingInput extends Error {
  constructor(readonly upstream: StageId) {
    super(`waits for ${upstream}`);
  }
}
