import path from 'node:path';
import { BuildContext, BuildOptions } from './types';
import { LoadedRecipe } from '../recipe/load';
import { readLock } from '../lockfile';
import { BuildLog } from '../util/log';
import { ContentStore } from '../cache/store';
import { SigningKey, signingKeySource } from '../signing/gpg';
import { XcpError } from '../errors';

export interface OwnedContext extends BuildContext {
  dispose(): Promise<void>;
}

export async function createContext(loaded: LoadedRecipe, options: BuildOptions, log: BuildLog): Promise<OwnedContext> {
  let store: ContentStore | undefined;
  let key: SigningKey | undefined;
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
    async signingKey() {
      if (!key) {
        const src = signingKeySource(options.signingKey);
        key = await SigningKey.load(src.file, src.origin, log);
      }
      return key;
    },
    sourceDateEpoch() {
      const env = process.env.SOURCE_DATE_EPOCH;
      if (env) {
        if (!/^\d+$/.test(env)) throw new XcpError(`SOURCE_DATE_EPOCH must be a whole number of seconds, found "${env}"`, 'usage');
        return Number(env);
      }
      if (!ctx.lock) throw new XcpError('no lock to take SOURCE_DATE_EPOCH from; run xcpbuild lock', 'invalidInput');
      return Math.floor(Date.parse(ctx.lock.resolvedAt) / 1000);
    },
    progress() {},
    async dispose() {
      await store?.save();
      await key?.dispose();
    },
  };
  return ctx;
}
