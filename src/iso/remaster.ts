import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BuildContext } from '../plan/types';
import { BuildLog } from '../util/log';
import { run } from '../util/proc';
import { XcpError } from '../errors';
import { printable } from '../util/text';
import { confine } from '../util/fsutil';
import { sha256File } from '../util/hash';
import { renderKickstart } from '../kickstart/render';
import { isoFileName, xorrisoTime } from './build-iso';

/** The lines that carry the kernel command line: isolinux/syslinux APPEND (any case), GRUB linux/linuxefi. */
const KERNEL_LINE = { syslinux: /^(\s*)(append)(\s+\S.*)$/i, grub: /^(\s*)(linux|linuxefi)(\s+\S.*)$/ };
export type BootConfigKind = keyof typeof KERNEL_LINE;

export function configKind(file: string): BootConfigKind {
  return /grub/i.test(path.basename(file)) ? 'grub' : 'syslinux';
}

/** `inst.ks=hd:LABEL=…:/ks.cfg`: Anaconda's syntax escapes a space in a label as \x20. */
export function ksArgument(label: string): string {
  return `inst.ks=hd:LABEL=${label.replace(/ /g, '\\x20')}:/ks.cfg`;
}

/**
 * Adds the kickstart argument to every kernel command line of a boot config
 * (idempotent: an earlier inst.ks= is replaced).
 */
export function addKickstart(config: string, label: string, kind: BootConfigKind): { text: string; changed: number } {
  let changed = 0;
  const text = config
    .split('\n')
    .map((line) => {
      const m = KERNEL_LINE[kind].exec(line);
      if (!m) return line;
      changed++;
      const args = m[3].replace(/\s+inst\.ks=\S+/g, '');
      return `${m[1]}${m[2]}${args} ${ksArgument(label)}`;
    })
    .join('\n');
  return { text, changed };
}

/** Splits xorriso's `-report_el_torito as_mkisofs` output into arguments (single-quoted words as one). */
export function parseMkisofsReport(report: string): string[] {
  const args: string[] = [];
  for (const line of report.split('\n')) {
    const re = /'((?:[^']|'\\'')*)'|([^\s']+)/g;
    let m: RegExpExecArray | null;
    let word = '';
    let last = -1;
    while ((m = re.exec(line))) {
      const part = m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2];
      if (last === m.index) word += part;
      else {
        if (last !== -1) args.push(word);
        word = part;
      }
      last = re.lastIndex;
    }
    if (last !== -1) args.push(word);
  }
  return args;
}

async function filesNamed(dir: string, names: Set<string>): Promise<string[]> {
  const found: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) found.push(...(await filesNamed(full, names)));
    else if (e.isFile() && names.has(e.name)) found.push(full);
  }
  return found;
}

/**
 * Remasters a vendor boot ISO the mkksiso way: the kickstart at /ks.cfg and the signed
 * repository at /repo are added, `inst.ks=` goes into every BIOS and UEFI boot config
 * (those inside the EFI boot image too, which is rebuilt rather than reused), and the
 * ISO is written again with the base's own El Torito and hybrid boot setup.
 */
export async function remasterIso(ctx: BuildContext, outDir: string, base: RemasterBase): Promise<string> {
  const work = path.join(outDir, '.work');
  const tree = path.join(work, 'tree');
  await fs.mkdir(work, { recursive: true });
  ctx.progress('reading the base ISO');
  const setup = await readBootSetup(ctx.log, base.iso);
  ctx.progress('unpacking the base ISO');
  await run(ctx.log, 'xorriso', ['-osirrox', 'on', '-indev', base.iso, '-extract', '/', tree], { purpose: 'unpacking the base ISO', logStdout: false });
  await run(ctx.log, 'chmod', ['-R', 'u+w', tree], { purpose: 'making the tree writable' });
  ctx.progress('adding the kickstart and the repository');
  await fs.writeFile(path.join(tree, 'ks.cfg'), await renderKickstart(ctx.loaded.recipe, base.kickstartDir));
  await fs.rm(path.join(tree, 'repo'), { recursive: true, force: true });
  await run(ctx.log, 'cp', ['-al', base.repoDir, path.join(tree, 'repo')], { purpose: 'linking the repository onto the medium' });
  await fs.rm(path.join(tree, 'repo', '.xcpbuild-stage.json'), { force: true });
  const edited = (await addKickstartToTree(tree, setup.label)) + (await addKickstartToEfiImage(ctx.log, tree, setup));
  if (!edited) throw new XcpError(`${base.iso}: no boot entry found to add the kickstart to (no APPEND lines in isolinux.cfg, no linux lines in grub.cfg)`, 'invalidInput');
  ctx.notes.push(`iso: remastered ${path.basename(base.iso)}: inst.ks= added to ${edited} boot entr${edited === 1 ? 'y' : 'ies'}, /ks.cfg and /repo added`);
  ctx.progress('writing the ISO (xorriso)');
  const out = await writeRemastered(ctx, outDir, tree, setup.bootArgs);
  await fs.rm(work, { recursive: true, force: true });
  return out;
}

/** What a remaster starts from: the vendor ISO, the published repository, the kickstart templates. */
export interface RemasterBase {
  iso: string;
  repoDir: string;
  kickstartDir: string;
}

interface BootSetup {
  iso: string;
  label: string;
  /** The base's El Torito and hybrid setup as mkisofs options. */
  bootArgs: string[];
  /** The EFI boot image's path inside the tree. */
  efiImg: string;
}

/** The base's volume label and boot setup (xorriso -report_el_torito as_mkisofs). */
async function readBootSetup(log: BuildLog, baseIso: string): Promise<BootSetup> {
  const pvd = await run(log, 'xorriso', ['-indev', baseIso, '-pvd_info'], { purpose: 'reading the base ISO', failAs: 'invalidInput', logStdout: false });
  const label = /^Volume Id\s*:\s*(.*)$/m.exec(pvd.stdout)?.[1]?.trim();
  if (!label) throw new XcpError(`${baseIso} has no volume label; Anaconda finds the kickstart by it`, 'invalidInput');
  const report = await run(log, 'xorriso', ['-indev', baseIso, '-report_el_torito', 'as_mkisofs'], { purpose: 'reading the boot setup of the base ISO', failAs: 'invalidInput', logStdout: false });
  const bootArgs = parseMkisofsReport(report.stdout);
  const efiAt = bootArgs.indexOf('-e');
  if (!bootArgs.includes('-b') || efiAt < 0) throw new XcpError(`${baseIso} is not a hybrid BIOS and UEFI boot ISO (no El Torito BIOS and EFI images)`, 'invalidInput');
  const efiPath = bootArgs[efiAt + 1];
  if (efiPath.startsWith('--interval:')) throw new XcpError(`${baseIso} keeps its EFI image in an appended partition; only ISOs whose EFI image is a file (e.g. images/efiboot.img) are remastered`, 'invalidInput');
  // mtools expands $NAME in file names: the image is named by a plain path inside the tree.
  const efiImg = efiPath.replace(/^\/+/, '');
  if (!/^[A-Za-z0-9._/-]+$/.test(efiImg)) throw new XcpError(`${baseIso}: its EFI boot image has an unusual path "${printable(efiImg)}"; refused`, 'invalidInput');
  return { iso: baseIso, label, bootArgs, efiImg };
}

/** inst.ks= in every isolinux and GRUB config on the ISO9660 tree; returns how many entries changed. */
async function addKickstartToTree(tree: string, label: string): Promise<number> {
  let edited = 0;
  for (const cfg of await filesNamed(tree, new Set(['isolinux.cfg', 'syslinux.cfg', 'grub.cfg']))) {
    const { text, changed } = addKickstart(await fs.readFile(cfg, 'utf8'), label, configKind(cfg));
    if (changed) await fs.writeFile(cfg, text);
    edited += changed;
  }
  return edited;
}

/** The EFI image is a FAT file system with configs of its own (Fedora's EFI/BOOT/grub.cfg): edited in place. */
async function addKickstartToEfiImage(log: BuildLog, tree: string, setup: BootSetup): Promise<number> {
  const { efiImg, label } = setup;
  confine(tree, efiImg, 'the EFI boot image of the base ISO');
  const mtools = { cwd: tree };
  const listing = await run(log, 'mdir', ['-i', efiImg, '-/', '-b', '::/'], { ...mtools, purpose: 'listing the EFI boot image', logStdout: false });
  const local = path.join(tree, '.xcpbuild-efi.cfg');
  let edited = 0;
  for (const inImage of listing.stdout.split('\n').map((f) => f.trim()).filter((f) => /\.cfg$/.test(f))) {
    await run(log, 'mcopy', ['-o', '-i', efiImg, inImage, path.basename(local)], { ...mtools, purpose: `reading ${inImage} from the EFI image` });
    const { text, changed } = addKickstart(await fs.readFile(local, 'utf8'), label, configKind(inImage));
    if (!changed) continue;
    await fs.writeFile(local, text);
    await run(log, 'mcopy', ['-o', '-m', '-i', efiImg, path.basename(local), inImage], { ...mtools, purpose: `writing ${inImage} into the EFI image` });
    edited += changed;
  }
  await fs.rm(local, { force: true });
  return edited;
}

/** The base's boot setup replayed, with its MBR taken from the base file and the EFI image from the edited tree. */
async function writeRemastered(ctx: BuildContext, outDir: string, tree: string, bootArgs: string[]): Promise<string> {
  const epoch = ctx.sourceDateEpoch();
  const args: string[] = [];
  for (let i = 0; i < bootArgs.length; i++) {
    const a = bootArgs[i];
    if (a.startsWith('--modification-date=')) continue;
    // The EFI image changed size: xorriso computes its load size again.
    if (a === '-boot-load-size' && bootArgs.slice(0, i).lastIndexOf('-e') > bootArgs.slice(0, i).lastIndexOf('-b')) {
      i++;
      continue;
    }
    args.push(a);
  }
  const out = path.join(outDir, isoFileName(ctx.loaded.recipe));
  await run(ctx.log, 'xorriso', ['-as', 'mkisofs', '-o', out, '-iso-level', '3', '-full-iso9660-filenames', '-joliet', '-joliet-long', '-rational-rock', ...args, '--modification-date=' + xorrisoTime(epoch), '--set_all_file_dates', xorrisoTime(epoch), tree], {
    env: { SOURCE_DATE_EPOCH: String(epoch) },
    purpose: 'xorriso (remaster)',
  });
  await fs.writeFile(`${out}.sha256`, `${await sha256File(out)}  ${path.basename(out)}\n`);
  return out;
}
