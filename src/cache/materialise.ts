import path from 'node:path';
import { ContentStore } from './store';
import { LockedPackage } from '../lock/file';
import { confine, copyVerified } from '../util/fsutil';
import { XcpError } from '../errors';

/** Where each file goes under the destination: its pool path, or its file name alone. */
export type Layout = 'pool path' | 'file name' | ((p: LockedPackage) => string);

function relativePath(p: LockedPackage, layout: Layout): string {
  if (layout === 'pool path') return p.filename;
  if (layout === 'file name') return path.basename(p.filename);
  return layout(p);
}

/**
 * Copies locked files out of the store into `root`, each checked against its sha256
 * and size while it is copied: the one way every stage (repositories, build root,
 * installer layer) and the boot test materialise locked files. A file missing from
 * the store or damaged there is a verification failure; a damaged entry is removed,
 * so the next run fetches it anew. Returns the paths written, in the given order.
 */
export interface MaterialiseOptions {
  layout: Layout;
  /** What the files are for, in messages (e.g. "the build root"). */
  what: string;
  /** Called after each file copied: files done, of how many. */
  progress?(done: number, total: number): void;
}

export async function materialiseLocked(store: ContentStore, files: LockedPackage[], root: string, opts: MaterialiseOptions): Promise<string[]> {
  const { layout, what } = opts;
  const placed = new Map<string, string>();
  const written: string[] = [];
  for (const p of files) {
    const rel = relativePath(p, layout);
    const known = placed.get(rel);
    if (known !== undefined) {
      if (known !== p.sha256) throw new XcpError(`two locked files want the path ${rel} (${what})`, 'invalidInput');
      continue;
    }
    placed.set(rel, p.sha256);
    const dest = confine(root, rel, `the lock's filename for ${p.name}`);
    if (!(await store.looksIntact(p.sha256, p.size))) {
      throw new XcpError(`${p.name} ${p.version} (${what}) is not in the cache (or changed since it was verified); run xcpbuild fetch`, 'verification');
    }
    await copyOrDiscard(store, p, dest);
    written.push(dest);
    opts.progress?.(written.length, files.length);
  }
  return written;
}

async function copyOrDiscard(store: ContentStore, p: LockedPackage, dest: string): Promise<void> {
  try {
    await copyVerified(store.pathOf(p.sha256), dest, p.sha256, p.size, `${p.name} ${p.version}`);
  } catch (err) {
    if (!(err instanceof XcpError && err.kind === 'verification')) throw err;
    await store.discard(p.sha256);
    throw new XcpError(`${err.message}; the damaged cache entry was removed: run the build again to fetch it anew`, 'verification');
  }
}
