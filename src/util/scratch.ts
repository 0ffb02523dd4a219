import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processGone } from './fsutil';

const NAME = /^xcpbuild-([a-z-]+)\.(\d+)-[A-Za-z0-9]{6}$/;

/**
 * A private (0700) scratch directory under the system temporary directory, named with
 * this process's pid: a run killed before it removes its scratch directory leaves it
 * to the next run's sweepScratch, not to accumulate in /tmp.
 */
export function scratchDir(purpose: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `xcpbuild-${purpose}.${process.pid}-`));
}

/**
 * Removes the scratch directories of runs that are gone. Safe to remove: every mount a
 * build makes lives in a private mount namespace, so none is under these directories here.
 */
export async function sweepScratch(): Promise<number> {
  let swept = 0;
  for (const name of await fs.readdir(os.tmpdir()).catch(() => [] as string[])) {
    const m = NAME.exec(name);
    if (!m || !processGone(Number(m[2]))) continue;
    await fs.rm(path.join(os.tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
    swept++;
  }
  return swept;
}
