import { Recipe } from '../../recipe/schema';
import { RecipeIssue, RecipePositions } from '../../recipe/load';
import { buildRootIssues } from '../../build-root';

/** What dnf, rpmbuild and Anaconda need of a fedora recipe beyond the shared schema. */
export function fedoraRecipeIssues(recipe: Recipe, pos: RecipePositions): RecipeIssue[] {
  const issues: RecipeIssue[] = [];
  recipe.archives.forEach((a, i) => {
    for (const key of ['suites', 'components'] as const) {
      if (a[key]) issues.push(pos.issueAt(['archives', String(i), key], `a fedora archive is one yum repository at uri (the directory holding repodata/); ${key}: is for debian archives`));
    }
  });
  issues.push(...buildRootIssues(recipe, pos));
  if (Object.keys(recipe.sources ?? {}).length) {
    if (!recipe.buildRoot?.archives?.length) {
      issues.push(pos.issueAt(recipe.buildRoot ? ['buildRoot'] : ['sources'], "expected buildRoot: with archives: (a Debian archive) and packages: [rpm]: a fedora recipe's sources are built by rpmbuild in a clean Debian root"));
    } else if (!recipe.buildRoot.packages.includes('rpm')) {
      issues.push(pos.issueAt(['buildRoot', 'packages'], 'expected rpm among the build root packages: rpmbuild runs in the build root'));
    }
  }
  if (!/^[0-9]+$/.test(recipe.target.release)) issues.push(pos.issueAt(['target', 'release'], `expected a Fedora release number (e.g. 43), found "${recipe.target.release}"`));
  if (recipe.base.priorities.length) issues.push(pos.issueAt(['base', 'priorities'], 'expected [] for the fedora family: dnf resolves the closure of the pins into an empty installroot; Debian priorities do not apply'));
  for (const key of ['installer', 'bootTest'] as const) {
    if (recipe[key]) issues.push(pos.issueAt([key], `the fedora family installs with Anaconda and a kickstart (iso:); ${key}: is for debian recipes`));
  }
  return issues;
}
