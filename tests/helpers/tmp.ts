import { mkdtempSync, rmSync, readFileSync, writeFileSync, copyFileSync, cpSync, existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from './cli';

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `xcpbuild-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The default recipe's text for a recipe written into `dir`: its source tree
 * (../sources/xcp-host, which must stay inside the recipe's project) is copied into
 * `dir` and the path rewritten.
 */
export function defaultRecipeTextIn(dir: string): string {
  const sources = path.join(dir, 'sources');
  if (!existsSync(path.join(sources, 'xcp-host'))) {
    mkdirSync(sources, { recursive: true });
    cpSync(path.join(projectRoot, 'sources', 'xcp-host'), path.join(sources, 'xcp-host'), { recursive: true });
  }
  return readFileSync(path.join(projectRoot, 'recipes', 'xcp-bookworm.yaml'), 'utf8').replace('path: ../sources/xcp-host', 'path: sources/xcp-host');
}

/** Copies the default recipe (and its source tree) and its lock into `dir`, applying `edit` to the recipe text. */
export function copyDefaultRecipe(dir: string, edit: (text: string) => string = (t) => t, name = 'xcp-bookworm'): string {
  const dest = path.join(dir, `${name}.yaml`);
  writeFileSync(dest, edit(defaultRecipeTextIn(dir)));
  copyFileSync(path.join(projectRoot, 'recipes', 'xcp-bookworm.lock'), path.join(dir, `${name}.lock`));
  return dest;
}
