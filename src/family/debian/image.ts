import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BuildContext } from '../../plan/types';
import { run } from '../../util/proc';
import { TemplateGrant } from '../../util/templates';
import { XcpError } from '../../errors';
import { keyringName } from '../../format/deb/apt-repo';
import { imageOutputs } from '../../iso/layout';
import { sha256File } from '../../util/hash';
import { shellQuote } from '../../util/text';
import { mountPointChain } from './mounts';
import { AptPaths } from '../../util/apt-path';

/**
 * zstd extracts about 8× faster than xz (2 s vs 15.5 s on one core for this root), and
 * every install pays the extraction. Level 9 against 15: 16 MB more on the medium for
 * 41 s less per cold build; 1 MiB blocks instead of 128 KiB: 20 MB less and 3 s faster
 * (bench/image.sh has the whole table).
 */
export const IMAGE_COMPRESSION = ['-comp', 'zstd', '-Xcompression-level', '9', '-b', '1M'];

/** The mmdebstrap variant that lays down the recipe's base priorities. */
export function variantFor(priorities: string[]): string {
  return priorities.includes('standard') ? 'standard' : priorities.includes('important') ? 'important' : 'required';
}

/**
 * The installed system, made once at build time: mmdebstrap installs every metapackage
 * from the signed repository of the repo stage (signatures checked: signed-by, never
 * trusted=yes), with Debian's generic initramfs, the per-host state stripped (hooks in
 * templates/image/hooks), squashed with its file times clamped to SOURCE_DATE_EPOCH, and its
 * sha256 listed in a SHA256SUMS signed with the repository's key.
 */
export async function buildTargetImage(ctx: BuildContext, outDir: string, repoDir: string, templates: TemplateGrant): Promise<void> {
  const { recipe } = ctx.loaded;
  const lock = ctx.lock;
  if (!lock) throw new XcpError('no lock; run xcpbuild lock', 'invalidInput');
  const epoch = ctx.sourceDateEpoch();
  const work = path.join(outDir, '.work');
  const rootfs = path.join(work, 'rootfs');
  await fs.mkdir(work, { recursive: true });
  const packagesFile = path.join(work, 'packages.txt');
  const keyring = keyringName(recipe);
  const component = recipe.repository.components[0];

  ctx.progress('installing the target system from the signed repository (mmdebstrap)');
  const paths = new AptPaths();
  const aptRepo = await paths.of(repoDir);
  try {
    await mmdebstrapImage(ctx, { rootfs, repoDir, aptRepo, keyring, packagesFile, epoch, component, hooks: templates.file('templates/image', 'hooks') });
  } finally {
    await paths.dispose();
  }


  ctx.progress('checking the image against the lock');
  const metaGroups = new Set(Object.values(recipe.metapackages).flatMap((m) => m.groups));
  await checkInstalled(
    await fs.readFile(packagesFile, 'utf8'),
    [
      ...lock.packages.map((p) => `${p.name} ${p.version} ${p.architecture}`),
      ...Object.entries(recipe.metapackages).map(([name, m]) => `${name} ${m.version} all`),
      ...Object.entries(recipe.sources ?? {}).map(([name, src]) => `${name} ${src.version} all`),
    ],
    [
      ...Object.entries(recipe.packages)
        .filter(([g]) => metaGroups.has(g))
        .flatMap(([, pins]) => pins.map((p) => p.name)),
      ...Object.keys(recipe.metapackages),
    ],
  );

  ctx.progress('compressing the image (mksquashfs, zstd)');
  const image = path.join(outDir, imageOutputs.image);
  // With SOURCE_DATE_EPOCH, mksquashfs sets the creation time to it and clamps every file time.
  await run(ctx.log, 'mksquashfs', [rootfs, image, ...IMAGE_COMPRESSION, '-noappend', '-no-progress', '-quiet'], {
    env: { SOURCE_DATE_EPOCH: String(epoch) },
    purpose: 'mksquashfs of the target image',
  });
  await fs.copyFile(packagesFile, path.join(outDir, imageOutputs.packages));

  ctx.progress('signing the image checksum');
  const sums = path.join(outDir, imageOutputs.sums);
  await fs.writeFile(sums, `${await sha256File(image)}  ${imageOutputs.image}\n`);
  const key = await ctx.signingKey();
  await key.detachSign(sums, path.join(outDir, imageOutputs.sumsSignature), key.signingTimeFor(epoch));
  await fs.rm(work, { recursive: true, force: true });
}

/**
 * Nothing installed that the lock does not name at that version, every metapackage and
 * every package they pin installed, all fully configured. (Pinned packages no
 * metapackage depends on are in the repository only, for pkgsel/include.)
 */
async function checkInstalled(installed: string, locked: string[], required: string[]): Promise<void> {
  const have = new Set<string>();
  const names = new Set<string>();
  const notOk: string[] = [];
  for (const line of installed.trim().split('\n')) {
    const [name, version, arch, status] = line.split(' ');
    if (status !== 'ii') notOk.push(`${name} is in state ${status}`);
    have.add(`${name} ${version} ${arch}`);
    names.add(name);
  }
  const lockedSet = new Set(locked);
  const missing = required.filter((n) => !names.has(n));
  const extra = [...have].filter((h) => !lockedSet.has(h));
  const problems = [...notOk, ...missing.map((m) => `pinned but not installed: ${m}`), ...extra.map((e) => `installed but not locked (at this version): ${e}`)];
  if (problems.length) throw new XcpError(`the target image does not match the lock: ${problems[0]}`, 'build', problems.slice(1, 20));
}

interface ImageRun {
  rootfs: string;
  repoDir: string;
  /** The repository as apt is given it (a plain-named link where repoDir has a space or the like). */
  aptRepo: string;
  keyring: string;
  packagesFile: string;
  epoch: number;
  component: string;
  hooks: string;
}

/** mmdebstrap installs the metapackages from the signed repository into `rootfs`. */
async function mmdebstrapImage(ctx: BuildContext, r: ImageRun): Promise<void> {
  const { recipe } = ctx.loaded;
  const { rootfs, repoDir, aptRepo, keyring, packagesFile, epoch, component } = r;
  await run(
    ctx.log,
    'mmdebstrap',
    [
      '--mode=root',
      `--variant=${variantFor(recipe.base.priorities)}`,
      `--include=${Object.keys(recipe.metapackages).join(',')}`,
      '--aptopt=Acquire::Languages "none"',
      '--hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount',
      `--hook-dir=${r.hooks}`,
      `--customize-hook=for d in ${mountPointChain(aptRepo).map((d) => `"$1"${shellQuote(d)}`).join(' ')}; do [ -d "$d" ] || continue; rmdir "$d" || break; done`,
      recipe.target.release,
      rootfs,
      `deb [signed-by=${path.join(aptRepo, keyring)}] file://${aptRepo} ${recipe.repository.codename} ${component}`,
    ],
    {
      env: { SOURCE_DATE_EPOCH: String(epoch), XCP_REPO_DIR: repoDir, XCP_KEYRING: keyring, XCP_RECIPE: recipe.name, XCP_IMAGE_PACKAGES: packagesFile },
      purpose: 'mmdebstrap of the target image',
      isolate: true,
      onLine: (l) => /^I: /.test(l) && ctx.progress(`mmdebstrap: ${l.slice(3)}`),
    },
  );
}
