import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Inputs, StageId } from './types';
import { makeStagingDir, publishDir, removeStaleStaging } from '../util/fsutil';
import { inputHash } from './decide';

export const STAMP = '.xcpbuild-stage.json';

interface Stamp {
  stage: StageId;
  inputHash: string;
  inputs: Inputs;
}

export async function readStamp(dir: string): Promise<Inputs | undefined> {
  try {
    return (JSON.parse(await fs.readFile(path.join(dir, STAMP), 'utf8')) as Stamp).inputs;
  } catch {
    return undefined;
  }
}

/**
 * Runs `make` in a staging directory and puts the result in place of `finalDir`
 * only when it succeeded, stamped with the inputs it was made from. A failed or
 * interrupted build leaves the previous output untouched.
 */
export async function buildDir(stage: StageId, finalDir: string, inputs: Inputs, make: (staging: string) => Promise<void>): Promise<void> {
  await removeStaleStaging(finalDir);
  const staging = await makeStagingDir(finalDir);
  try {
    await make(staging);
    const stamp: Stamp = { stage, inputHash: inputHash(inputs), inputs };
    await fs.writeFile(path.join(staging, STAMP), JSON.stringify(stamp, null, 2) + '\n');
    await publishDir(staging, finalDir);
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    throw err;
  }
}
