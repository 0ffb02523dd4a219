import { promises as fs } from 'node:fs';
import path from 'node:path';

/** A changelog date (RFC 2822, UTC) from SOURCE_DATE_EPOCH. */
export function rfc2822(epoch: number): string {
  const d = new Date(epoch * 1000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** The Installed-Size of a package tree, in bytes (directories count 4 KiB). */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? 4096 + (await treeBytes(full)) : (await fs.stat(full)).size;
  }
  return total;
}

/** Modes (0755 directories and the files `executable` names, 0644 the rest) and mtimes fixed for reproducibility. */
export async function normalizeTree(dir: string, epoch: number, executable: (file: string) => boolean = () => false): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) {
      await fs.lutimes(full, epoch, epoch);
      continue;
    }
    if (entry.isDirectory()) {
      await fs.chmod(full, 0o755);
      await normalizeTree(full, epoch, executable);
    } else {
      await fs.chmod(full, executable(full) ? 0o755 : 0o644);
    }
    await fs.utimes(full, epoch, epoch);
  }
  await fs.chmod(dir, 0o755);
  await fs.utimes(dir, epoch, epoch);
}
