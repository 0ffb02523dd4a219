import path from 'node:path';
import { Session } from './session';
import { positiveNumber } from './boot-test';
import { XcpError } from '../errors';
import { checkedPath } from '../util/env';
import { displayPath } from '../util/paths';
import { printable } from '../util/text';
import { SigningKey } from '../signing/gpg';
import { BuildLog } from '../util/log';
import { onCleanup } from '../util/signals';
import { promoteRelease, resolveRelease } from '../channel/promote';
import { ChannelDir, ChannelRecord, MIN_KEEP } from '../channel/channel';
import { ChannelIndexState } from '../format/channel-files';

export interface PromoteOpts {
  channel: string;
  keep: string;
}

function keepOf(value: string): number {
  const keep = Number(value);
  if (!/^\d+$/.test(value) || keep < MIN_KEEP) throw new XcpError(`--keep: expected a whole number of ${MIN_KEEP} or more, found "${printable(value)}"`, 'usage');
  return keep;
}

async function loadKey(session: Session, log: BuildLog): Promise<SigningKey> {
  const key = await SigningKey.load(session.buildOptions().key, log);
  onCleanup(() => key.dispose());
  return key;
}

/** xcpbuild promote <release> --channel C: the release, unchanged, to the channel beside it. */
export async function promoteCommand(session: Session, dirArg: string, opts: PromoteOpts): Promise<void> {
  const keep = keepOf(opts.keep);
  const dir = await resolveRelease(checkedPath(dirArg, 'release directory'));
  const log = await session.openLog(path.basename(path.dirname(dir)), 'promote');
  const say = (t: string) => {
    log.line(t);
    if (!session.json) process.stderr.write(`${t}\n`);
  };
  const key = await loadKey(session, log);
  const started = Date.now();
  try {
    const { record, published } = await promoteRelease(dir, { channel: opts.channel, keep, key, log, progress: say });
    const seconds = (Date.now() - started) / 1000;
    const root = path.join(path.dirname(dir), 'channels', opts.channel);
    if (session.json) return session.emit({ ok: true, release: dir, version: record.version, channel: opts.channel, root, seconds, removed: published.removed, ...published.state, publications: published.record.publications.map((p) => p.version) });
    console.log(`${record.recipe} ${record.version} → channel ${opts.channel}: ${displayPath(root)} (${seconds.toFixed(1)}s)`);
    printState(published.record, published.state);
  } finally {
    await key.dispose();
  }
}

/** xcpbuild channel refresh <dir>: a new Date and Valid-Until on the channel's signed index, nothing else. */
export async function channelRefreshCommand(session: Session, dirArg: string, opts: { validDays?: string }): Promise<void> {
  const validSeconds = opts.validDays === undefined ? undefined : Math.round(positiveNumber(opts.validDays, '--valid-days') * 86400);
  const log = new BuildLog(undefined, session.opts().verbose && !session.json);
  const channel = await ChannelDir.holdAt(checkedPath(dirArg, 'channel directory'), (h) => !session.json && process.stderr.write(`waiting for ${h}\n`));
  try {
    const key = await loadKey(session, log);
    try {
      const { record, state } = await channel.refresh({ key, validSeconds, log });
      if (session.json) return session.emit({ ok: true, channel: channel.name, root: channel.root, version: record.publications.at(-1)?.version, ...state });
      console.log(`channel ${channel.name} re-signed: ${displayPath(channel.root)}`);
      printState(record, state);
    } finally {
      await key.dispose();
    }
  } finally {
    channel.release();
  }
}

/** xcpbuild channel show <dir>: what the channel serves and until when. */
export async function channelShowCommand(session: Session, dirArg: string): Promise<void> {
  const channel = await ChannelDir.holdAt(checkedPath(dirArg, 'channel directory'), () => undefined);
  try {
    const record = await channel.record();
    if (!record) throw new XcpError(`nothing was published to channel ${channel.root} yet`, 'invalidInput');
    const state = await channel.state(record.format);
    if (session.json) return session.emit({ ok: true, ...record, publications: record.publications.map(({ version, publishedAt }) => ({ version, publishedAt })), ...state });
    console.log(`channel ${channel.name} of ${record.recipe} (${record.format}): ${displayPath(channel.root)}`);
    printState(record, state);
  } finally {
    channel.release();
  }
}

function printState(record: ChannelRecord, state: ChannelIndexState | undefined): void {
  const current = record.publications.at(-1);
  console.log(`  serves ${current?.version ?? '(nothing)'}; signed ${state?.date ?? '?'}${state?.validUntil ? `, valid until ${state.validUntil}` : ' (no expiry in this format)'}`);
  console.log(`  retained: ${record.publications.map((p) => p.version).join(', ')}`);
}
