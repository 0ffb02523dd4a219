import { cleanRootBuilder } from './builder';
import { BuilderPart } from '../family/types';

/**
 * The clean build root (mmdebstrap, from locked .debs) that every family builds its
 * source packages in: Debian ships rpmbuild, and mock is not in Debian.
 */
export const cleanBuildRoot: BuilderPart = {
  module: 'build-root/builder',
  templates: ['templates/build-root'],
  recipe: ['buildRoot'],
  make: cleanRootBuilder,
};

export { withBuildRootArchives, buildRootClosure } from './lock';
export { buildRootIssues } from './recipe';
