import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** JSON with object keys sorted, so equal values always hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    }
    return v;
  });
}

export function hashValue(value: unknown): string {
  return sha256(canonicalJson(value));
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Digest of a directory tree: relative paths, modes' executable bit and contents, in sorted order. */
export async function hashTree(root: string): Promise<string> {
  const hash = createHash('sha256');
  async function walk(dir: string): Promise<void> {
    const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      const rel = path.relative(root, full);
      if (entry.isDirectory()) {
        hash.update(`d ${rel}\n`);
        await walk(full);
      } else if (entry.isFile()) {
        const stat = await fs.stat(full);
        hash.update(`f ${rel} ${stat.mode & 0o111 ? 'x' : '-'} ${sha256(await fs.readFile(full))}\n`);
      } else if (entry.isSymbolicLink()) {
        hash.update(`l ${rel} ${await fs.readlink(full)}\n`);
      }
    }
  }
  await walk(root);
  return hash.digest('hex');
}
