import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BuildContext } from '../plan/types';
import { run } from '../util/proc';
import { render, TemplateGrant } from '../util/templates';
import { XcpError } from '../errors';
import { installerOutputs, imageOutputs } from './layout';
import { sha256File } from '../util/hash';
import { Recipe } from '../recipe/schema';

export function isoFileName(recipe: Recipe): string {
  return `${recipe.name}-${recipe.version}-${recipe.target.architecture}.iso`;
}

interface BootEntry {
  id: string;
  label: string;
  args: string;
}

/** The boot menu: Install, Automated install and Rescue shell, each also with a serial-console variant. */
export function bootEntries(recipe: Recipe): BootEntry[] {
  const base = 'boot=live components';
  const vga = 'console=ttyS0,115200n8 console=tty0';
  const serial = 'console=tty0 console=ttyS0,115200n8';
  const answers = `xcp.answers=/preseed/${recipe.name}.cfg`;
  const kinds = [
    { id: 'install', label: 'Install', extra: '' },
    { id: 'auto', label: 'Automated install (answer file)', extra: ` ${answers}` },
    { id: 'rescue', label: 'Rescue shell', extra: ' xcp.rescue' },
  ];
  return kinds.flatMap((k) => [
    { id: k.id, label: k.label, args: `${base}${k.extra} ${vga}` },
    { id: `${k.id}-serial`, label: `${k.label} (serial console)`, args: `${base}${k.extra} ${serial}` },
  ]);
}

/** YYYYMMDDhhmmss00 in UTC: xorriso's timestring for fixed file and volume dates. */
export function xorrisoTime(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14) + '00';
}

export interface IsoInputs {
  repoDir: string;
  imageDir: string;
  installerDir: string;
  /** Grants isolinux, templates/grub and preseed. */
  templates: TemplateGrant;
}

/** Links a stage output into the (temporary) tree of the medium. */
async function place(src: string, dest: string): Promise<void> {
  await fs.link(src, dest).catch(() => fs.copyFile(src, dest));
}

/** Assembles the hybrid BIOS+UEFI ISO (isolinux, GRUB in an El Torito FAT image, isohybrid MBR+GPT). */
export async function buildIso(ctx: BuildContext, outDir: string, inputs: IsoInputs): Promise<string> {
  const { recipe } = ctx.loaded;
  if (!recipe.iso) throw new XcpError(`recipe ${recipe.name} has no iso: section`, 'invalidInput');
  const medium: Medium = { tree: path.join(outDir, '.tree'), work: path.join(outDir, '.work'), epoch: ctx.sourceDateEpoch(), inputs };
  await fs.mkdir(medium.work, { recursive: true });
  ctx.progress('laying out the medium');
  await layOutMedium(ctx, medium);
  await writeBootMenus(recipe, medium);
  await writeAnswerFile(recipe, medium);
  ctx.progress('making the UEFI boot image');
  await makeEfiImage(ctx, recipe.iso, medium);
  ctx.progress('writing the ISO (xorriso)');
  const out = await writeIso(ctx, recipe, medium);
  await fs.rm(medium.tree, { recursive: true, force: true });
  await fs.rm(medium.work, { recursive: true, force: true });
  return out;
}

/** The medium's tree and scratch space while it is assembled. */
interface Medium {
  tree: string;
  work: string;
  epoch: number;
  inputs: IsoInputs;
}

/** The live system (installer layer over the image) and the repository, linked into the tree. */
async function layOutMedium(ctx: BuildContext, m: Medium): Promise<void> {
  const { tree, inputs } = m;
  await fs.mkdir(path.join(tree, 'live'), { recursive: true });
  for (const f of [installerOutputs.kernel, installerOutputs.initrd, installerOutputs.layer]) await place(path.join(inputs.installerDir, f), path.join(tree, 'live', f));
  for (const f of [imageOutputs.image, imageOutputs.sums, imageOutputs.sumsSignature]) await place(path.join(inputs.imageDir, f), path.join(tree, 'live', f));
  // live-boot stacks the listed images in this order (the last on top): the installer's layer over the target image.
  await fs.writeFile(path.join(tree, 'live', 'filesystem.module'), `${imageOutputs.image}\n${installerOutputs.layer}\n`);
  await run(ctx.log, 'cp', ['-al', inputs.repoDir, path.join(tree, 'repo')], { purpose: 'linking the repository onto the medium' });
  await fs.rm(path.join(tree, 'repo', '.xcpbuild-stage.json'), { force: true });
  await fs.mkdir(path.join(tree, 'isolinux'));
  for (const f of ['isolinux.bin', 'ldlinux.c32', 'libcom32.c32', 'libutil.c32', 'menu.c32']) {
    await fs.copyFile(path.join(inputs.installerDir, installerOutputs.isolinux, f), path.join(tree, 'isolinux', f));
  }
}

/** The isolinux and GRUB menus, with the same entries. */
async function writeBootMenus(recipe: Recipe, m: Medium): Promise<void> {
  const iso = recipe.iso!;
  const title = `${recipe.name} ${recipe.version}`;
  const entries = bootEntries(recipe);
  const t = m.inputs.templates;
  await fs.writeFile(path.join(m.tree, 'isolinux', 'isolinux.cfg'), await render(t.file('isolinux', 'isolinux.cfg.hbs'), { title, timeoutDeciseconds: iso.timeout * 10, entries }));
  await fs.mkdir(path.join(m.tree, 'boot', 'grub'), { recursive: true });
  await fs.writeFile(path.join(m.tree, 'boot', 'grub', 'grub.cfg'), await render(t.file('templates/grub', 'grub.cfg.hbs'), { title, timeout: iso.timeout, entries }));
}

/** The automated install's answer file, preseed/<name>.cfg. */
async function writeAnswerFile(recipe: Recipe, m: Medium): Promise<void> {
  const iso = recipe.iso!;
  await fs.mkdir(path.join(m.tree, 'preseed'));
  await fs.writeFile(
    path.join(m.tree, 'preseed', `${recipe.name}.cfg`),
    await render(m.inputs.templates.file('preseed', 'appliance.cfg.hbs'), {
      recipe: recipe.name,
      version: recipe.version,
      vg: iso.vmVolumeGroup,
      hostname: recipe.name,
      xenCmdline: iso.xenCmdline,
      dom0Cmdline: iso.dom0Cmdline,
      rootPasswordHash: iso.rootPasswordHash,
      sshKeys: iso.sshAuthorizedKeys ?? [],
    }),
  );
}

/** GRUB's EFI binary (grub-mkimage) on the tree and inside the El Torito FAT image. */
async function makeEfiImage(ctx: BuildContext, iso: NonNullable<Recipe['iso']>, m: Medium): Promise<void> {
  const { tree, work, epoch, inputs } = m;
  const env = { SOURCE_DATE_EPOCH: String(epoch) };
  const early = path.join(work, 'early.cfg');
  await fs.writeFile(early, await render(inputs.templates.file('templates/grub', 'early.cfg.hbs'), { label: iso.volumeLabel }));
  const bootx64 = path.join(work, 'BOOTX64.EFI');
  const modules = ['part_gpt', 'part_msdos', 'fat', 'iso9660', 'search', 'search_label', 'normal', 'configfile', 'linux', 'echo', 'test', 'serial', 'terminal', 'all_video', 'boot', 'ls', 'cat', 'minicmd'];
  await run(ctx.log, 'grub-mkimage', ['-O', 'x86_64-efi', '-d', path.join(inputs.installerDir, installerOutputs.grubEfi), '-p', '/boot/grub', '-c', early, '-o', bootx64, ...modules], {
    env,
    purpose: 'grub-mkimage for the UEFI boot image',
  });
  await fs.utimes(bootx64, epoch, epoch);
  const efiImg = path.join(tree, 'boot', 'grub', 'efi.img');
  const efiKiB = Math.ceil((await fs.stat(bootx64)).size / 1024) + 512;
  await run(ctx.log, 'mkfs.fat', ['-C', '--invariant', '-i', '58435042', '-n', 'XCPEFI', efiImg, String(efiKiB)], { env, purpose: 'mkfs.fat for the UEFI boot image' });
  await fs.mkdir(path.join(tree, 'EFI', 'BOOT'), { recursive: true });
  await fs.copyFile(bootx64, path.join(tree, 'EFI', 'BOOT', 'BOOTX64.EFI'));
  // mcopy -m keeps this file time inside the FAT image: the copy gets the source's.
  await fs.utimes(path.join(tree, 'EFI', 'BOOT', 'BOOTX64.EFI'), epoch, epoch);
  // mtools expands $NAME in file names: it is given names relative to the tree, which has plain names only.
  const mtools = { env, cwd: tree };
  await run(ctx.log, 'mmd', ['-i', 'boot/grub/efi.img', '::/EFI', '::/EFI/BOOT'], { ...mtools, purpose: 'mmd' });
  await run(ctx.log, 'mcopy', ['-m', '-i', 'boot/grub/efi.img', 'EFI/BOOT/BOOTX64.EFI', '::/EFI/BOOT/BOOTX64.EFI'], { ...mtools, purpose: 'mcopy' });
}

/** xorriso writes the hybrid ISO and its .sha256; the medium records how it was made, without this build's paths. */
async function writeIso(ctx: BuildContext, recipe: Recipe, m: Medium): Promise<string> {
  const iso = recipe.iso!;
  const { tree, epoch, inputs } = m;
  const title = `${recipe.name} ${recipe.version}`;
  const out = path.join(path.dirname(tree), isoFileName(recipe));
  const args = [
    '-as', 'mkisofs',
    '-o', out,
    '-iso-level', '3', '-full-iso9660-filenames', '-joliet', '-joliet-long', '-rational-rock',
    '-volid', iso.volumeLabel, '-publisher', iso.publisher, '-appid', `xcpbuild ${recipe.name} ${recipe.version}`, '-preparer', 'xcpbuild',
    '-isohybrid-mbr', path.join(inputs.installerDir, installerOutputs.isolinux, 'isohdpfx.bin'),
    '-eltorito-boot', 'isolinux/isolinux.bin', '-eltorito-catalog', 'isolinux/boot.cat', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table',
    '-eltorito-alt-boot', '-e', 'boot/grub/efi.img', '-no-emul-boot', '-isohybrid-gpt-basdat',
    '--modification-date=' + xorrisoTime(epoch), '--set_all_file_dates', xorrisoTime(epoch),
  ];
  // Like live-build, the medium records how it was made.
  await fs.mkdir(path.join(tree, '.disk'));
  await fs.writeFile(path.join(tree, '.disk', 'info'), `${title} amd64 (${new Date(epoch * 1000).toISOString().slice(0, 10)})\n`);
  const recorded = args.map((a) => (a === out ? '<iso>' : a.replace(inputs.installerDir, '<installer>')));
  await fs.writeFile(path.join(tree, '.disk', 'mkisofs'), `xorriso ${recorded.join(' ')} <tree>\n`);
  await run(ctx.log, 'xorriso', [...args, tree], { env: { SOURCE_DATE_EPOCH: String(epoch) }, purpose: 'xorriso' });
  await fs.writeFile(`${out}.sha256`, `${await sha256File(out)}  ${path.basename(out)}\n`);
  return out;
}
