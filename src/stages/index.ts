import { BuildContext, StageDefinition, StageId } from '../plan/types';
import { lockStage } from './lock';
import { fetchStage } from './fetch';
import { buildStage } from './build';
import { metaStage } from './meta';
import { repoStage } from './repo';
import { imageStage } from './image';
import { installerStage } from './installer';
import { isoStage } from './iso';

export const stages: Partial<Record<StageId, StageDefinition>> = {
  lock: lockStage,
  fetch: fetchStage,
  build: buildStage,
  meta: metaStage,
  repo: repoStage,
  image: imageStage,
  installer: installerStage,
  iso: isoStage,
};

export function stageById(id: StageId): StageDefinition {
  const s = stages[id];
  if (!s) throw new Error(`no stage ${id}`);
  return s;
}

/** The stages needed to make `target`, dependencies first (leaving out those the recipe does not call for). */
export function stagesFor(target: StageId, ctx?: BuildContext): StageDefinition[] {
  const order: StageDefinition[] = [];
  const visit = (id: StageId) => {
    if (order.some((s) => s.id === id)) return;
    const s = stageById(id);
    for (const d of s.deps) visit(d);
    order.push(s);
  };
  visit(target);
  return ctx ? order.filter((s) => s.enabled(ctx)) : order;
}
