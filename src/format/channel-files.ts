import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { XcpError } from '../errors';
import { confine, copyVerified } from '../util/fsutil';
import { sha256File } from '../util/hash';
import { ownDirectoryBelow, kindOf } from '../util/nofollow';
import { Recipe } from '../recipe/schema';
import { SigningKey } from '../signing/gpg';
import { BuildLog } from '../util/log';

/** One publication of a release's repository to a channel root. */
export interface ChannelJob {
  /** The channel's root directory (<publish>/<name>/channels/<channel>), owned by the caller's lock. */
  root: string;
  channel: string;
  recipe: Recipe;
  /** The release's repository directory, already verified by the caller. */
  releaseRepo: string;
  key: SigningKey;
  /** How long the signed index stays valid, from `now`. */
  validSeconds: number;
  now: Date;
  log: BuildLog;
  progress(text: string): void;
}

export interface ChannelRefreshJob {
  root: string;
  channel: string;
  key: SigningKey;
  validSeconds: number;
  now: Date;
  log: BuildLog;
}

/** What a channel's signed top index says about itself. */
export interface ChannelIndexState {
  date?: string;
  validUntil?: string;
}

/**
 * Places `rel` below the channel root as a verified copy of `src`, unless a file with
 * that content is there already (the pool is shared by the channel's releases). A
 * file of other content under the same name is refused: the channel would otherwise
 * serve a package its older indexes do not describe. Written through a temporary
 * name, so a reader never sees half a file, and never through a planted link.
 */
export async function placeVerified(root: string, rel: string, src: string, sha256: string, size: number): Promise<'placed' | 'present'> {
  const dest = confine(root, rel, 'a channel file');
  const st = await fs.lstat(dest).catch(() => undefined);
  if (st) {
    if (!st.isFile() || st.nlink !== 1) throw new XcpError(`${dest} is ${kindOf(st)}; refused (a channel holds only the files xcpbuild put there)`, 'invalidInput');
    if (st.size === size && (await sha256File(dest)) === sha256) return 'present';
    throw new XcpError(`${dest} is in the channel with other content than ${src}: one name, two files; refused`, 'verification');
  }
  await ownDirectoryBelow(root, path.dirname(rel), 'a channel directory');
  const tmp = `${dest}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await copyVerified(src, tmp, sha256, size, rel);
  await fs.rename(tmp, dest);
  return 'placed';
}

/** Writes `rel` below the root through a temporary name (exclusive create, then rename over whatever was there). */
export async function replaceFile(root: string, rel: string, data: string | Buffer): Promise<void> {
  const dest = confine(root, rel, 'a channel file');
  await ownDirectoryBelow(root, path.dirname(rel), 'a channel directory');
  const tmp = `${dest}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await fs.writeFile(tmp, data, { flag: 'wx', mode: 0o644 });
  await fs.rename(tmp, dest);
}

/** A date as Debian's archive writes it in Release files: "Wed, 02 Dec 2026 18:00:00 UTC". */
export function releaseDate(d: Date): string {
  return d.toUTCString().replace('GMT', 'UTC');
}
