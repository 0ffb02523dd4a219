import { Recipe } from '../recipe/schema';

/** A metapackage as every format builds it: the recipe's fields, and exact dependencies. */
export interface MetapackageSpec {
  name: string;
  version: string;
  maintainer: string;
  summary: string;
  description: string;
  /** Exact dependencies, in order: [name, version]. */
  depends: [string, string][];
}

/** The metapackages of a recipe, each depending on its groups' pins and other metapackages with (= version). */
export function metapackageSpecs(recipe: Recipe): MetapackageSpec[] {
  return Object.entries(recipe.metapackages).map(([name, m]) => ({
    name,
    version: m.version,
    maintainer: m.maintainer,
    summary: m.summary,
    description: m.description,
    depends: [
      ...(m.depends ?? []).map((d): [string, string] => [d, recipe.metapackages[d]?.version ?? recipe.sources![d].version]),
      ...m.groups.flatMap((g) => recipe.packages[g].map((p): [string, string] => [p.name, p.version])),
    ],
  }));
}
