import { DistroFamily } from '..';
import { debFormat } from '../../format/deb';
import { resolveDebianLock } from './lock';
import { buildTargetImage } from './image';
import { buildInstallerLayer } from './installer-layer';

/** Debian and its derivatives: apt resolves the closure, mmdebstrap makes the target image. */
export const debian: DistroFamily = {
  id: 'debian',
  format: debFormat,
  modules: { image: 'family/debian/image', installer: 'family/debian/installer-layer' },
  resolveLock: resolveDebianLock,
  buildImage: buildTargetImage,
  buildInstaller: buildInstallerLayer,
};
