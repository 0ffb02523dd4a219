import { LoadedRecipe } from '../recipe/load';
import { Lock } from '../lockfile';
import { BuildLog } from '../util/log';
import { ContentStore } from '../cache/store';
import { SigningKey } from '../signing/gpg';

export type StageId = 'lock' | 'fetch' | 'meta' | 'repo' | 'installer' | 'iso';

/** Named digests of everything a stage's output depends on. */
export type Inputs = Record<string, string>;

export interface BuildOptions {
  outRoot: string;
  cacheDir: string;
  /** Never touch the network: fail if the lock is stale or a file is missing from the cache. */
  offline: boolean;
  /** Fail instead of re-resolving when the lock is missing or stale. */
  locked: boolean;
  signingKey?: string;
  /** Re-resolve even if the lock is current (lock --update). */
  updateLock: boolean;
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
  signingKey(): Promise<SigningKey>;
  sourceDateEpoch(): number;
  /** Progress text for the running stage (shown by listr2). */
  progress(text: string): void;
  /** Lines for the user after the stage ends (e.g. lock --update's changes). */
  notes: string[];
}

export interface StageDefinition {
  id: StageId;
  /** What the stage makes, for --help and plan output. */
  makes: string;
  deps: StageId[];
  network: boolean;
  /** The stage's output directory, or file for the lock. */
  output(ctx: BuildContext): string;
  inputs(ctx: BuildContext): Promise<Inputs>;
  /** The inputs the present output was made from, or undefined if there is none. */
  previous(ctx: BuildContext): Promise<Inputs | undefined>;
  /** A reason the present output cannot be trusted even though its inputs match, if any. */
  damaged?(ctx: BuildContext): Promise<string | undefined>;
  build(ctx: BuildContext): Promise<void>;
}

export interface StageDecision {
  id: StageId;
  inputHash: string;
  upToDate: boolean;
  reasons: string[];
}
