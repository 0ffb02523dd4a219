import { promises as fs } from 'node:fs';
import path from 'node:path';
import { XcpError } from '../errors';
import { Recipe } from '../recipe/schema';
import { isRecipe } from '../recipe/load';
import { channelValidSeconds } from '../recipe/channels';
import { SigningKey, keyringFingerprints } from '../signing/gpg';
import { BuildLog } from '../util/log';
import { KEY_FILES, ReleaseRecord } from '../nightly/release';
import { verifyRelease } from '../nightly/verify';
import { ChannelDir, ChannelPublished } from './channel';

export interface ChannelTarget {
  channel: string;
  keep: number;
  key: SigningKey;
  log: BuildLog;
  progress: (text: string) => void;
}

/** A release directory as given (…/latest included) resolved to the release it names. */
export async function resolveRelease(dirArg: string): Promise<string> {
  const dir = await fs.realpath(dirArg).catch(() => {
    throw new XcpError(`no release at ${dirArg}`, 'invalidInput');
  });
  if (!(await fs.stat(dir)).isDirectory()) throw new XcpError(`${dirArg} is not a release directory`, 'invalidInput');
  return dir;
}

/**
 * Promotion: an existing release to a channel, without rebuilding. Refused unless the
 * release verifies against the key it carries, that key is the one signing the
 * channel, and its boot-test gate passed (a recipe without an ISO has none to pass).
 */
export async function promoteRelease(dirArg: string, target: ChannelTarget): Promise<{ release: string; record: ReleaseRecord; published: ChannelPublished }> {
  const dir = await resolveRelease(dirArg);
  const keyring = path.join(dir, KEY_FILES[1]);
  const { problems, record } = await verifyRelease(dir, keyring, target.log);
  if (problems.length || !record) throw new XcpError(`not promoting ${dir}: verify-release finds ${problems.length} problem${problems.length === 1 ? '' : 's'}`, 'verification', problems.slice(0, 20));
  const refusal = gateRefusal(record);
  if (refusal) throw new XcpError(`not promoting ${record.version}: ${refusal}`, 'verification');
  const signers = await keyringFingerprints(target.log, keyring);
  if (!signers.includes(target.key.fingerprint)) {
    throw new XcpError(`not promoting ${record.version}: the signing key ${target.key.fingerprint} is not the key the release is signed by (${signers.join(', ') || 'none'}); hosts would refuse the channel`, 'invalidInput');
  }
  const published = await publishToChannel(dir, record, target);
  return { release: dir, record, published };
}

/** Why a release's boot-test record keeps it out of channels, if it does: passed, or no ISO to boot, is what goes. */
export function gateRefusal(record: Pick<ReleaseRecord, 'bootTest'>): string | undefined {
  const { gate, rows } = record.bootTest;
  if (gate === 'no-iso') return undefined;
  if (gate !== 'passed') return `its boot-test gate is "${gate}" (published with --skip-boot-test); only a release whose boot test passed goes to a channel`;
  const failed = rows.filter((r) => !r.ok);
  if (!rows.length || failed.length) return `its boot-test record has ${rows.length ? `${failed.length} failed row(s): ${failed.map((r) => `${r.firmware} ${r.check}`).join(', ')}` : 'no rows'}`;
  return undefined;
}

/** Publishes release `dir` (already checked by the caller) to the channel beside it: <dir>/../channels/<channel>/. */
export async function publishToChannel(dir: string, record: ReleaseRecord, target: ChannelTarget): Promise<ChannelPublished> {
  if (!isRecipe(record.recipeDocument)) throw new XcpError(`${dir}: release.json carries no valid recipe`, 'verification');
  const recipe: Recipe = record.recipeDocument;
  const channel = await ChannelDir.hold(path.dirname(dir), target.channel, (holder) => target.progress(`waiting for ${holder} to finish with channel ${target.channel}`));
  try {
    target.progress(`publishing ${record.version} to channel ${target.channel}`);
    return await channel.publish({ recipe, releaseRepo: path.join(dir, 'repo'), version: record.version, key: target.key, keep: target.keep, validSeconds: channelValidSeconds(recipe, target.channel), log: target.log, progress: target.progress });
  } finally {
    channel.release();
  }
}
