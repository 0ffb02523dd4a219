import { Recipe } from '../../recipe/schema';
import { RecipeIssue, RecipePositions } from '../../recipe/load';
import { debianArchiveIssues } from './apt/archives';
import { buildRootIssues } from '../../build-root';

/** A debian recipe's archives are apt archives; so are its build root's. */
export function debianRecipeIssues(recipe: Recipe, pos: RecipePositions): RecipeIssue[] {
  return [...recipe.archives.flatMap((a, i) => debianArchiveIssues(a, ['archives', String(i)], pos)), ...buildRootIssues(recipe, pos)];
}
