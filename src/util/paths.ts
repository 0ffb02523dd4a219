import path from 'node:path';

/** A path relative to the working directory when it lies below it, else absolute. */
export function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel.startsWith('..') ? p : rel;
}
