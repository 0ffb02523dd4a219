import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PackagingDescription } from './schema';
import { confine } from '../util/fsutil';
import { readPlainFileBelow } from '../util/nofollow';

/** One installed entry of a package as both formats lay it out. */
export interface StagedEntry {
  /** The absolute installed path. */
  dest: string;
  kind: 'file' | 'link';
  mode: number;
  /** Installed under /etc: a configuration file the admin may change. */
  config: boolean;
}

/**
 * Lays out the files a packaging description installs under `root`, as both formats
 * ship them: man pages gzipped (no name, no time), links as symbolic links.
 */
export async function stageInstallTree(desc: PackagingDescription, tree: string, root: string): Promise<StagedEntry[]> {
  const entries: StagedEntry[] = [];
  for (const [i, f] of desc.files.entries()) {
    confine(tree, f.source, `the file ${f.source}`);
    const man = f.dest.startsWith('/usr/share/man/');
    const dest = man ? `${f.dest}.gz` : f.dest;
    const target = confine(root, dest.slice(1), `the path ${dest}`);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const data = await readPlainFileBelow(tree, f.source, `${desc.name}.pkg.yaml: files[${i}].source`);
    await fs.writeFile(target, man ? gzipSync(data, { level: 9 }) : data);
    entries.push({ dest, kind: 'file', mode: f.mode === '0755' ? 0o755 : 0o644, config: dest.startsWith('/etc/') });
  }
  for (const l of desc.links ?? []) {
    const target = confine(root, l.dest.slice(1), `the path ${l.dest}`);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.symlink(l.target, target);
    entries.push({ dest: l.dest, kind: 'link', mode: 0o777, config: false });
  }
  return entries;
}
