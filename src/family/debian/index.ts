import { DistroFamily } from '..';
import { debFormat } from '../../format/deb';
import { resolveDebianLock } from './lock';
import { buildTargetImage } from './image';
import { buildInstallerLayer } from './installer-layer';
import { cleanRootBuilder } from './build-root';
import { withBuildRootArchives } from './build-root-lock';

/**
 * The clean Debian build root (mmdebstrap, from locked .debs), which other families use
 * too: Debian ships rpmbuild, and mock is not in Debian.
 */
export const debianBuildRoot = {
  builder: { module: 'family/debian/build-root', make: cleanRootBuilder },
  /** Adds to a lock the build root resolved from its own archives (buildRoot.archives), if the recipe names them. */
  lockFromArchives: withBuildRootArchives,
};

/** Debian and its derivatives: apt resolves the closure, mmdebstrap makes the target image. */
export const debian: DistroFamily = {
  id: 'debian',
  format: debFormat,
  resolveLock: resolveDebianLock,
  packageBuilder: debianBuildRoot.builder,
  appliance: {
    modules: { image: 'family/debian/image', installer: 'family/debian/installer-layer' },
    buildImage: buildTargetImage,
    buildInstaller: buildInstallerLayer,
  },
};
