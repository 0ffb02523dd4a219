import { Recipe } from '../recipe/schema';
import { RecipeIssue, RecipePositions } from '../recipe/load';
import { BuildContext, Part, StageId, StageRun, Inputs } from '../plan/types';
import { Lock } from '../lock/file';
import { PackageFormat, PackageBuilder } from '../format/types';
import { TemplateGrant } from '../util/templates';

/** How a family resolves a recipe into its lock (apt for debian, dnf for fedora). */
export interface Resolver extends Part {
  /** For help and messages: "apt (InRelease verified against the recipe's keyrings)". */
  describe: string;
  resolveLock(ctx: BuildContext, inputs: Inputs): Promise<Lock>;
  /** Every pin of the recipe with the versions its archives have above it (newest first), and whether the pinned version is still there. */
  pinUpdates?(ctx: BuildContext): Promise<PinStatus[]>;
}

export interface PinStatus {
  group: string;
  index: number;
  name: string;
  pinned: string;
  /** False when the archives no longer have the pinned version: the next lock fails. */
  present: boolean;
  newer: PinCandidate[];
  /** Every version the archives have, newest first. */
  available: string[];
}

/** A version of a pinned package the archives have, and where to download it (checked against the signed index's sha256). */
export interface PinCandidate {
  version: string;
  suite: string;
  url: string;
  sha256: string;
  size: number;
}

/** Where a family's source packages are built (a clean root made from the lock). */
export interface BuilderPart extends Part {
  make(ctx: BuildContext, templates: TemplateGrant): Promise<PackageBuilder>;
}

/** The ISO step of an appliance: what the iso stage runs. */
export interface IsoPart extends Part {
  build(ctx: BuildContext, staging: string, run: StageRun): Promise<string>;
}

/** A family that builds its own appliance: the installed system as an image, an installer over it, an ISO of both. */
export interface ImageAppliance {
  kind: 'image';
  image: Part & { build(ctx: BuildContext, outDir: string, repoDir: string, templates: TemplateGrant): Promise<void> };
  installer: Part & { build(ctx: BuildContext, outDir: string, imageDir: string, templates: TemplateGrant): Promise<void> };
  iso: IsoPart;
}

/** A family whose appliance is a vendor's boot ISO remastered with the recipe's answer file and repository. */
export interface RemasterAppliance {
  kind: 'remaster';
  iso: IsoPart;
}

/**
 * A distribution family: where packages come from and how a closure is resolved, how
 * packages are built, which stages it has and how it makes the appliance. Stages reach
 * a family only through this interface; a new family is a new folder and a line in
 * family/registry.ts.
 */
export interface DistroFamily {
  id: Recipe['target']['family'];
  format: PackageFormat;
  resolver: Resolver;
  builder: BuilderPart;
  appliance: ImageAppliance | RemasterAppliance;
  /** Stages the family does not have, each with why (shown when one is asked for). */
  omits: Partial<Record<StageId, string>>;
  /** What the family requires of a recipe beyond the shared schema. */
  checkRecipe(recipe: Recipe, at: RecipePositions): RecipeIssue[];
  /** Checks fetched files beyond their sha256 (e.g. RPM signatures against the recipe's keys); returns every problem. */
  checkFetched?(ctx: BuildContext, files: { path: string; label: string; archive: string }[]): Promise<string[]>;
}
