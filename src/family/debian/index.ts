import { debianPinUpdates } from './pins';
import { DistroFamily } from '../types';
import { debFormat } from '../../format/deb';
import { resolveDebianLock } from './lock';
import { buildTargetImage } from './image';
import { buildInstallerLayer } from './installer-layer';
import { debianRecipeIssues } from './recipe';
import { cleanBuildRoot } from '../../build-root';
import { buildIso } from '../../iso/build-iso';

/** Debian and its derivatives: apt resolves the closure, mmdebstrap makes the target image, the installer is a layer over it. */
export const debian: DistroFamily = {
  id: 'debian',
  format: debFormat,
  resolver: {
    module: 'family/debian/lock',
    describe: "apt (each InRelease verified against the recipe's keyrings)",
    resolveLock: resolveDebianLock,
    pinUpdates: debianPinUpdates,
  },
  builder: cleanBuildRoot,
  appliance: {
    kind: 'image',
    image: {
      module: 'family/debian/image',
      templates: ['templates/image'],
      recipe: ['base', 'metapackages', 'packages', 'sources', 'name', 'target', 'repository'],
      files: ['signing key'],
      build: buildTargetImage,
    },
    installer: {
      module: 'family/debian/installer-layer',
      templates: ['templates/installer'],
      recipe: ['installer', 'iso', 'name', 'version', 'repository', 'target'],
      build: buildInstallerLayer,
    },
    iso: {
      module: 'iso/build-iso',
      templates: ['isolinux', 'templates/grub', 'preseed'],
      recipe: ['iso', 'name', 'version', 'target'],
      build: (ctx, staging, run) =>
        buildIso(ctx, staging, { repoDir: run.upstreamDir('repo'), imageDir: run.upstreamDir('image'), installerDir: run.upstreamDir('installer'), templates: run.templates }),
    },
  },
  omits: {},
  checkRecipe: debianRecipeIssues,
};
