import { promises as fs, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { LoadedRecipe } from '../recipe/load';
import { Lock } from '../lock/file';
import { BuildLog } from '../util/log';
import { run } from '../util/proc';
import { render, templateDir } from '../util/templates';
import { Firmware, runQemu, ovmf } from './qemu';
import { hashValue, sha256File } from '../util/hash';
import { exists, writeFileAtomic } from '../util/fsutil';
import { materialiseLocked } from '../cache/materialise';
import { ownDirectory } from '../util/nofollow';
import { displayPath } from '../util/paths';
import { ContentStore } from '../cache/store';

/** A hash of a random password nobody knows: the test logs in through the check service, never with it. */
export const testRootHash = '$6$xcpboottest$E0cCRp1L/BdnWgj2T4GOh9EIPBZsak7wYss7FpWQ.xQQx0qww0hExhXBJYHxCfFRQYjXB.7s74MlkJ40FvyTf.';

/** Each firmware's install also tries one of the two bridge back-ends, so one run covers both. */
export const networkBackendOf: Record<Firmware, 'bridge' | 'openvswitch'> = { bios: 'bridge', uefi: 'openvswitch' };

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
  /** True when the install ran to its end (or a previous successful one was reused). */
  installed: boolean;
  bootSeconds: number;
  /** True when the first boot reached the end of its checks. */
  booted: boolean;
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
  store: ContentStore;
}

/** What a successful install run leaves next to its disk, so a later run can reuse it. */
export interface InstallRecord {
  /** The sha256 of the ISO installed from: a disk is reused only for the very same medium. */
  isoSha256: string;
  /** The digest of the answer file and the install-time check files. */
  answers: string;
  installSeconds: number;
}

/**
 * Files of templates/boot-test the install uses (through the answer file's late command);
 * check.sh is read from the OEMDRV volume only at first boot.
 */
const installTimeFiles = ['late.sh', 'run-checks.sh', 'xcp-boot-check.service', 'x86_xcp-tcg.xml'];

/** The rows the first boot must report, in the order check.sh runs them: the Kronos feature table. */
export const requiredChecks = [
  'xl-info',
  'xl-list',
  'virsh-list',
  'ovs-vsctl',
  'vm-volume-group',
  'pv-guest',
  'guest-network',
  'lv-disk',
  'pvh-guest',
  'nfs',
  'iscsi',
  'dpkg-versions',
  'extra-packages',
  'installer-log',
  'secrets',
];

/** Pinned packages that no metapackage depends on: in the repository, not in the image; the test installs them with pkgsel/include. */
export function extraPackages(loaded: LoadedRecipe): string[] {
  const inMeta = new Set(Object.values(loaded.recipe.metapackages).flatMap((m) => m.groups));
  return Object.entries(loaded.recipe.packages)
    .filter(([g]) => !inMeta.has(g))
    .flatMap(([, pins]) => pins.map((p) => p.name));
}

/** Builds the OEMDRV volume: the test answer file, the check service, what it expects, and the test-only servers. */
async function makeAnswerVolume(loaded: LoadedRecipe, lock: Lock, dir: string, firmware: Firmware, store: ContentStore, log: BuildLog): Promise<string> {
  const { recipe } = loaded;
  const files = path.join(dir, 'oemdrv');
  await fs.rm(files, { recursive: true, force: true });
  await fs.mkdir(files, { recursive: true });
  const tpl = templateDir('boot-test');
  const extras = extraPackages(loaded);
  await fs.writeFile(
    path.join(files, 'xcp-answers.cfg'),
    await render(path.join(tpl, 'answers.cfg.hbs'), {
      vg: recipe.iso!.vmVolumeGroup,
      rootHash: testRootHash,
      xenCmdline: recipe.iso!.xenCmdline,
      dom0Cmdline: recipe.iso!.dom0Cmdline,
      backend: networkBackendOf[firmware],
      extraPackages: extras.join(' '),
    }),
  );
  for (const f of [...installTimeFiles, 'check.sh', 'check-lib.sh']) await fs.copyFile(path.join(tpl, f), path.join(files, f));
  const xen = lock.packages.find((p) => p.name.startsWith('xen-hypervisor-'))?.version;
  const pinned = Object.values(recipe.packages).flat();
  const expect = [
    `xen ${xen?.replace(/[+~-].*$/, '') ?? ''}`,
    `vg ${recipe.iso!.vmVolumeGroup}`,
    `backend ${networkBackendOf[firmware]}`,
    `hash ${testRootHash}`,
    `extra ${extras.join(' ')}`,
    ...pinned.map((p) => `pkg ${p.name} ${lock.packages.find((l) => l.name === p.name)?.version ?? p.version}`),
  ];
  for (const [name, m] of Object.entries(recipe.metapackages)) expect.push(`pkg ${name} ${m.version}`);
  await fs.writeFile(path.join(files, 'expect.txt'), expect.join('\n') + '\n');
  if (lock.test?.length) {
    const debs = path.join(files, 'test-debs');
    await fs.mkdir(debs);
    await materialiseLocked(store, lock.test, debs, { layout: 'file name', what: 'the boot-test closure' });
  }
  return oemdrvVolume(files, path.join(dir, 'oemdrv.img'), log);
}

/**
 * A FAT volume labelled OEMDRV holding the files of `files`: what the installed
 * system's check service mounts and runs check.sh from at every boot.
 */
export async function oemdrvVolume(files: string, img: string, log: BuildLog): Promise<string> {
  await fs.rm(img, { force: true });
  const du = await run(log, 'du', ['-sk', files], { purpose: 'sizing the OEMDRV volume' });
  const kib = Math.max(8192, Math.ceil(Number(du.stdout.split('\t')[0]) * 1.2) + 2048);
  await run(log, 'mkfs.fat', ['-C', '-n', 'OEMDRV', img, String(kib)], { purpose: 'making the OEMDRV answer volume' });
  await run(log, 'mcopy', ['-s', '-i', img, ...(await fs.readdir(files)).map((f) => path.join(files, f)), '::/'], { purpose: 'filling the OEMDRV volume' });
  return img;
}

/** check.sh reports milliseconds ("210716ms"); the table shows seconds ("210.7 s"). */
export function checkTime(raw: string): string {
  const ms = /^(\d+)ms$/.exec(raw);
  return ms ? `${(Number(ms[1]) / 1000).toFixed(1)} s` : raw;
}

export function parseChecks(text: string, firmware: Firmware, required: readonly string[] = requiredChecks): CheckResult[] {
  const results = new Map<string, CheckResult>();
  for (const m of text.matchAll(/XCP_CHECK name=(\S+) rc=(\d+) seconds=(\S+) detail=(.*)/g)) {
    results.set(m[1], { firmware, name: m[1], ok: m[2] === '0', time: checkTime(m[3]), detail: m[4].replace(/\s+/g, ' ').trim() });
  }
  return required.map((name) => results.get(name) ?? { firmware, name, ok: false, time: '-', detail: 'no result (the check did not run)' });
}

/** Turns serial output into progress lines: the installer's steps and each check as it is reported. */
export function serialProgress(firmware: Firmware, progress: (t: string) => void): (line: string) => void {
  const seen = new Set<string>();
  return (line) => {
    // check.sh writes to the console and the kernel log, which both reach the serial port.
    const key = line.replace(/^\[\s*[\d.]+\]\s*/, '');
    if (seen.has(key)) return;
    seen.add(key);
    const installer = /xcp-installer: (.*)$/.exec(line);
    if (installer) return progress(`${firmware}: ${installer[1].trim()}`);
    const check = /XCP_CHECK name=(\S+) rc=(\d+) seconds=(\S+) detail=(.*)$/.exec(line);
    if (check) progress(`${firmware}: check ${check[1]}: ${check[2] === '0' ? 'ok' : 'FAIL'} (${checkTime(check[3])}) ${check[4].trim()}`);
  };
}

export type InstallKey = Omit<InstallRecord, 'installSeconds'>;

/** What identifies an install: the ISO by its content (never its path, size or time) and the answer files' digest. */
export async function installKey(iso: string, answers: string): Promise<InstallKey> {
  return { isoSha256: await sha256File(iso), answers };
}

/** Whether a disk installed as `previous` records is the install `key` asks for. */
export function reusable(previous: Partial<InstallRecord>, key: InstallKey): boolean {
  return previous.isoSha256 === key.isoSha256 && previous.answers === key.answers;
}

/** One firmware's run: its directory, disk and what identifies the install. */
export interface RunFiles {
  dir: string;
  disk: string;
  recordFile: string;
  varsFile?: string;
  /** What an install made for this run looks like: the ISO's content and the answer files. */
  key: InstallKey;
}

/**
 * Installs the appliance from the ISO onto a blank disk (run 1), then boots the
 * disk through its GRUB into Xen and dom0 (run 2), where the check service
 * reports each check on the serial console and powers off.
 */
export async function bootTest(loaded: LoadedRecipe, lock: Lock, opts: BootTestOptions, log: BuildLog): Promise<BootTestReport> {
  const report = emptyReport(opts.firmware);
  const files = await ensureInstalled(loaded, lock, opts, report, log);
  if (!files) return report;
  await firstBoot(opts, files, report, log);
  report.ok = !report.failure && report.checks.every((c) => c.ok);
  if (!report.ok && !report.failure) report.failure = `failed checks: ${report.checks.filter((c) => !c.ok).map((c) => c.name).join(', ')}`;
  return report;
}

export function emptyReport(firmware: Firmware): BootTestReport {
  return { firmware, ok: false, installSeconds: 0, installed: false, bootSeconds: 0, booted: false, checks: [], logs: [] };
}

/**
 * The installed disk of this ISO and answer files: reused when a previous install of
 * the same content is there (and opts.reuseInstall), else installed now. Undefined,
 * with the report's failure set, when the install failed.
 */
export async function ensureInstalled(loaded: LoadedRecipe, lock: Lock, opts: BootTestOptions, report: BootTestReport, log: BuildLog): Promise<RunFiles | undefined> {
  const files = await runFiles(loaded, lock, opts);
  const previous = opts.reuseInstall ? await readRecord(files.recordFile) : undefined;
  if (previous && reusable(previous, files.key) && (await exists(files.disk))) {
    opts.progress(`${opts.firmware}: reusing the install on ${displayPath(files.disk)} (same ISO content and answer files)`);
    report.installSeconds = previous.installSeconds;
    report.installed = true;
    report.logs.push(path.join(files.dir, 'install.serial.log'));
    await makeAnswerVolume(loaded, lock, files.dir, opts.firmware, opts.store, log);
    return files;
  }
  return (await installFromIso(loaded, lock, opts, files, report, log)) ? files : undefined;
}

async function runFiles(loaded: LoadedRecipe, lock: Lock, opts: BootTestOptions): Promise<RunFiles> {
  const dir = path.join(opts.workDir, opts.firmware);
  // out/<name>/boot-test and its firmware directory are xcpbuild's: a planted link there is refused, never removed through.
  await ownDirectory(opts.workDir, 'the boot-test directory');
  await ownDirectory(dir, 'the boot-test directory');
  opts.progress(`${opts.firmware}: hashing the ISO`);
  const key = await installKey(opts.iso, hashValue([await answerTemplatesDigest(), networkBackendOf[opts.firmware], extraPackages(loaded), lock.test ?? []]));
  return { dir, disk: path.join(dir, 'disk.qcow2'), recordFile: path.join(dir, 'installed.json'), varsFile: opts.firmware === 'uefi' ? path.join(dir, 'OVMF_VARS.fd') : undefined, key };
}

/** Run 1: the unattended install onto a blank disk; false (with the report's failure set) if it did not succeed. */
async function installFromIso(loaded: LoadedRecipe, lock: Lock, opts: BootTestOptions, f: RunFiles, report: BootTestReport, log: BuildLog): Promise<boolean> {
  await fs.rm(f.dir, { recursive: true, force: true });
  await fs.mkdir(f.dir, { recursive: true });
  await run(log, 'qemu-img', ['create', '-q', '-f', 'qcow2', f.disk, '20G'], { purpose: 'creating the blank disk' });
  const oemdrv = await makeAnswerVolume(loaded, lock, f.dir, opts.firmware, opts.store, log);
  if (f.varsFile) await fs.copyFile(ovmf.vars, f.varsFile);
  const installLog = path.join(f.dir, 'install.serial.log');
  opts.progress(`${opts.firmware}: installing from the ISO (QEMU TCG; network back-end ${networkBackendOf[opts.firmware]}); serial log ${displayPath(installLog)}`);
  report.logs.push(installLog);
  const install = await runQemu({
    firmware: opts.firmware,
    varsFile: f.varsFile,
    disks: [{ file: f.disk, format: 'qcow2' }, { file: oemdrv, format: 'raw' }],
    cdrom: opts.iso,
    bootFromCdrom: true,
    serialLog: installLog,
    timeoutMs: opts.installTimeoutMs,
    stopWhen: /XCP_INSTALL_RC=1/,
    onLine: serialProgress(opts.firmware, opts.progress),
  });
  report.installSeconds = install.seconds;
  if (!/XCP_INSTALL_RC=0/.test(install.text)) {
    const failedStep = /FAILED at step '(.+?)': (.*)/.exec(install.text);
    report.failure = failedStep
      ? `installer failed at step '${failedStep[1]}': ${failedStep[2]}`
      : install.timedOut
        ? `the install did not finish within ${opts.installTimeoutMs / 60000} min`
        : `the install ended without success (QEMU exit ${install.exitCode})`;
    report.checks = parseChecks('', opts.firmware);
    return false;
  }
  report.installed = true;
  const record: InstallRecord = { ...f.key, installSeconds: install.seconds };
  await writeFileAtomic(f.recordFile, JSON.stringify(record, null, 1) + '\n');
  return true;
}

/** Run 2: the installed disk (through an overlay, so it stays as the installer left it) boots into Xen and runs the checks. */
async function firstBoot(opts: BootTestOptions, f: RunFiles, report: BootTestReport, log: BuildLog): Promise<void> {
  const overlay = path.join(f.dir, 'first-boot.qcow2');
  await fs.rm(overlay, { force: true });
  await run(log, 'qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'disk.qcow2', '-F', 'qcow2', overlay], { purpose: 'creating the first-boot overlay', cwd: f.dir });
  let bootVars = f.varsFile;
  if (f.varsFile) {
    bootVars = path.join(f.dir, 'OVMF_VARS.first-boot.fd');
    await fs.rm(bootVars, { force: true });
    await fs.copyFile(f.varsFile, bootVars, fsConstants.COPYFILE_EXCL);
  }
  const bootLog = path.join(f.dir, 'boot.serial.log');
  opts.progress(`${opts.firmware}: first boot from the disk into Xen and dom0; serial log ${displayPath(bootLog)}`);
  report.logs.push(bootLog);
  const boot = await runQemu({
    firmware: opts.firmware,
    varsFile: bootVars,
    disks: [{ file: overlay, format: 'qcow2' }, { file: path.join(f.dir, 'oemdrv.img'), format: 'raw', readonly: true }],
    bootFromCdrom: false,
    serialLog: bootLog,
    timeoutMs: opts.bootTimeoutMs,
    stopWhen: /XCP_CHECKS_DONE[\s\S]*(Entering ACPI S5|Hardware Dom0 halted|reboot: Power down)/,
    onLine: serialProgress(opts.firmware, opts.progress),
  });
  report.bootSeconds = boot.seconds;
  report.checks = parseChecks(boot.text, opts.firmware);
  report.booted = /XCP_CHECKS_DONE/.test(boot.text);
  if (!report.booted) {
    report.failure = boot.timedOut ? `the first boot did not finish its checks within ${opts.bootTimeoutMs / 60000} min` : 'the first boot ended before the checks finished';
  }
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

/** The results as a table (one row per check, install and first boot included), ending with "N passed, N failed". */
export function formatReport(reports: BootTestReport[]): string[] {
  const rows: TableRow[] = [];
  for (const r of reports) {
    rows.push({ firmware: r.firmware, check: 'install', ok: r.installed, time: `${r.installSeconds.toFixed(0)} s`, detail: `power-on → unattended install → powered off (network back-end ${networkBackendOf[r.firmware]})` });
    if (r.installed) rows.push({ firmware: r.firmware, check: 'first boot', ok: r.booted, time: `${r.bootSeconds.toFixed(0)} s`, detail: 'GRUB → Xen → dom0 → checks → powered off' });
    for (const c of r.checks) rows.push({ firmware: r.firmware, check: c.name, ok: c.ok, time: c.time, detail: c.detail });
  }
  return resultTable(rows, reports);
}

export interface TableRow {
  firmware: string;
  check: string;
  ok: boolean;
  time: string;
  detail: string;
}

/** Rows as aligned columns, each report's failure, and "N passed, N failed". */
export function resultTable(rows: TableRow[], reports: { firmware: string; failure?: string }[]): string[] {
  const w = Math.max(5, ...rows.map((r) => r.check.length));
  const lines = [`${'firmware'.padEnd(8)} ${'check'.padEnd(w)} ${'result'.padEnd(6)} ${'time'.padStart(8)}  detail`];
  for (const r of rows) lines.push(`${r.firmware.padEnd(8)} ${r.check.padEnd(w)} ${(r.ok ? 'ok' : 'FAIL').padEnd(6)} ${r.time.padStart(8)}  ${r.detail.replace(/\t/g, ' ')}`);
  for (const r of reports) if (r.failure) lines.push(`${r.firmware}: ${r.failure}`);
  const passed = rows.filter((r) => r.ok).length;
  lines.push(`${passed} passed, ${rows.length - passed} failed`);
  return lines;
}
