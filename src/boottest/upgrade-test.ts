import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LoadedRecipe } from '../recipe/load';
import { Lock } from '../lock/file';
import { BuildLog } from '../util/log';
import { run } from '../util/proc';
import { templateDir } from '../util/templates';
import { ContentStore } from '../cache/store';
import { SigningKey } from '../signing/gpg';
import { XcpError } from '../errors';
import { displayPath } from '../util/paths';
import { ownDirectory } from '../util/nofollow';
import { channelValidSeconds } from '../recipe/channels';
import { familyOf } from '../family/registry';
import { ChannelDir } from '../channel/channel';
import { keyringName } from '../format/deb/apt-repo';
import { Firmware, runQemu } from './qemu';
import { BootTestReport, TableRow, resultTable, emptyReport, ensureInstalled, networkBackendOf, oemdrvVolume, parseChecks, serialProgress } from './boot-test';

/** The rows of an upgrade, in the order upgrade.sh reports them over its two boots. */
export const upgradeRows = ['guest-defined', 'host-check-before', 'upgrade', 'reboot-into-new-xen', 'grub-default', 'fallback-kernel', 'pins', 'guest-survives', 'host-check-after'] as const;

export interface UpgradeSide {
  loaded: LoadedRecipe;
  lock: Lock;
}

export interface UpgradeTestOptions {
  /** The ISO the host is installed from, and the recipe and lock it was built from. */
  fromIso: string;
  from: UpgradeSide;
  /** The release upgraded to: its recipe, lock and signed repository. */
  to: UpgradeSide & { version: string; repo: string };
  workDir: string;
  firmware: Firmware;
  installTimeoutMs: number;
  bootTimeoutMs: number;
  progress: (text: string) => void;
  store: ContentStore;
  key: SigningKey;
  /** The hypervisor and the dom0 kernel must both change (make upgrade-test); a nightly's N−1 → N may keep them. */
  requireMoves?: boolean;
}

export interface UpgradeReport extends BootTestReport {
  /** The first boot (guest, host check, upgrade) and the second (after the reboot). */
  upgradeSeconds: number;
  rebootSeconds: number;
}

/**
 * Installs the *from* ISO (or reuses the install of the same content), boots it, upgrades
 * it from the *to* release's repository published as a signed channel on an attached
 * medium, reboots, and checks what only a reboot shows: the new Xen and kernel running,
 * GRUB's default still Xen, the old kernel a fallback, the pins, the guest back.
 */
export async function upgradeTest(opts: UpgradeTestOptions, log: BuildLog): Promise<UpgradeReport> {
  if (familyOf(opts.to.loaded.recipe).format.id !== 'deb') throw new XcpError('the upgrade test drives apt inside the appliance: it needs a recipe of the deb format', 'usage');
  const report: UpgradeReport = { ...emptyReport(opts.firmware), upgradeSeconds: 0, rebootSeconds: 0 };
  const installOpts = { iso: opts.fromIso, workDir: path.join(opts.workDir, 'from-install'), firmware: opts.firmware, installTimeoutMs: opts.installTimeoutMs, bootTimeoutMs: opts.bootTimeoutMs, reuseInstall: true, progress: opts.progress, store: opts.store };
  await ownDirectory(opts.workDir, 'the upgrade-test directory');
  const installed = await ensureInstalled(opts.from.loaded, opts.from.lock, installOpts, report, log);
  if (!installed) return { ...report, checks: parseChecks('', opts.firmware, upgradeRows) };
  const dir = path.join(opts.workDir, opts.firmware);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  const medium = await updateMedium(opts, dir, log);
  const volume = await upgradeVolume(opts, dir, log);
  const overlay = path.join(dir, 'upgrade.qcow2');
  await run(log, 'qemu-img', ['create', '-q', '-f', 'qcow2', '-b', installed.disk, '-F', 'qcow2', overlay], { purpose: 'creating the upgrade overlay' });
  const vars = installed.varsFile ? path.join(dir, 'OVMF_VARS.fd') : undefined;
  if (installed.varsFile && vars) await fs.copyFile(installed.varsFile, vars);
  const boot = (name: string, stopWhen?: RegExp) =>
    runQemu({
      firmware: opts.firmware,
      varsFile: vars,
      disks: [{ file: overlay, format: 'qcow2' }, { file: volume, format: 'raw', readonly: true }, { file: medium, format: 'raw', readonly: true }],
      bootFromCdrom: false,
      serialLog: path.join(dir, `${name}.serial.log`),
      timeoutMs: opts.bootTimeoutMs,
      stopWhen,
      onLine: serialProgress(opts.firmware, opts.progress),
    });
  opts.progress(`${opts.firmware}: boot 1: define a guest, check the host, upgrade to ${opts.to.version} from the medium; serial log ${displayPath(path.join(dir, 'upgrade.serial.log'))}`);
  const first = await boot('upgrade');
  report.upgradeSeconds = first.seconds;
  report.logs.push(path.join(dir, 'upgrade.serial.log'));
  if (!/XCP_UPGRADE_REBOOT/.test(first.text)) {
    report.failure = first.timedOut ? `the upgrade boot did not reach its reboot within ${opts.bootTimeoutMs / 60000} min` : 'the upgrade boot ended before its reboot';
    report.checks = parseChecks(first.text, opts.firmware, upgradeRows);
    return report;
  }
  opts.progress(`${opts.firmware}: boot 2: after the reboot; serial log ${displayPath(path.join(dir, 'reboot.serial.log'))}`);
  const second = await boot('reboot', /XCP_CHECKS_DONE[\s\S]*(Entering ACPI S5|Hardware Dom0 halted|reboot: Power down)/);
  report.rebootSeconds = second.seconds;
  report.logs.push(path.join(dir, 'reboot.serial.log'));
  report.booted = /XCP_CHECKS_DONE/.test(second.text);
  report.checks = parseChecks(`${first.text}\n${second.text}`, opts.firmware, upgradeRows);
  if (!report.booted) report.failure = second.timedOut ? `the boot after the upgrade did not finish its checks within ${opts.bootTimeoutMs / 60000} min` : 'the boot after the upgrade ended before its checks finished';
  report.ok = !report.failure && report.checks.every((c) => c.ok);
  if (!report.ok && !report.failure) report.failure = `failed checks: ${report.checks.filter((c) => !c.ok).map((c) => c.name).join(', ')}`;
  return report;
}

/** The channel the host follows (the *to* recipe's, else stable). */
function mediumChannel(opts: Pick<UpgradeTestOptions, 'to'>): string {
  return opts.to.loaded.recipe.repository.channel ?? 'stable';
}

/**
 * The *to* repository published as a signed channel (by-hash, Valid-Until, signed now)
 * into a scratch root, written as an ISO 9660 image labelled XCPUPDATE: how a host
 * without network takes an update.
 */
async function updateMedium(opts: UpgradeTestOptions, dir: string, log: BuildLog): Promise<string> {
  const recipe = opts.to.loaded.recipe;
  const channelName = mediumChannel(opts);
  opts.progress(`${opts.firmware}: publishing ${opts.to.version} as channel ${channelName} on the update medium`);
  const channel = await ChannelDir.hold(path.join(dir, 'medium', recipe.name), channelName, () => undefined);
  try {
    await channel.publish({ recipe, releaseRepo: opts.to.repo, version: opts.to.version, key: opts.key, keep: 2, validSeconds: channelValidSeconds(recipe, channelName), log, progress: (t) => log.line(t) });
  } finally {
    channel.release();
  }
  const image = path.join(dir, 'update.iso');
  await run(log, 'xorriso', ['-as', 'mkisofs', '-quiet', '-r', '-V', 'XCPUPDATE', '-o', image, channel.root], { purpose: 'writing the update medium' });
  return image;
}

/** The OEMDRV volume of the upgrade: upgrade.sh as the check the installed host runs at each boot, and what it expects. */
async function upgradeVolume(opts: UpgradeTestOptions, dir: string, log: BuildLog): Promise<string> {
  const files = path.join(dir, 'oemdrv');
  await fs.mkdir(files, { recursive: true });
  await fs.copyFile(path.join(templateDir('upgrade-test'), 'upgrade.sh'), path.join(files, 'check.sh'));
  await fs.copyFile(path.join(templateDir('boot-test'), 'check-lib.sh'), path.join(files, 'check-lib.sh'));
  await fs.writeFile(path.join(files, 'expect.txt'), upgradeExpectations(opts).join('\n') + '\n');
  return oemdrvVolume(files, path.join(dir, 'oemdrv.img'), log);
}

/** What the host must run and have after the upgrade: the *to* lock's Xen, kernel and pins. */
export function upgradeExpectations(opts: Pick<UpgradeTestOptions, 'to' | 'from' | 'firmware' | 'requireMoves'>): string[] {
  const { recipe } = opts.to.loaded;
  const lock = opts.to.lock;
  const xen = lock.packages.find((p) => p.name.startsWith('xen-hypervisor-'))?.version.replace(/[+~-].*$/, '');
  const kernelOf = (l: Lock) => l.packages.map((p) => /^linux-image-(\d\S*)$/.exec(p.name)?.[1]).find(Boolean);
  if (!xen || !kernelOf(lock)) throw new XcpError(`the lock of ${recipe.name} ${recipe.version} pins no Xen hypervisor or no versioned dom0 kernel (linux-image-<abi>)`, 'invalidInput');
  const fromXen = opts.from.lock.packages.find((p) => p.name.startsWith('xen-hypervisor-'))?.version.replace(/[+~-].*$/, '');
  const moves = kernelOf(opts.from.lock) !== kernelOf(lock) && fromXen !== xen;
  if (opts.requireMoves && !moves) throw new XcpError(`from ${fromXen}/${kernelOf(opts.from.lock)} to ${xen}/${kernelOf(lock)}: the upgrade must move both the hypervisor and the dom0 kernel, or its reboot rows prove nothing`, 'invalidInput');
  const pins = Object.values(recipe.packages).flat().map((p) => `pkg ${p.name} ${lock.packages.find((l) => l.name === p.name)?.version ?? p.version}`);
  const own = [...Object.entries(recipe.metapackages), ...Object.entries(recipe.sources ?? {})].map(([name, m]) => `pkg ${name} ${m.version}`);
  return [
    `xen ${xen}`,
    `kernel ${kernelOf(lock)}`,
    `kernel-moves ${kernelOf(opts.from.lock) !== kernelOf(lock) ? 'yes' : 'no'}`,
    `vg ${recipe.iso!.vmVolumeGroup}`,
    `backend ${networkBackendOf[opts.firmware]}`,
    `channel ${mediumChannel(opts)}`,
    `keyring ${keyringName(recipe)}`,
    ...pins,
    ...own,
  ];
}


/** The table: install (or its reuse), the two boots, then each row; "N passed, N failed". */
export function formatUpgradeReport(reports: UpgradeReport[]): string[] {
  const rows: TableRow[] = [];
  for (const r of reports) {
    rows.push({ firmware: r.firmware, check: 'install', ok: r.installed, time: `${r.installSeconds.toFixed(0)} s`, detail: 'the from ISO, unattended (reused when the same ISO content was installed before)' });
    if (r.installed) rows.push({ firmware: r.firmware, check: 'upgrade boot', ok: r.upgradeSeconds > 0 && r.checks.some((c) => c.name === 'upgrade' && c.ok), time: `${r.upgradeSeconds.toFixed(0)} s`, detail: 'GRUB → Xen → dom0 → guest → host check → full-upgrade → reboot' });
    if (r.rebootSeconds) rows.push({ firmware: r.firmware, check: 'reboot', ok: r.booted, time: `${r.rebootSeconds.toFixed(0)} s`, detail: 'GRUB → new Xen → new dom0 kernel → checks → powered off' });
    for (const c of r.checks) rows.push({ firmware: r.firmware, check: c.name, ok: c.ok, time: c.time, detail: c.detail });
  }
  return resultTable(rows, reports);
}
