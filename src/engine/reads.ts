import { BuildContext, Inputs, LockRead, Part, RecipeRead, StageDefinition } from '../plan/types';
import { StageGraph } from './graph';
import { fileInputs } from './file-inputs';
import { partOf } from '../family/registry';
import { Recipe } from '../recipe/schema';
import { Lock, LockedPackage, allLockedFiles } from '../lock/file';
import { hashValue, hashTree } from '../util/hash';
import { projectDir } from '../util/templates';
import { codeDigest } from '../version';
import { XcpError } from '../errors';

/** A stage's reads with its parts filled in from the recipe's family: what the engine hashes. */
export interface ResolvedReads {
  recipe: RecipeRead[];
  templates: string[];
  code: string[];
  files: NonNullable<StageDefinition['reads']['files']>;
}

export function resolveReads(stage: StageDefinition, recipe: Recipe): ResolvedReads {
  const r = stage.reads;
  const parts: Part[] = (r.parts ?? []).map((role) => {
    const part = partOf(recipe, role);
    if (!part) throw new XcpError(`stage ${stage.id} runs ${role}, which the ${recipe.target.family} family does not have`, 'internal');
    return part;
  });
  const union = <T>(lists: (T[] | undefined)[]): T[] => [...new Set(lists.flatMap((l) => l ?? []))];
  return {
    recipe: union([r.recipe, ...parts.map((p) => p.recipe)]),
    templates: union([r.templates, ...parts.map((p) => p.templates)]),
    code: union([r.code, parts.map((p) => p.module)]),
    files: union([r.files, ...parts.map((p) => p.files)]),
  };
}

function recipeInputs(recipe: Recipe, reads: RecipeRead[]): Inputs {
  const inputs: Inputs = {};
  for (const read of reads) {
    const key = typeof read === 'string' ? read : read.key;
    if (typeof read !== 'string' && isEmpty(recipe[read.onlyWith])) continue;
    inputs[`recipe.${key}`] = hashValue(recipe[key] ?? null);
  }
  return inputs;
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'object' && Object.keys(value as object).length === 0);
}

/** The part of a closure later stages depend on: what each file is. */
export function closureDigest(packages: LockedPackage[]): string {
  return hashValue(packages.map((p) => [p.name, p.version, p.architecture, p.sha256, p.filename]));
}

function lockInputs(lock: Lock | undefined, reads: LockRead[]): Inputs {
  if (!reads.length) return {};
  if (!lock) throw new XcpError('no lock; run xcpbuild lock', 'invalidInput');
  const inputs: Inputs = {};
  for (const read of reads) {
    if (read === 'every file') inputs.lock = closureDigest(allLockedFiles(lock));
    else inputs[`lock.${read}`] = closureDigest(lock[read] ?? []);
  }
  return inputs;
}

/**
 * The input digests of a stage, computed from its declared reads alone: recipe keys,
 * closures of the lock, upstream outputs (by content), template directories, files,
 * SOURCE_DATE_EPOCH and the code that runs.
 */
export async function inputsOf(stage: StageDefinition, ctx: BuildContext, graph: StageGraph): Promise<Inputs> {
  const { recipe } = ctx.loaded;
  const reads = resolveReads(stage, recipe);
  const inputs: Inputs = { ...recipeInputs(recipe, reads.recipe), ...lockInputs(ctx.lock, stage.reads.lock ?? []) };
  for (const id of stage.reads.upstream ?? []) {
    if (!graph.absence(id, recipe)) inputs[id] = await graph.outputDigest(id, ctx);
  }
  for (const dir of reads.templates) inputs[dir] = await hashTree(projectDir(dir));
  for (const file of reads.files) {
    const digest = await fileInputs[file](ctx);
    if (digest !== undefined) inputs[file] = digest;
  }
  if (stage.reads.env?.includes('SOURCE_DATE_EPOCH')) inputs.SOURCE_DATE_EPOCH = String(ctx.sourceDateEpoch());
  if (reads.code.length) inputs['xcpbuild code'] = codeDigest(reads.code);
  return inputs;
}
