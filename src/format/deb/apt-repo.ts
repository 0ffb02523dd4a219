import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Recipe } from '../../recipe/schema';
import { Lock } from '../../lockfile';
import { BuildLog } from '../../util/log';
import { run } from '../../util/proc';
import { render, templateDir } from '../../util/templates';
import { ContentStore } from '../../cache/store';
import { SigningKey } from '../../signing/gpg';
import { XcpError } from '../../errors';

/** Only strong checksums in the indexes: apt verifies SHA256 and ignores MD5/SHA1. */
const hashOptions = ['MD5', 'SHA1'].flatMap((h) => ['-o', `APT::FTPArchive::${h}=false`, '-o', `APT::FTPArchive::Release::${h}=false`]);

export function keyringName(recipe: Recipe): string {
  return `${recipe.name}-archive-keyring.gpg`;
}

/** Where a built metapackage goes in the pool: pool/<component>/<initial>/<name>/<file>. */
export function metaPoolPath(component: string, name: string, file: string): string {
  const initial = name.startsWith('lib') ? name.slice(0, 4) : name[0];
  return `pool/${component}/${initial}/${name}/${file}`;
}

/** Links a file into the repository tree (falling back to a copy across filesystems). */
async function place(src: string, dest: string): Promise<void> {
  await fs.mkdir(path.dirname(dest), { recursive: true });
  try {
    await fs.link(src, dest);
  } catch {
    await fs.copyFile(src, dest);
  }
}

export interface PublishInput {
  recipe: Recipe;
  lock: Lock;
  store: ContentStore;
  metaDebs: string[];
  key: SigningKey;
  epoch: number;
  log: BuildLog;
}

/**
 * Lays out pool/ and dists/ for the whole locked closure plus the metapackages,
 * indexes it with apt-ftparchive and signs Release with the recipe's key.
 */
export async function publishAptRepo(root: string, input: PublishInput): Promise<void> {
  const { recipe, lock, store, metaDebs, key, epoch, log } = input;
  const component = recipe.repository.components[0];
  const arch = recipe.target.architecture;
  const placed = new Map<string, string>();
  for (const pkg of lock.packages) {
    const dest = path.join(root, pkg.filename);
    if (placed.has(pkg.filename) && placed.get(pkg.filename) !== pkg.sha256) {
      throw new XcpError(`two locked files want the pool path ${pkg.filename}`, 'build');
    }
    if (!(await store.looksIntact(pkg.sha256))) {
      throw new XcpError(`${pkg.name} ${pkg.version} is not in the cache (or changed since it was verified); run xcpbuild fetch`, 'build');
    }
    placed.set(pkg.filename, pkg.sha256);
    await place(store.pathOf(pkg.sha256), dest);
  }
  for (const deb of metaDebs) {
    const name = path.basename(deb).split('_')[0];
    await place(deb, path.join(root, metaPoolPath(component, name, path.basename(deb))));
  }

  const distDir = path.join(root, 'dists', recipe.repository.codename);
  const binDir = path.join(distDir, component, `binary-${arch}`);
  await fs.mkdir(binDir, { recursive: true });
  const packages = await run(log, 'apt-ftparchive', [...hashOptions, 'packages', 'pool'], { cwd: root, purpose: 'apt-ftparchive packages', logStdout: false });
  if (!packages.stdout.trim()) throw new XcpError('apt-ftparchive indexed no packages', 'build');
  await fs.writeFile(path.join(binDir, 'Packages'), packages.stdout);
  await fs.writeFile(path.join(binDir, 'Packages.gz'), gzipSync(Buffer.from(packages.stdout), { level: 9 }));
  await run(log, 'xz', ['-9', '--keep', '--threads=1', path.join(binDir, 'Packages')], { purpose: 'compressing Packages' });

  const date = new Date(epoch * 1000).toUTCString().replace('GMT', 'UTC');
  const fields: Record<string, string> = {
    Origin: recipe.repository.origin,
    Label: recipe.repository.label,
    Suite: recipe.repository.codename,
    Codename: recipe.repository.codename,
    Architectures: arch,
    Components: component,
    Description: recipe.repository.description,
    Date: date,
  };
  const release = await run(
    log,
    'apt-ftparchive',
    [...hashOptions, ...Object.entries(fields).flatMap(([k, v]) => ['-o', `APT::FTPArchive::Release::${k}=${v}`]), 'release', '.'],
    { cwd: distDir, purpose: 'apt-ftparchive release' },
  );
  await fs.writeFile(path.join(distDir, 'Release'), release.stdout);
  await key.clearsign(path.join(distDir, 'Release'), path.join(distDir, 'InRelease'));
  await key.detachSign(path.join(distDir, 'Release'), path.join(distDir, 'Release.gpg'));

  const keyring = keyringName(recipe);
  await key.exportPublic(path.join(root, keyring), false);
  await key.exportPublic(path.join(root, keyring.replace(/\.gpg$/, '.asc')), true);
  const sources = await render(path.join(templateDir('repo'), 'sources.hbs'), {
    description: recipe.repository.description,
    url: recipe.repository.url,
    codename: recipe.repository.codename,
    components: component,
    architectures: arch,
    keyringName: keyring,
  });
  await fs.writeFile(path.join(root, `${recipe.name}.sources`), sources);
  await clampMtimes(root, epoch);
}

async function clampMtimes(dir: string, epoch: number): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      await clampMtimes(full, epoch);
      await fs.utimes(full, epoch, epoch);
    } else if (!full.includes('/pool/')) {
      await fs.utimes(full, epoch, epoch);
    }
  }
}
