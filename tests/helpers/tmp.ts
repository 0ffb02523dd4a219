import { mkdtempSync, rmSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from './cli';

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `xcpbuild-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Copies the default recipe and its lock into `dir`, applying `edit` to the recipe text. */
export function copyDefaultRecipe(dir: string, edit: (text: string) => string = (t) => t, name = 'xcp-bookworm'): string {
  const src = path.join(projectRoot, 'recipes', 'xcp-bookworm.yaml');
  const dest = path.join(dir, `${name}.yaml`);
  writeFileSync(dest, edit(readFileSync(src, 'utf8')));
  copyFileSync(path.join(projectRoot, 'recipes', 'xcp-bookworm.lock'), path.join(dir, `${name}.lock`));
  return dest;
}
