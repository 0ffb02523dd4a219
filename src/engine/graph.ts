import path from 'node:path';
import { BuildContext, StageDefinition, StageId, PendingInput } from '../plan/types';
import { Recipe } from '../recipe/schema';
import { familyOf } from '../family/registry';
import { readStamp } from '../plan/stamp';
import { XcpError } from '../errors';

/** Why a recipe has no such stage: its family has none (a usage error), or the recipe does not call for it. */
export interface Absence {
  reason: string;
  byFamily: boolean;
}

/**
 * The stages of a build, in plan order, as the registry hands them to the engine:
 * dependencies must come first, and every dependency must be one of them.
 */
export class StageGraph {
  private readonly byId = new Map<StageId, StageDefinition>();

  constructor(readonly stages: readonly StageDefinition[]) {
    for (const s of stages) {
      if (this.byId.has(s.id)) throw new Error(`stage ${s.id} is registered twice`);
      const late = s.deps.find((d) => !this.byId.has(d));
      if (late) throw new Error(`stage ${s.id} depends on ${late}, which is not registered before it`);
      this.byId.set(s.id, s);
    }
  }

  get ids(): StageId[] {
    return this.stages.map((s) => s.id);
  }

  get(id: StageId): StageDefinition {
    const s = this.byId.get(id);
    if (!s) throw new XcpError(`no stage "${id}": expected one of ${this.ids.join(', ')}`, 'usage');
    return s;
  }

  /** Why `recipe` has no stage `id`, if it has none. */
  absence(id: StageId, recipe: Recipe): Absence | undefined {
    const byFamily = familyOf(recipe).omits[id];
    if (byFamily) return { reason: `the ${recipe.target.family} family has no ${id} stage: ${byFamily}`, byFamily: true };
    const stage = this.get(id);
    const notCalled = stage.notCalledFor?.(recipe);
    if (notCalled) return { reason: notCalled, byFamily: false };
    // A stage cannot run without a stage it needs that the recipe does not call for (an iso without an installer).
    for (const dep of stage.deps.filter((d) => this.get(d).requiredAsTarget)) {
      const missing = this.absence(dep, recipe);
      if (missing && !missing.byFamily) return { reason: `${missing.reason}, which ${id} needs`, byFamily: false };
    }
    return undefined;
  }

  /** The stages needed to make `target`, dependencies first; with a recipe, without those it has no use for. */
  closure(target: StageId, recipe?: Recipe): StageDefinition[] {
    const wanted = new Set<StageId>();
    const visit = (id: StageId) => {
      if (wanted.has(id)) return;
      wanted.add(id);
      for (const d of this.get(id).deps) visit(d);
    };
    visit(target);
    return this.stages.filter((s) => wanted.has(s.id) && !(recipe && this.absence(s.id, recipe)));
  }

  /** Where a directory stage publishes its output. */
  outputOf(stage: StageDefinition, ctx: BuildContext): string {
    return stage.kind === 'directory' ? path.join(ctx.outDir, stage.id) : stage.output(ctx);
  }

  /** The content digest of an upstream stage's output, as a downstream stage keys on it. */
  async outputDigest(id: StageId, ctx: BuildContext): Promise<string> {
    const stage = this.get(id);
    const digest = stage.kind === 'directory' ? (await readStamp(this.outputOf(stage, ctx)))?.outputDigest : await stage.outputDigest(ctx);
    if (!digest) throw new PendingInput(id);
    return digest;
  }
}
