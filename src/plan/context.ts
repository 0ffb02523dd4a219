import path from 'node:path';
import { BuildContext, BuildOptions } from './types';
import { LoadedRecipe } from '../recipe/load';
import { readLock, archiveStateTime } from '../lock/file';
import { BuildLog } from '../util/log';
import { ContentStore } from '../cache/store';
import { TreeCache } from '../cache/trees';
import { SigningKey } from '../signing/gpg';
import { XcpError } from '../errors';
import { sourceDateEpochFromEnv } from '../util/env';

export interface OwnedContext extends BuildContext {
  dispose(): Promise<void>;
}

export async function createContext(loaded: LoadedRecipe, options: BuildOptions, log: BuildLog): Promise<OwnedContext> {
  let store: ContentStore | undefined;
  let key: Promise<SigningKey> | undefined;
  const envEpoch = sourceDateEpochFromEnv();
  const ctx: OwnedContext = {
    loaded,
    options,
    outDir: path.join(options.outRoot, loaded.recipe.name),
    log,
    lock: await readLock(loaded.lockFile),
    notes: [],
    async store() {
      store ??= await ContentStore.open(options.cacheDir);
      return store;
    },
    trees() {
      return new TreeCache(options.cacheDir);
    },
    signingKey() {
      key ??= SigningKey.load(options.key, log);
      key.catch(() => (key = undefined));
      return key;
    },
    sourceDateEpoch() {
      if (envEpoch !== undefined) return envEpoch;
      if (!ctx.lock) throw new XcpError('no lock to take SOURCE_DATE_EPOCH from; run xcpbuild lock', 'invalidInput');
      const archives = options.epochFrom === 'archive-state' ? archiveStateTime(ctx.lock) : undefined;
      if (archives !== undefined) return archives;
      return Math.floor(Date.parse(ctx.lock.resolvedAt) / 1000);
    },
    progress() {},
    // Runs in finally blocks: a failure here is logged, never thrown over the error the build is ending with.
    async dispose() {
      try {
        if (key) await (await key.catch(() => undefined))?.dispose();
      } catch (err) {
        log.line(`warning: removing the signing key's GnuPG home failed: ${(err as Error).message}`);
      }
    },
  };
  return ctx;
}
