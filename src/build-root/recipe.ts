import { Recipe } from '../recipe/schema';
import { RecipeIssue, RecipePositions } from '../recipe/load';
import { debianArchiveIssues } from '../family/debian/apt/archives';

/** The build root is a Debian root whatever the family: its own archives are debian archives. */
export function buildRootIssues(recipe: Recipe, pos: RecipePositions): RecipeIssue[] {
  return (recipe.buildRoot?.archives ?? []).flatMap((a, i) => debianArchiveIssues(a, ['buildRoot', 'archives', String(i)], pos));
}
