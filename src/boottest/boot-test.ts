import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LoadedRecipe } from '../recipe/load';
import { Lock } from '../lock/file';
import { BuildLog } from '../util/log';
import { run } from '../util/proc';
import { render, templateDir } from '../util/templates';
import { Firmware, runQemu, ovmf } from './qemu';
import { hashValue } from '../util/hash';
import { exists, writeFileAtomic } from '../util/fsutil';
import { displayPath } from '../util/paths';

/** A hash of a random password nobody knows: the test logs in through the check service, never with it. */
const testRootHash = '$6$xcpboottest$E0cCRp1L/BdnWgj2T4GOh9EIPBZsak7wYss7FpWQ.xQQx0qww0hExhXBJYHxCfFRQYjXB.7s74MlkJ40FvyTf.';

export interface CheckResult {
  firmware: Firmware;
  name: string;
  ok: boolean;
  detail: string;
  time: string;
}

export interface BootTestReport {
  firmware: Firmware;
  ok: boolean;
  installSeconds: number;
  bootSeconds: number;
  checks: CheckResult[];
  logs: string[];
  failure?: string;
}

export interface BootTestOptions {
  iso: string;
  workDir: string;
  firmware: Firmware;
  installTimeoutMs: number;
  bootTimeoutMs: number;
  /** Skip the install when the disk already holds a successful install of this same ISO. */
  reuseInstall: boolean;
  progress: (text: string) => void;
}

/** What a successful install run leaves next to its disk, so a later run can reuse it. */
interface InstallRecord {
  iso: string;
  isoSize: number;
  isoMtimeMs: number;
  answers: string;
  installSeconds: number;
}

/**
 * Files of templates/boot-test the install uses (through the answer file's late command);
 * check.sh is read from the OEMDRV volume only at first boot.
 */
const installTimeFiles = ['late.sh', 'run-checks.sh', 'xcp-boot-check.service', 'x86_xcp-tcg.xml'];

/** The checks the boot test requires, in the order the check service runs them. */
export const requiredChecks = ['xl-info', 'xl-list', 'virsh-list', 'ovs-vsctl', 'vm-volume-group', 'xl-create', 'dpkg-versions', 'installer-logs'];

/** Builds the OEMDRV volume: the test answer file, the check service and what it expects. */
async function makeAnswerVolume(loaded: LoadedRecipe, lock: Lock, dir: string, log: BuildLog): Promise<string> {
  const { recipe } = loaded;
  const files = path.join(dir, 'oemdrv');
  await fs.mkdir(files, { recursive: true });
  const tpl = templateDir('boot-test');
  await fs.writeFile(
    path.join(files, 'xcp-answers.cfg'),
    await render(path.join(tpl, 'answers.cfg.hbs'), { vg: recipe.iso!.vmVolumeGroup, rootHash: testRootHash, xenCmdline: recipe.iso!.xenCmdline, dom0Cmdline: recipe.iso!.dom0Cmdline }),
  );
  for (const f of [...installTimeFiles, 'check.sh']) await fs.copyFile(path.join(tpl, f), path.join(files, f));
  const xen = recipe.packages.xen?.find((p) => p.name.startsWith('xen-hypervisor'))?.version ?? lock.packages.find((p) => p.name.startsWith('xen-hypervisor-'))?.version;
  const pinned = Object.values(recipe.packages).flat();
  const expect = [`xen ${xen?.replace(/[+~-].*$/, '') ?? ''}`, `vg ${recipe.iso!.vmVolumeGroup}`, ...pinned.map((p) => `pkg ${p.name} ${lock.packages.find((l) => l.name === p.name)?.version ?? p.version}`)];
  for (const [name, m] of Object.entries(recipe.metapackages)) expect.push(`pkg ${name} ${m.version}`);
  await fs.writeFile(path.join(files, 'expect.txt'), expect.join('\n') + '\n');
  const img = path.join(dir, 'oemdrv.img');
  await fs.rm(img, { force: true });
  await run(log, 'mkfs.fat', ['-C', '-n', 'OEMDRV', img, '8192'], { purpose: 'making the OEMDRV answer volume' });
  for (const f of await fs.readdir(files)) await run(log, 'mcopy', ['-i', img, path.join(files, f), `::/${f}`], { purpose: 'filling the OEMDRV volume' });
  return img;
}

export function parseChecks(text: string, firmware: Firmware): CheckResult[] {
  const results = new Map<string, CheckResult>();
  for (const m of text.matchAll(/XCP_CHECK name=(\S+) rc=(\d+) seconds=(\S+) detail=(.*)/g)) {
    results.set(m[1], { firmware, name: m[1], ok: m[2] === '0', time: m[3], detail: m[4].trim() });
  }
  return requiredChecks.map((name) => results.get(name) ?? { firmware, name, ok: false, time: '-', detail: 'no result (the check did not run)' });
}

/**
 * Installs the appliance from the ISO onto a blank disk (run 1), then boots the
 * disk through its GRUB into Xen and dom0 (run 2), where the check service
 * reports each toolstack check on the serial console and powers off.
 */
export async function bootTest(loaded: LoadedRecipe, lock: Lock, opts: BootTestOptions, log: BuildLog): Promise<BootTestReport> {
  const dir = path.join(opts.workDir, opts.firmware);
  const disk = path.join(dir, 'disk.qcow2');
  const recordFile = path.join(dir, 'installed.json');
  const varsFile = opts.firmware === 'uefi' ? path.join(dir, 'OVMF_VARS.fd') : undefined;
  const report: BootTestReport = { firmware: opts.firmware, ok: false, installSeconds: 0, bootSeconds: 0, checks: [], logs: [] };
  const isoStat = await fs.stat(opts.iso);
  const answersDigest = await answerTemplatesDigest();
  const matches = (r: InstallRecord | undefined): r is InstallRecord =>
    !!r && r.iso === opts.iso && r.isoSize === isoStat.size && r.isoMtimeMs === isoStat.mtimeMs && r.answers === answersDigest;
  const previous = opts.reuseInstall ? await readRecord(recordFile) : undefined;

  if (matches(previous) && (await exists(disk))) {
    opts.progress(`${opts.firmware}: reusing the install on ${displayPath(disk)} (same ISO and answer templates)`);
    report.installSeconds = previous.installSeconds;
    report.logs.push(path.join(dir, 'install.serial.log'));
    await fs.rm(path.join(dir, 'oemdrv'), { recursive: true, force: true });
    await makeAnswerVolume(loaded, lock, dir, log);
  } else {
    await fs.rm(dir, { recursive: true, force: true });
    await fs.mkdir(dir, { recursive: true });
    await run(log, 'qemu-img', ['create', '-q', '-f', 'qcow2', disk, '20G'], { purpose: 'creating the blank disk' });
    const oemdrv = await makeAnswerVolume(loaded, lock, dir, log);
    if (varsFile) await fs.copyFile(ovmf.vars, varsFile);
    opts.progress(`${opts.firmware}: installing from the ISO (TCG)`);
    const installLog = path.join(dir, 'install.serial.log');
    report.logs.push(installLog);
    const install = await runQemu({
      firmware: opts.firmware,
      varsFile,
      disks: [{ file: disk, format: 'qcow2' }, { file: oemdrv, format: 'raw' }],
      cdrom: opts.iso,
      bootFromCdrom: true,
      serialLog: installLog,
      timeoutMs: opts.installTimeoutMs,
      stopWhen: /XCP_INSTALL_RC=1/,
    });
    report.installSeconds = install.seconds;
    const failedStep = /FAILED at step '([^']+)': (.*)/.exec(install.text);
    if (!/XCP_INSTALL_RC=0/.test(install.text)) {
      report.failure = failedStep
        ? `installer failed at step '${failedStep[1]}': ${failedStep[2]}`
        : install.timedOut
          ? `the install did not finish within ${opts.installTimeoutMs / 60000} min`
          : `the install ended without success (QEMU exit ${install.exitCode})`;
      report.checks = parseChecks('', opts.firmware);
      return report;
    }
    const record: InstallRecord = { iso: opts.iso, isoSize: isoStat.size, isoMtimeMs: isoStat.mtimeMs, answers: answersDigest, installSeconds: install.seconds };
    await writeFileAtomic(recordFile, JSON.stringify(record, null, 1) + '\n');
  }

  // The first boot writes to an overlay, so the installed disk stays as the installer left it.
  const overlay = path.join(dir, 'first-boot.qcow2');
  await fs.rm(overlay, { force: true });
  await run(log, 'qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'disk.qcow2', '-F', 'qcow2', overlay], { purpose: 'creating the first-boot overlay', cwd: dir });
  let bootVars = varsFile;
  if (varsFile) {
    bootVars = path.join(dir, 'OVMF_VARS.first-boot.fd');
    await fs.copyFile(varsFile, bootVars);
  }
  opts.progress(`${opts.firmware}: first boot from the disk into Xen and dom0`);
  const bootLog = path.join(dir, 'boot.serial.log');
  report.logs.push(bootLog);
  const boot = await runQemu({
    firmware: opts.firmware,
    varsFile: bootVars,
    disks: [{ file: overlay, format: 'qcow2' }, { file: path.join(dir, 'oemdrv.img'), format: 'raw', readonly: true }],
    bootFromCdrom: false,
    serialLog: bootLog,
    timeoutMs: opts.bootTimeoutMs,
    stopWhen: /XCP_CHECKS_DONE[\s\S]*(Entering ACPI S5|Hardware Dom0 halted|reboot: Power down)/,
  });
  report.bootSeconds = boot.seconds;
  report.checks = parseChecks(boot.text, opts.firmware);
  if (!/XCP_CHECKS_DONE/.test(boot.text)) {
    report.failure = boot.timedOut ? `the first boot did not finish its checks within ${opts.bootTimeoutMs / 60000} min` : 'the first boot ended before the checks finished';
  }
  report.ok = !report.failure && report.checks.every((c) => c.ok);
  if (!report.ok && !report.failure) report.failure = `failed checks: ${report.checks.filter((c) => !c.ok).map((c) => c.name).join(', ')}`;
  return report;
}

/** The installed disk depends on the answer file and late command, not on the checks run at first boot. */
async function answerTemplatesDigest(): Promise<string> {
  const tpl = templateDir('boot-test');
  return hashValue(await Promise.all(['answers.cfg.hbs', ...installTimeFiles].map((f) => fs.readFile(path.join(tpl, f), 'utf8'))));
}

async function readRecord(file: string): Promise<InstallRecord | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as InstallRecord;
  } catch {
    return undefined;
  }
}

export function formatReport(reports: BootTestReport[]): string[] {
  const lines = [`${'firmware'.padEnd(8)} ${'check'.padEnd(16)} ${'result'.padEnd(6)} ${'time'.padStart(8)}  detail`];
  for (const r of reports) {
    const installed = r.bootSeconds > 0;
    lines.push(`${r.firmware.padEnd(8)} ${'install'.padEnd(16)} ${(installed ? 'ok' : 'FAIL').padEnd(6)} ${`${r.installSeconds.toFixed(0)}s`.padStart(8)}  power-on → unattended install → powered off`);
    if (installed) lines.push(`${r.firmware.padEnd(8)} ${'first boot'.padEnd(16)} ${''.padEnd(6)} ${`${r.bootSeconds.toFixed(0)}s`.padStart(8)}  GRUB → Xen → dom0 → checks → powered off`);
    for (const c of r.checks) lines.push(`${r.firmware.padEnd(8)} ${c.name.padEnd(16)} ${(c.ok ? 'ok' : 'FAIL').padEnd(6)} ${c.time.padStart(8)}  ${c.detail.slice(0, 100)}`);
    if (r.failure) lines.push(`${r.firmware.padEnd(8)} → ${r.failure}`);
  }
  return lines;
}
