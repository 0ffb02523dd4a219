import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { SigningKey } from '../signing/gpg';
import { BuildLog } from '../util/log';
import { run } from '../util/proc';
import { writeFileAtomic } from '../util/fsutil';

export const SUM_FILES = [
  { file: 'SHA256SUMS', algorithm: 'sha256' },
  { file: 'SHA512SUMS', algorithm: 'sha512' },
] as const;

const isSumFile = (rel: string) => SUM_FILES.some((s) => rel === s.file || rel === `${s.file}.asc`);

/** Every regular file under `root` (relative, sorted bytewise), except the checksum files themselves. */
export async function releaseFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      const rel = path.relative(root, full);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile() && !isSumFile(rel)) out.push(rel);
      else if (!e.isFile()) out.push(rel); // a symlink or device is listed, and then fails verification
    }
  }
  await walk(root);
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

async function digests(file: string): Promise<Record<'sha256' | 'sha512', string>> {
  const a = createHash('sha256');
  const b = createHash('sha512');
  for await (const chunk of createReadStream(file)) {
    a.update(chunk as Buffer);
    b.update(chunk as Buffer);
  }
  return { sha256: a.digest('hex'), sha512: b.digest('hex') };
}

/** Writes SHA256SUMS and SHA512SUMS over every file of the release, each with a detached armored signature. */
export async function writeSignedChecksums(root: string, key: SigningKey, epoch: number): Promise<void> {
  const files = await releaseFiles(root);
  const sums: Record<'sha256' | 'sha512', string[]> = { sha256: [], sha512: [] };
  for (const rel of files) {
    const d = await digests(path.join(root, rel));
    sums.sha256.push(`${d.sha256}  ${rel}`);
    sums.sha512.push(`${d.sha512}  ${rel}`);
  }
  for (const s of SUM_FILES) {
    const file = path.join(root, s.file);
    await writeFileAtomic(file, sums[s.algorithm].join('\n') + '\n');
    await key.detachSign(file, `${file}.asc`, epoch);
  }
}

/**
 * Checks a release's checksum files: their signatures against `keyring`, every line
 * against the file it names, and that every file of the release is listed. Returns
 * every problem found.
 */
export async function verifyChecksums(root: string, keyring: string, log: BuildLog): Promise<string[]> {
  const problems: string[] = [];
  const present = new Set(await releaseFiles(root));
  // Both sum files name the same files: each is read once, for both digests.
  const known = new Map<string, Promise<Record<'sha256' | 'sha512', string>>>();
  const digestsOf = (full: string) => {
    if (!known.has(full)) known.set(full, digests(full));
    return known.get(full)!;
  };
  for (const s of SUM_FILES) {
    const file = path.join(root, s.file);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch {
      problems.push(`${s.file} is missing`);
      continue;
    }
    const sig = await run(log, 'gpgv', ['--keyring', keyring, `${file}.asc`, file], { allowFailure: true });
    if (sig.exitCode !== 0) problems.push(`${s.file}.asc: the signature does not verify against ${keyring}`);
    const listed = new Set<string>();
    for (const [i, line] of text.split('\n').entries()) {
      if (!line) continue;
      const m = /^([0-9a-f]+) {2}(.+)$/.exec(line);
      if (!m) {
        problems.push(`${s.file}:${i + 1}: not "<digest>  <file>"`);
        continue;
      }
      const rel = m[2];
      listed.add(rel);
      if (path.isAbsolute(rel) || rel.split('/').includes('..')) {
        problems.push(`${s.file}:${i + 1}: ${rel} is outside the release`);
        continue;
      }
      const full = path.join(root, rel);
      const st = await fs.lstat(full).catch(() => undefined);
      if (!st) problems.push(`${rel}: listed in ${s.file} but missing`);
      else if (!st.isFile()) problems.push(`${rel}: not a regular file`);
      else if ((await digestsOf(full))[s.algorithm] !== m[1]) problems.push(`${rel}: ${s.algorithm} does not match ${s.file} (damaged or changed)`);
    }
    for (const rel of present) if (!listed.has(rel)) problems.push(`${rel}: in the release but not in ${s.file}`);
  }
  return problems;
}
