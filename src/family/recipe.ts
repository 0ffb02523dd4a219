import { LoadedRecipe, ParsedRecipe, loadRecipeWith, parseRecipeWith } from '../recipe/load';
import { Recipe } from '../recipe/schema';
import { CURRENT_API } from '../recipe/versions';
import { RecipePositions, RecipeIssue } from '../recipe/load';
import { familyOf } from './registry';
import { displayPath } from '../util/paths';

const familyCheck = (recipe: Recipe, at: RecipePositions): RecipeIssue[] => familyOf(recipe).checkRecipe(recipe, at);

/**
 * Loads a recipe file: the shared schema, then its family's own rules. A recipe in an
 * earlier format is read as the current one, with a note on stderr that says so.
 */
export async function loadRecipe(recipeArg: string): Promise<LoadedRecipe> {
  const loaded = await loadRecipeWith(recipeArg, familyCheck);
  if (loaded.migration) {
    const m = loaded.migration;
    process.stderr.write(`xcpbuild: note: ${displayPath(loaded.file)} is written in ${m.from}, read as ${CURRENT_API}; \`xcpbuild migrate ${displayPath(loaded.file)}\` rewrites it (${m.changes.join('; ')})\n`);
  }
  return loaded;
}

/** Parses and checks recipe text (pure: unit-tested without files). */
export function parseRecipe(text: string): ParsedRecipe {
  return parseRecipeWith(text, familyCheck);
}
