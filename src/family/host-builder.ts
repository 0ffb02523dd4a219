import { PackageBuilder } from '../format';
import { BuildLog } from '../util/log';
import { run } from '../util/proc';

/** Runs package build tools on the build host itself, in the fresh work directory. */
export function hostBuilder(log: BuildLog, describe: string): PackageBuilder {
  return {
    describe,
    async run(cmd, args, opts) {
      await run(log, cmd, args, { env: opts.env, purpose: opts.purpose });
    },
    async dispose() {},
  };
}
