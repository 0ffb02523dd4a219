import { DistroFamily } from '..';
import { debFormat } from '../../format/deb';
import { resolveDebianLock } from './lock';
import { buildTargetImage } from './image';
import { buildInstallerLayer } from './installer-layer';
import { cleanRootBuilder } from './build-root';

/** Debian and its derivatives: apt resolves the closure, mmdebstrap makes the target image. */
export const debian: DistroFamily = {
  id: 'debian',
  format: debFormat,
  resolveLock: resolveDebianLock,
  packageBuilder: { module: 'family/debian/build-root', make: cleanRootBuilder },
  appliance: {
    modules: { image: 'family/debian/image', installer: 'family/debian/installer-layer' },
    buildImage: buildTargetImage,
    buildInstaller: buildInstallerLayer,
  },
};
