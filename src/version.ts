import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';

const root = path.resolve(__dirname, '..');

export const toolVersion: string = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;

let cachedBuildId: string | undefined;

/**
 * The version plus a digest of xcpbuild's own code, so that outputs made by
 * different code never count as up to date.
 */
export function buildId(): string {
  if (cachedBuildId) return cachedBuildId;
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.(js|ts)$/.test(e.name) && !e.name.endsWith('.d.ts')) hash.update(e.name).update(readFileSync(full));
    }
  };
  walk(__dirname);
  cachedBuildId = `${toolVersion}+${hash.digest('hex').slice(0, 12)}`;
  return cachedBuildId;
}
