import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';

const root = path.resolve(__dirname, '..');

export const toolVersion: string = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;

const digests = new Map<string, string>();

/** The file a relative module specifier names, as compiled (.js) or as source (.ts under ts-jest). */
function resolveModule(fromDir: string, spec: string, ext: string): string | undefined {
  return [`${spec}${ext}`, path.join(spec, `index${ext}`)].map((c) => path.resolve(fromDir, c)).find((f) => existsSync(f));
}

/**
 * The tool version plus a digest of the code a stage runs: the given modules of
 * xcpbuild and every local module they import, transitively. A stage's output made
 * by different code never counts as up to date, while a change elsewhere (say, the
 * boot test) does not rebuild it.
 */
export function codeDigest(entries: string[], codeRoot = __dirname, ext = path.extname(__filename)): string {
  const key = [codeRoot, ...entries].join('\n');
  const cached = digests.get(key);
  if (cached) return cached;
  const texts = new Map<string, string>();
  const queue = entries.map((e) => resolveModule(codeRoot, `./${e}`, ext) ?? path.join(codeRoot, e));
  while (queue.length) {
    const file = queue.pop()!;
    if (texts.has(file)) continue;
    const text = readFileSync(file, 'utf8');
    texts.set(file, text);
    for (const m of text.matchAll(/(?:require\(|from\s+)["'](\.{1,2}\/[^"']+)["']/g)) {
      const dep = resolveModule(path.dirname(file), m[1], ext);
      if (dep) queue.push(dep);
    }
  }
  const hash = createHash('sha256');
  for (const file of [...texts.keys()].sort()) hash.update(path.relative(codeRoot, file)).update('\0').update(texts.get(file)!);
  const digest = `${toolVersion}+${hash.digest('hex').slice(0, 12)}`;
  digests.set(key, digest);
  return digest;
}
