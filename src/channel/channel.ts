import { promises as fs } from 'node:fs';
import path from 'node:path';
import { XcpError } from '../errors';
import { Recipe, CHANNEL_PATTERN } from '../recipe/schema';
import { familyOf, formatById } from '../family/registry';
import { PackageFormat } from '../format/types';
import { ChannelIndexState } from '../format/channel-files';
import { SigningKey } from '../signing/gpg';
import { BuildLog } from '../util/log';
import { FileLock } from '../util/flock';
import { writeFileAtomic, processGone, exists } from '../util/fsutil';
import { ownDirectoryBelow } from '../util/nofollow';
import { readBounded } from '../recipe/document';
import { printable } from '../util/text';

export const CHANNEL_STATE = 'channel.json';
/** A channel keeps at least the previous publication: a client that read the previous top index still finds what it names. */
export const MIN_KEEP = 2;

/** One release published to a channel, and the files it needs there. */
export interface Publication {
  version: string;
  publishedAt: string;
  files: string[];
}

/** What a channel's root records about itself (channel.json), newest publication last. */
export interface ChannelRecord {
  channel: string;
  recipe: string;
  format: PackageFormat['id'];
  validSeconds: number;
  publications: Publication[];
}

export function checkChannelName(name: string): string {
  if (!new RegExp(CHANNEL_PATTERN).test(name) || name.length > 40) {
    throw new XcpError(`channel "${printable(name)}": expected a name of lowercase letters, digits and - (e.g. stable, nightly), at most 40 characters`, 'usage');
  }
  return name;
}

/** <publish>/<name>/channels/<channel>/: a moving, signed repository fed from the recipe's releases. */
export class ChannelDir {
  private constructor(
    readonly root: string,
    readonly name: string,
    private readonly lock: FileLock,
  ) {}

  /** The channel of the recipe whose releases are in `recipeRoot`, held against other publishers until released. */
  static async hold(recipeRoot: string, name: string, onWait: (holder: string) => void): Promise<ChannelDir> {
    checkChannelName(name);
    const channels = await ownDirectoryBelow(recipeRoot, 'channels', 'the channels directory');
    const lock = await FileLock.acquire(path.join(channels, `.${name}.lock`), `xcpbuild channel ${name}`, onWait);
    try {
      const root = await ownDirectoryBelow(channels, name, 'a channel directory');
      return new ChannelDir(root, name, lock);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /** A channel directory given by its path (channel refresh, channel show). */
  static async holdAt(root: string, onWait: (holder: string) => void): Promise<ChannelDir> {
    const resolved = path.resolve(root);
    if (path.basename(path.dirname(resolved)) !== 'channels') throw new XcpError(`${root} is not a channel directory: expected <publish>/<name>/channels/<channel>`, 'usage');
    return ChannelDir.hold(path.dirname(path.dirname(resolved)), path.basename(resolved), onWait);
  }

  release(): void {
    this.lock.release();
  }

  async record(): Promise<ChannelRecord | undefined> {
    const file = path.join(this.root, CHANNEL_STATE);
    if (!(await exists(file))) return undefined;
    return parseChannelRecord(await readBounded(file, 'channel record', 64 * 1024 * 1024, { noFollow: true }), file, this.name);
  }

  /**
   * Publishes a release's repository: the format places its files and swaps its signed
   * top index last; then the record, then what no retained publication needs goes.
   */
  async publish(p: { recipe: Recipe; releaseRepo: string; version: string; key: SigningKey; keep: number; validSeconds: number; log: BuildLog; progress: (t: string) => void }): Promise<ChannelPublished> {
    const format = familyOf(p.recipe).format;
    const previous = await this.record();
    if (previous && (previous.recipe !== p.recipe.name || previous.format !== format.id)) {
      throw new XcpError(`channel ${this.root} holds ${previous.recipe} (${previous.format}), not ${p.recipe.name} (${format.id})`, 'invalidInput');
    }
    const now = new Date();
    const files = await format.channel.publish({ root: this.root, channel: this.name, recipe: p.recipe, releaseRepo: p.releaseRepo, key: p.key, validSeconds: p.validSeconds, now, log: p.log, progress: p.progress });
    const keep = Math.max(MIN_KEEP, p.keep);
    const publications = [...(previous?.publications ?? []), { version: p.version, publishedAt: now.toISOString(), files }].slice(-keep);
    const record: ChannelRecord = { channel: this.name, recipe: p.recipe.name, format: format.id, validSeconds: p.validSeconds, publications };
    await writeFileAtomic(path.join(this.root, CHANNEL_STATE), JSON.stringify(record, null, 2) + '\n');
    const removed = await collect(this.root, new Set([CHANNEL_STATE, ...publications.flatMap((x) => x.files)]));
    return { record, removed, state: await format.channel.state(this.root, this.name) };
  }

  /** Re-signs the top index with a new date and expiry (`validSeconds`, else the channel's own). */
  async refresh(p: { key: SigningKey; validSeconds?: number; log: BuildLog }): Promise<{ record: ChannelRecord; state?: ChannelIndexState }> {
    const record = await this.record();
    if (!record?.publications.length) throw new XcpError(`nothing was published to channel ${this.root} yet`, 'invalidInput');
    const format = formatOf(record.format);
    if (!format.channel.refresh) throw new XcpError(`channel ${this.name} is a ${format.id} channel: ${format.channel.limits ?? 'it has no expiry to refresh'}`, 'usage');
    const validSeconds = p.validSeconds ?? record.validSeconds;
    await format.channel.refresh({ root: this.root, channel: this.name, key: p.key, validSeconds, now: new Date(), log: p.log });
    if (validSeconds !== record.validSeconds) await writeFileAtomic(path.join(this.root, CHANNEL_STATE), JSON.stringify({ ...record, validSeconds }, null, 2) + '\n');
    return { record, state: await format.channel.state(this.root, this.name) };
  }

  async state(format: PackageFormat['id']): Promise<ChannelIndexState | undefined> {
    return formatOf(format).channel.state(this.root, this.name);
  }
}

export interface ChannelPublished {
  record: ChannelRecord;
  /** Files no retained publication needs any more, removed after the new top index was in place. */
  removed: number;
  state?: ChannelIndexState;
}

function formatOf(id: string): PackageFormat {
  const format = formatById(id);
  if (!format) throw new XcpError(`unknown package format ${printable(id)} in the channel record`, 'invalidInput');
  return format;
}

function parseChannelRecord(text: string, file: string, name: string): ChannelRecord {
  let r: ChannelRecord;
  try {
    r = JSON.parse(text) as ChannelRecord;
  } catch (err) {
    throw new XcpError(`${file}: not JSON (${(err as Error).message})`, 'invalidInput');
  }
  const ok =
    r && r.channel === name && typeof r.recipe === 'string' && (r.format === 'deb' || r.format === 'rpm') && Number.isInteger(r.validSeconds) && r.validSeconds > 0 &&
    Array.isArray(r.publications) && r.publications.every((p) => typeof p.version === 'string' && typeof p.publishedAt === 'string' && Array.isArray(p.files) && p.files.every((f) => typeof f === 'string'));
  if (!ok) throw new XcpError(`${file} is not the record of channel ${name} (channel, recipe, format, validSeconds, publications)`, 'invalidInput');
  return r;
}

/** Removes every file below `root` that is not in `keep`, and what killed publishers left (.tmp-<pid>-…, .sign-<pid>); then empty directories. */
async function collect(root: string, keep: Set<string>, rel = ''): Promise<number> {
  let removed = 0;
  for (const e of await fs.readdir(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    const full = path.join(root, r);
    if (e.isDirectory() && !/^\.sign-\d+$/.test(e.name)) {
      removed += await collect(root, keep, r);
      if ((await fs.readdir(full)).length === 0) await fs.rmdir(full);
    } else if (!keep.has(r) && !liveTemporary(e.name)) {
      await fs.rm(full, { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}

/** A temporary file of a process still running (only this process, under the lock; anything else is left over). */
function liveTemporary(name: string): boolean {
  const pid = /\.(?:tmp|sign)-(\d+)(?:-|$)/.exec(name)?.[1];
  return pid !== undefined && !processGone(Number(pid)) && Number(pid) === process.pid;
}
