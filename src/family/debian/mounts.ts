import path from 'node:path';

/** Top-level directories of a Debian root, never removed when cleaning up a mount point. */
const rootDirs = new Set(['bin', 'boot', 'dev', 'etc', 'home', 'lib', 'lib64', 'media', 'mnt', 'opt', 'proc', 'root', 'run', 'sbin', 'srv', 'sys', 'tmp', 'usr', 'var']);

/**
 * The directories (deepest first) mmdebstrap's file-mirror hook creates in the chroot to
 * mount `dir` on: empty after the build, and removed so no build path is left in a root.
 */
export function mountPointChain(dir: string): string[] {
  const parts = path.resolve(dir).split('/').filter(Boolean);
  const chain: string[] = [];
  for (let i = parts.length; i >= 1; i--) {
    if (i === 1 && rootDirs.has(parts[0])) break;
    chain.push('/' + parts.slice(0, i).join('/'));
  }
  return chain;
}
