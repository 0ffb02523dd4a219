import { Recipe } from '../recipe/schema';
import { Part, PartRole } from '../plan/types';
import { DistroFamily } from './types';
import { PackageFormat } from '../format/types';
import { debian } from './debian';
import { fedora } from './fedora';

/** Every family xcpbuild knows: a new family is a folder beside these and a line here. */
export const families: Record<Recipe['target']['family'], DistroFamily> = { debian, fedora };

export function familyOf(recipe: Recipe): DistroFamily {
  return families[recipe.target.family];
}

/** The package format with this id, whichever family uses it. */
export function formatById(id: string): PackageFormat | undefined {
  return Object.values(families).find((f) => f.format.id === id)?.format;
}

/** The part of the recipe's family that fills a role a stage names in its reads, if the family has one. */
export function partOf(recipe: Recipe, role: PartRole): Part | undefined {
  const family = familyOf(recipe);
  const appliance = family.appliance;
  switch (role) {
    case 'format.sourcePackage':
      return family.format.sourcePackage;
    case 'format.metapackages':
      return family.format.metapackages;
    case 'format.repository':
      return family.format.repository;
    case 'builder':
      return family.builder;
    case 'appliance.image':
      return appliance.kind === 'image' ? appliance.image : undefined;
    case 'appliance.installer':
      return appliance.kind === 'image' ? appliance.installer : undefined;
    case 'appliance.iso':
      return appliance.iso;
  }
}
