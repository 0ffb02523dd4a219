import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BuildContext } from '../plan/types';
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
export async function remasterIso(ctx: BuildContext, outDir: string, baseIso: string, repoDir: string): Promise<string> {
  const { recipe } = ctx.loaded;
  const log = ctx.log;
  const epoch = ctx.sourceDateEpoch();
  const work = path.join(outDir, '.work');
  const tree = path.join(work, 'tree');
  await fs.mkdir(work, { recursive: true });

  ctx.progress('reading the base ISO');
  const pvd = await run(log, 'xorriso', ['-indev', baseIso, '-pvd_info'], { purpose: 'reading the base ISO', failAs: 'invalidInput', logStdout: false });
  const label = /^Volume Id\s*:\s*(.*)$/m.exec(pvd.stdout)?.[1]?.trim();
  if (!label) throw new XcpError(`${baseIso} has no volume label; Anaconda finds the kickstart by it`, 'invalidInput');
  const report = await run(log, 'xorriso', ['-indev', baseIso, '-report_el_torito', 'as_mkisofs'], { purpose: 'reading the boot setup of the base ISO', failAs: 'invalidInput', logStdout: false });
  const bootArgs = parseMkisofsReport(report.stdout);
  const efiAt = bootArgs.indexOf('-e');
  if (!bootArgs.includes('-b') || efiAt < 0) throw new XcpError(`${baseIso} is not a hybrid BIOS and UEFI boot ISO (no El Torito BIOS and EFI images)`, 'invalidInput');
  const efiPath = bootArgs[efiAt + 1];
  if (efiPath.startsWith('--interval:')) throw new XcpError(`${baseIso} keeps its EFI image in an appended partition; only ISOs whose EFI image is a file (e.g. images/efiboot.img) are remastered`, 'invalidInput');

  ctx.progress('unpacking the base ISO');
  await run(log, 'xorriso', ['-osirrox', 'on', '-indev', baseIso, '-extract', '/', tree], { purpose: 'unpacking the base ISO', logStdout: false });
  await run(log, 'chmod', ['-R', 'u+w', tree], { purpose: 'making the tree writable' });

  ctx.progress('adding the kickstart and the repository');
  await fs.writeFile(path.join(tree, 'ks.cfg'), await renderKickstart(recipe));
  await fs.rm(path.join(tree, 'repo'), { recursive: true, force: true });
  await run(log, 'cp', ['-al', repoDir, path.join(tree, 'repo')], { purpose: 'linking the repository onto the medium' });
  await fs.rm(path.join(tree, 'repo', '.xcpbuild-stage.json'), { force: true });

  let edited = 0;
  for (const cfg of await filesNamed(tree, new Set(['isolinux.cfg', 'syslinux.cfg', 'grub.cfg']))) {
    const { text, changed } = addKickstart(await fs.readFile(cfg, 'utf8'), label, configKind(cfg));
    if (changed) await fs.writeFile(cfg, text);
    edited += changed;
  }
  // The EFI image is a FAT file system with configs of its own (Fedora's EFI/BOOT/grub.cfg): edit them in place.
  // mtools expands $NAME in file names: it runs in the tree, given the image by its path there and a plain local name.
  const efiImg = efiPath.replace(/^\/+/, '');
  if (!/^[A-Za-z0-9._/-]+$/.test(efiImg)) throw new XcpError(`${baseIso}: its EFI boot image has an unusual path "${printable(efiImg)}"; refused`, 'invalidInput');
  confine(tree, efiImg, 'the EFI boot image of the base ISO');
  const mtools = { cwd: tree };
  const listing = await run(log, 'mdir', ['-i', efiImg, '-/', '-b', '::/'], { ...mtools, purpose: 'listing the EFI boot image', logStdout: false });
  for (const inImage of listing.stdout.split('\n').filter((f) => /\.cfg$/.test(f.trim()))) {
    const local = path.join(tree, '.xcpbuild-efi.cfg');
    await run(log, 'mcopy', ['-o', '-i', efiImg, inImage.trim(), path.basename(local)], { ...mtools, purpose: `reading ${inImage.trim()} from the EFI image` });
    const { text, changed } = addKickstart(await fs.readFile(local, 'utf8'), label, configKind(inImage.trim()));
    if (changed) {
      await fs.writeFile(local, text);
      await run(log, 'mcopy', ['-o', '-m', '-i', efiImg, path.basename(local), inImage.trim()], { ...mtools, purpose: `writing ${inImage.trim()} into the EFI image` });
      edited += changed;
    }
  }
  await fs.rm(path.join(tree, '.xcpbuild-efi.cfg'), { force: true });
  if (!edited) throw new XcpError(`${baseIso}: no boot entry found to add the kickstart to (no APPEND lines in isolinux.cfg, no linux lines in grub.cfg)`, 'invalidInput');
  ctx.notes.push(`iso: remastered ${path.basename(baseIso)}: inst.ks= added to ${edited} boot entr${edited === 1 ? 'y' : 'ies'}, /ks.cfg and /repo added`);

  // The base's boot setup, with its MBR taken from the base file and the EFI image from the edited tree.
  const args: string[] = [];
  for (let i = 0; i < bootArgs.length; i++) {
    const a = bootArgs[i];
    if (a === '--modification-date=' || a.startsWith('--modification-date=')) continue;
    // The EFI image changed size: xorriso computes its load size again.
    if (a === '-boot-load-size' && bootArgs.slice(0, i).lastIndexOf('-e') > bootArgs.slice(0, i).lastIndexOf('-b')) {
      i++;
      continue;
    }
    args.push(a);
  }
  const out = path.join(outDir, isoFileName(recipe));
  ctx.progress('writing the ISO (xorriso)');
  await run(log, 'xorriso', ['-as', 'mkisofs', '-o', out, '-iso-level', '3', '-full-iso9660-filenames', '-joliet', '-joliet-long', '-rational-rock', ...args, '--modification-date=' + xorrisoTime(epoch), '--set_all_file_dates', xorrisoTime(epoch), tree], {
    env: { SOURCE_DATE_EPOCH: String(epoch) },
    purpose: 'xorriso (remaster)',
  });
  await fs.writeFile(`${out}.sha256`, `${await sha256File(out)}  ${path.basename(out)}\n`);
  await fs.rm(work, { recursive: true, force: true });
  return out;
}
