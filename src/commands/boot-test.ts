import path from 'node:path';
import os from 'node:os';
import { Session } from './session';
import { loadRecipe } from '../family/recipe';
import { readLock } from '../lock/file';
import { XcpError } from '../errors';
import { exists } from '../util/fsutil';
import { displayPath } from '../util/paths';
import { checkedPath } from '../util/env';
import { printable } from '../util/text';
import { ContentStore } from '../cache/store';

export interface BootTestOpts {
  recipe?: string;
  firmware: string;
  installTimeout: string;
  bootTimeout: string;
  jobs: string;
  reuseInstall: boolean;
}

export function parseFirmwares(value: string): ('bios' | 'uefi')[] {
  const list = value === 'both' ? ['bios', 'uefi'] : value.split(',').map((f) => f.trim());
  for (const f of list) if (f !== 'bios' && f !== 'uefi') throw new XcpError(`--firmware: expected bios, uefi, both or a list such as bios,uefi; found "${printable(f)}"`, 'usage');
  return [...new Set(list)] as ('bios' | 'uefi')[];
}

export function positiveNumber(value: string, option: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new XcpError(`${option}: expected a positive number, found "${printable(value)}"`, 'usage');
  return n;
}

export async function bootTestCommand(session: Session, isoArg: string, opts: BootTestOpts): Promise<void> {
  const iso = checkedPath(isoArg, 'ISO');
  if (!(await exists(iso))) throw new XcpError(`no ISO at ${iso}; build one with xcpbuild iso`, 'invalidInput');
  const firmwares = parseFirmwares(opts.firmware);
  const jobs = positiveNumber(opts.jobs, '--jobs');
  if (!Number.isInteger(jobs)) throw new XcpError(`--jobs: expected a whole number of 1 or more, found "${printable(opts.jobs)}"`, 'usage');
  const installTimeoutMs = positiveNumber(opts.installTimeout, '--install-timeout') * 60000;
  const bootTimeoutMs = positiveNumber(opts.bootTimeout, '--boot-timeout') * 60000;
  const recipeArg = opts.recipe ?? path.basename(iso).replace(/-[^-]+-amd64\.iso$/, '');
  const loaded = await loadRecipe(recipeArg);
  const lock = await readLock(loaded.lockFile);
  if (!lock) throw new XcpError(`no lock for ${loaded.recipe.name}; run xcpbuild lock`, 'invalidInput');
  const workDir = path.resolve(session.opts().out, loaded.recipe.name, 'boot-test');
  const log = await session.openLog(loaded.recipe.name, 'boot-test');
  const { bootTest, formatReport } = await import('../boottest/boot-test');
  const store = await ContentStore.open(session.buildOptions().cacheDir);
  const say = (t: string) => {
    log.line(t);
    if (!session.json) process.stderr.write(`${t}\n`);
  };
  say(`boot test of ${displayPath(iso)} (${firmwares.join(', ')}); log: ${displayPath(log.file!)}; serial logs: ${displayPath(workDir)}/<firmware>/`);
  const testOne = async (firmware: 'bios' | 'uefi') => {
    const report = await bootTest(loaded, lock, { iso, workDir, firmware, installTimeoutMs, bootTimeoutMs, reuseInstall: opts.reuseInstall, progress: say, store }, log);
    log.line(JSON.stringify(report));
    return report;
  };
  const queue = [...firmwares];
  const reports: Awaited<ReturnType<typeof testOne>>[] = [];
  await Promise.all(
    Array.from({ length: Math.min(jobs, queue.length) }, async () => {
      for (let f = queue.shift(); f; f = queue.shift()) reports.push(await testOne(f));
    }),
  );
  reports.sort((a, b) => firmwares.indexOf(a.firmware) - firmwares.indexOf(b.firmware));
  const table = formatReport(reports);
  for (const l of table) log.line(l);
  const failed = reports.filter((r) => !r.ok);
  if (session.json) session.emit({ ok: failed.length === 0, reports });
  else {
    console.log(table.join('\n'));
    console.log(`serial logs: ${displayPath(workDir)}/<firmware>/{install,boot}.serial.log`);
  }
  if (failed.length) throw new XcpError(`boot test failed: ${failed.map((r) => `${r.firmware}: ${r.failure}`).join('; ')}`, 'verification');
}

export const defaultJobs = String(Math.min(2, os.cpus().length));
