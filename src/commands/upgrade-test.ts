import path from 'node:path';
import { promises as fs } from 'node:fs';
import { Session } from './session';
import { parseFirmwares, positiveNumber } from './boot-test';
import { XcpError } from '../errors';
import { checkedPath } from '../util/env';
import { exists } from '../util/fsutil';
import { displayPath } from '../util/paths';
import { onCleanup } from '../util/signals';
import { readBounded } from '../recipe/document';
import { isRecipe, LoadedRecipe } from '../recipe/load';
import { readLock, Lock } from '../lock/file';
import { ContentStore } from '../cache/store';
import { SigningKey } from '../signing/gpg';
import { RELEASE_JSON, ReleaseRecord } from '../nightly/release';
import { resolveRelease } from '../channel/promote';
import type { UpgradeReport, UpgradeSide } from '../boottest/upgrade-test';

export interface UpgradeTestOpts {
  from: string;
  to: string;
  firmware: string;
  installTimeout: string;
  bootTimeout: string;
}

interface Release extends UpgradeSide {
  dir: string;
  record: ReleaseRecord;
  iso?: string;
}

/** A published release as the upgrade test uses it: its recipe (as built), lock, repository and ISO. */
export async function readRelease(dirArg: string): Promise<Release> {
  const dir = await resolveRelease(dirArg);
  const record = JSON.parse(await readBounded(path.join(dir, RELEASE_JSON), 'release record', 4 * 1024 * 1024)) as ReleaseRecord;
  if (!isRecipe(record.recipeDocument)) throw new XcpError(`${dir}/${RELEASE_JSON}: recipeDocument is not a valid recipe`, 'invalidInput');
  const lockFile = path.join(dir, record.files.lock);
  const lock = await readLock(lockFile);
  if (!lock) throw new XcpError(`${dir}: no lock (${record.files.lock})`, 'invalidInput');
  const loaded: LoadedRecipe = { recipe: record.recipeDocument, file: path.join(dir, RELEASE_JSON), dir, lockFile };
  return { dir, record, loaded, lock: lock as Lock, iso: record.files.iso ? path.join(dir, record.files.iso) : undefined };
}

/** --from is a release directory, or an ISO (installed with the *to* release's recipe and lock for the test's answers). */
async function fromSide(arg: string, to: Release): Promise<{ iso: string; side: UpgradeSide; name: string }> {
  const p = checkedPath(arg, '--from');
  if ((await fs.stat(p).catch(() => undefined))?.isFile()) return { iso: p, side: to, name: path.basename(p) };
  const from = await readRelease(p);
  if (!from.iso || !(await exists(from.iso))) throw new XcpError(`${from.dir} has no ISO to install from`, 'invalidInput');
  return { iso: from.iso, side: from, name: from.record.version };
}

/** xcpbuild upgrade-test --from <release|ISO> --to <release>: install N, upgrade to N+1, reboot, check. */
export async function upgradeTestCommand(session: Session, opts: UpgradeTestOpts): Promise<void> {
  const firmwares = parseFirmwares(opts.firmware);
  const installTimeoutMs = positiveNumber(opts.installTimeout, '--install-timeout') * 60000;
  const bootTimeoutMs = positiveNumber(opts.bootTimeout, '--boot-timeout') * 60000;
  const to = await readRelease(checkedPath(opts.to, '--to'));
  const from = await fromSide(opts.from, to);
  const name = to.loaded.recipe.name;
  const log = await session.openLog(name, 'upgrade-test');
  const say = (t: string) => {
    log.line(t);
    if (!session.json) process.stderr.write(`${t}\n`);
  };
  const key = await SigningKey.load(session.buildOptions().key, log);
  onCleanup(() => key.dispose());
  const workDir = path.resolve(session.opts().out, name, 'upgrade-test');
  const store = await ContentStore.open(session.buildOptions().cacheDir);
  const { upgradeTest, formatUpgradeReport } = await import('../boottest/upgrade-test');
  say(`upgrade test ${from.name} → ${to.record.version} (${firmwares.join(', ')}); log: ${displayPath(log.file!)}; serial logs: ${displayPath(workDir)}/<firmware>/`);
  const reports: UpgradeReport[] = [];
  try {
    for (const firmware of firmwares) {
      const report = await upgradeTest({ fromIso: from.iso, from: from.side, to: { ...to, version: to.record.version, repo: path.join(to.dir, 'repo') }, workDir, firmware, installTimeoutMs, bootTimeoutMs, progress: say, store, key, requireMoves: true }, log);
      log.line(JSON.stringify(report));
      reports.push(report);
    }
  } finally {
    await key.dispose();
  }
  const table = formatUpgradeReport(reports);
  for (const l of table) log.line(l);
  const failed = reports.filter((r) => !r.ok);
  if (session.json) session.emit({ ok: failed.length === 0, from: from.name, to: to.record.version, reports });
  else console.log(table.join('\n'));
  if (failed.length) throw new XcpError(`upgrade test failed: ${failed.map((r) => `${r.firmware}: ${r.failure}`).join('; ')}`, 'verification', [`serial logs: ${displayPath(workDir)}/<firmware>/`]);
}
