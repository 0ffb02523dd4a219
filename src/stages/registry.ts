import { StageGraph } from '../engine/graph';
import { lockStage } from './lock';
import { fetchStage } from './fetch';
import { buildStage } from './build';
import { metaStage } from './meta';
import { repoStage } from './repo';
import { imageStage } from './image';
import { installerStage } from './installer';
import { isoStage } from './iso';

/**
 * Every stage, in plan order: the one list of stage ids, the order the engine runs
 * them in, the CLI's verbs and their help. A new stage is a file beside these and a
 * line here.
 */
export const stageGraph = new StageGraph([lockStage, fetchStage, buildStage, metaStage, repoStage, imageStage, installerStage, isoStage]);
