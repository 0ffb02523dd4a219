import { DistroFamily } from '..';
import { debFormat } from '../../format/deb';
import { resolveDebianLock } from './lock';
import { buildInstallerEnv } from './installer-env';

/** Debian and its derivatives: apt resolves the closure, mmdebstrap makes the roots. */
export const debian: DistroFamily = {
  id: 'debian',
  format: debFormat,
  modules: { installer: 'family/debian/installer-env' },
  resolveLock: resolveDebianLock,
  buildInstaller: buildInstallerEnv,
};
