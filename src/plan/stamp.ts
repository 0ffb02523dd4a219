import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Inputs, StageId } from './types';
import { ManifestEntry, makeManifest, quickCheck, deepCheck } from '../util/manifest';
import { inputHash } from './decide';

/** Inside each output directory: what it was made from and what was written. */
export const STAMP = '.xcpbuild-stage.json';

export interface Stamp {
  stage: StageId;
  inputHash: string;
  inputs: Inputs;
  /** Digest of the output's content (paths, modes, sizes, sha256s): what downstream stages key on. */
  outputDigest: string;
  files: ManifestEntry[];
}

export async function readStamp(dir: string): Promise<Stamp | undefined> {
  try {
    const s = JSON.parse(await fs.readFile(path.join(dir, STAMP), 'utf8')) as Stamp;
    return typeof s.outputDigest === 'string' && Array.isArray(s.files) ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Records the staged output's manifest and inputs; written last, just before publishing. */
export async function writeStamp(stage: StageId, staging: string, inputs: Inputs): Promise<Stamp> {
  const manifest = await makeManifest(staging, [STAMP]);
  const stamp: Stamp = { stage, inputHash: inputHash(inputs), inputs, outputDigest: manifest.digest, files: manifest.entries };
  await fs.writeFile(path.join(staging, STAMP), JSON.stringify(stamp) + '\n', { mode: 0o644 });
  return stamp;
}

/** The cheap check of every run: recorded files present with their sizes and mtimes. */
export async function damageOf(dir: string, stamp: Stamp): Promise<string | undefined> {
  const problem = await quickCheck(dir, stamp.files);
  return problem ? `output damaged: ${problem}` : undefined;
}

export async function verifyOutput(dir: string, stamp: Stamp): Promise<string[]> {
  return deepCheck(dir, stamp.files);
}
