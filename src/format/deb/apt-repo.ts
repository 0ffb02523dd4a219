import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Recipe } from '../../recipe/schema';
import { Lock } from '../../lock/file';
import { BuildLog } from '../../util/log';
import { run } from '../../util/proc';
import { hostSource } from '../../recipe/channels';
import { render } from '../../util/templates';
import { XcpError } from '../../errors';
import { confine } from '../../util/fsutil';
import { materialiseLocked } from '../../cache/materialise';
import { RepositoryInput } from '../common';
import { deb822Value } from '../../util/text';
import { parseDeb822 } from './deb822';
import { sha256File } from '../../util/hash';
import { RepositoryEntry } from '../types';

/** Only strong checksums in the indexes: apt verifies SHA256 and ignores MD5/SHA1. */
const hashOptions = ['MD5', 'SHA1'].flatMap((h) => ['-o', `APT::FTPArchive::${h}=false`, '-o', `APT::FTPArchive::Release::${h}=false`]);

/** apt-ftparchive reports unreadable or broken packages on stderr and still exits 0. */
const ftparchiveErrors = /^(E|W):/;

export function keyringName(recipe: Recipe): string {
  return `${recipe.name}-archive-keyring.gpg`;
}

/** Where a built metapackage goes in the pool: pool/<component>/<initial>/<name>/<file>. */
export function metaPoolPath(component: string, name: string, file: string): string {
  const initial = name.startsWith('lib') ? name.slice(0, 4) : name[0];
  return `pool/${component}/${initial}/${name}/${file}`;
}

export interface PublishInput extends RepositoryInput {
  metaDebs: string[];
}

/**
 * Lays out pool/ and dists/ for the whole locked closure plus the metapackages,
 * indexes it with apt-ftparchive and signs Release with the recipe's key. Pool files
 * are copies checked against the lock as they are copied, never links into the cache.
 */
export async function publishAptRepo(root: string, input: PublishInput): Promise<void> {
  await layOutPool(root, input);
  input.progress('indexing (apt-ftparchive)');
  const distDir = path.join(root, 'dists', input.recipe.repository.codename);
  await writePackagesIndex(root, distDir, input);
  await writeRelease(distDir, input);
  input.progress('signing');
  await signRelease(distDir, input);
  await writeClientFiles(root, input);
  await normalizeTree(root, input.epoch);
}

/** pool/: the locked closure (verified copies out of the store) and the metapackages. */
async function layOutPool(root: string, input: PublishInput): Promise<void> {
  await materialiseLocked(input.store, input.lock.packages, root, {
    layout: 'pool path',
    what: 'the repository',
    progress: (n, total) => n % 25 === 0 && input.progress(`copying the pool: ${n} of ${total} packages`),
  });
  const component = input.recipe.repository.components[0];
  for (const deb of input.metaDebs) {
    const name = path.basename(deb).split('_')[0];
    const dest = confine(root, metaPoolPath(component, name, path.basename(deb)), 'a metapackage');
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fs.copyFile(deb, dest);
  }
}

/** Packages (plain, .gz, .xz) of the one component, with the archive's Priority and Section. */
async function writePackagesIndex(root: string, distDir: string, input: PublishInput): Promise<void> {
  const { recipe, lock, metaDebs, log } = input;
  const binDir = path.join(distDir, recipe.repository.components[0], `binary-${recipe.target.architecture}`);
  await fs.mkdir(binDir, { recursive: true });
  // The archive's Priority and Section override the packages' own (tasksel's control says
  // optional, the archive says important): without them a variant=important install from
  // this repository would differ from the lock.
  const override = path.join(root, '.override');
  const overrides = [
    ...lock.packages.map((p) => `${p.name} ${p.priority ?? 'optional'} ${p.section ?? 'misc'}`),
    ...metaDebs.map((d) => path.basename(d).split('_')[0]).map((n) => `${n} optional ${recipe.sources?.[n] ? 'admin' : 'metapackages'}`),
  ];
  await fs.writeFile(override, [...new Set(overrides)].join('\n') + '\n');
  const packages = await run(log, 'apt-ftparchive', [...hashOptions, 'packages', 'pool', override], { cwd: root, purpose: 'apt-ftparchive packages', logStdout: false, errorLines: ftparchiveErrors });
  await fs.rm(override);
  if (!packages.stdout.trim()) throw new XcpError('apt-ftparchive indexed no packages', 'build');
  await fs.writeFile(path.join(binDir, 'Packages'), packages.stdout);
  await fs.writeFile(path.join(binDir, 'Packages.gz'), gzipSync(Buffer.from(packages.stdout), { level: 9 }));
  await run(log, 'xz', ['-9', '--keep', '--threads=1', path.join(binDir, 'Packages')], { purpose: 'compressing Packages' });
}

/** The Release file, dated SOURCE_DATE_EPOCH. */
async function writeRelease(distDir: string, input: PublishInput): Promise<void> {
  const { recipe, epoch, log } = input;
  const fields: Record<string, string> = {
    Origin: recipe.repository.origin,
    Label: recipe.repository.label,
    Suite: recipe.repository.codename,
    Codename: recipe.repository.codename,
    Architectures: recipe.target.architecture,
    Components: recipe.repository.components[0],
    Description: recipe.repository.description,
    Date: new Date(epoch * 1000).toUTCString().replace('GMT', 'UTC'),
  };
  const release = await run(
    log,
    'apt-ftparchive',
    [...hashOptions, ...Object.entries(fields).flatMap(([k, v]) => ['-o', `APT::FTPArchive::Release::${k}=${deb822Value(k, v)}`]), 'release', '.'],
    { cwd: distDir, purpose: 'apt-ftparchive release', errorLines: ftparchiveErrors },
  );
  await fs.writeFile(path.join(distDir, 'Release'), release.stdout);
}

/** InRelease and Release.gpg, made at SOURCE_DATE_EPOCH when the key is old enough (else the build notes why they differ). */
async function signRelease(distDir: string, input: PublishInput): Promise<void> {
  const { key, epoch } = input;
  const time = key.signingTimeFor(epoch);
  if (time === undefined) {
    input.notes.push(
      `repo: the signing key ${key.fingerprint.slice(-16)} was created after SOURCE_DATE_EPOCH (${new Date(epoch * 1000).toISOString()}), so its signatures carry the signing time and differ between builds; see README (Signing)`,
    );
  }
  await key.clearsign(path.join(distDir, 'Release'), path.join(distDir, 'InRelease'), time);
  await key.detachSign(path.join(distDir, 'Release'), path.join(distDir, 'Release.gpg'), time);
}

/** What a host needs to use the repository: its keyring (binary and armored) and a deb822 .sources file. */
async function writeClientFiles(root: string, input: PublishInput): Promise<void> {
  const { recipe, key } = input;
  const keyring = keyringName(recipe);
  await key.exportPublic(path.join(root, keyring), false);
  await key.exportPublic(path.join(root, keyring.replace(/\.gpg$/, '.asc')), true);
  const source = hostSource(recipe);
  const sources = await render(input.templates.file('templates/apt', 'sources.hbs'), {
    description: recipe.repository.description,
    url: source.url,
    codename: source.suite,
    components: recipe.repository.components[0],
    architectures: recipe.target.architecture,
    keyringName: keyring,
  });
  await fs.writeFile(path.join(root, `${recipe.name}.sources`), sources);
}

/** Modes and mtimes independent of the umask and the clock: the tree is the same from any build. */
async function normalizeTree(dir: string, epoch: number): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      await normalizeTree(full, epoch);
      await fs.chmod(full, 0o755);
    } else {
      await fs.chmod(full, 0o644);
    }
    await fs.utimes(full, epoch, epoch);
  }
  await fs.chmod(dir, 0o755);
}

/**
 * The repository stage's check before publishing: the signatures verify against the
 * exported keyring, every index file matches the Release's sha256, and every locked
 * package and metapackage is in Packages with its sha256 and size, its pool file there.
 */
export async function checkAptRepo(root: string, recipe: Recipe, lock: Lock, metaDebs: string[], log: BuildLog): Promise<void> {
  const problems = await auditAptRepo(root, recipe, log);
  const dist = path.join(root, 'dists', recipe.repository.codename);
  const component = recipe.repository.components[0];
  const packages = parseDeb822(await fs.readFile(path.join(dist, component, `binary-${recipe.target.architecture}`, 'Packages'), 'utf8'));
  const listed = new Map(packages.map((p) => [`${p.Package} ${p.Version} ${p.Architecture}`, p]));
  for (const p of lock.packages) {
    const st = listed.get(`${p.name} ${p.version} ${p.architecture}`);
    if (!st) problems.push(`${p.name} ${p.version} is locked but not in Packages`);
    else if (st.SHA256 !== p.sha256 || Number(st.Size) !== p.size) problems.push(`${p.name} ${p.version}: Packages lists another file than the lock`);
  }
  for (const deb of metaDebs) {
    const [name, version] = path.basename(deb).split('_');
    const st = packages.find((p) => p.Package === name && p.Version === version);
    if (!st) problems.push(`metapackage ${name} ${version} is not in Packages`);
    else if (st.SHA256 !== (await sha256File(deb))) problems.push(`metapackage ${name}: Packages lists another file than the one built`);
  }
  if (packages.length !== lock.packages.length + metaDebs.length) {
    problems.push(`Packages lists ${packages.length} packages, expected ${lock.packages.length + metaDebs.length}`);
  }
  if (problems.length) throw new XcpError(`the repository is not complete; not publishing it: ${problems[0]}`, 'build', problems.slice(1, 20));
}

/** Checks a repository against its own signed indexes, as apt would: returns every problem found. */
export async function auditAptRepo(root: string, recipe: Recipe, log: BuildLog): Promise<string[]> {
  const problems: string[] = [];
  const dist = path.join(root, 'dists', recipe.repository.codename);
  const keyring = path.join(root, keyringName(recipe));
  const inrelease = await run(log, 'gpgv', ['--keyring', keyring, '--output', '-', path.join(dist, 'InRelease')], { allowFailure: true, logStdout: false });
  if (inrelease.exitCode !== 0) problems.push(`InRelease does not verify against ${keyringName(recipe)}`);
  const detached = await run(log, 'gpgv', ['--keyring', keyring, path.join(dist, 'Release.gpg'), path.join(dist, 'Release')], { allowFailure: true });
  if (detached.exitCode !== 0) problems.push(`Release.gpg does not verify against ${keyringName(recipe)}`);
  let release: string;
  try {
    release = await fs.readFile(path.join(dist, 'Release'), 'utf8');
  } catch {
    return [...problems, 'Release is missing'];
  }
  if (inrelease.exitCode === 0 && inrelease.stdout !== release) problems.push('InRelease and Release differ');
  const sha = /^SHA256:\n((?: .+\n?)+)/m.exec(release)?.[1] ?? '';
  const indexes = sha
    .split('\n')
    .filter(Boolean)
    .map((l) => l.trim().split(/\s+/));
  if (!indexes.length) problems.push('Release lists no SHA256 index files');
  for (const [hash, size, name] of indexes) {
    const file = path.join(dist, name);
    const st = await fs.stat(file).catch(() => undefined);
    if (!st) problems.push(`${name} is listed in Release but missing`);
    else if (st.size !== Number(size) || (await sha256File(file)) !== hash) problems.push(`${name} does not match Release`);
  }
  const component = recipe.repository.components[0];
  const packagesFile = path.join(dist, component, `binary-${recipe.target.architecture}`, 'Packages');
  const packages = parseDeb822(await fs.readFile(packagesFile, 'utf8').catch(() => ''));
  for (const p of packages) {
    let file: string;
    try {
      file = confine(root, p.Filename ?? '', `Filename of ${p.Package}`);
    } catch (err) {
      problems.push((err as Error).message);
      continue;
    }
    const st = await fs.stat(file).catch(() => undefined);
    if (!st) problems.push(`${p.Filename}: missing`);
    else if (st.size !== Number(p.Size) || (await sha256File(file)) !== p.SHA256) problems.push(`${p.Filename}: does not match Packages (damaged)`);
  }
  return problems;
}

/** Every package the repository's Packages indexes list (all components, the recipe's architecture). */
export async function listAptRepo(root: string, recipe: Recipe): Promise<RepositoryEntry[]> {
  const entries: RepositoryEntry[] = [];
  for (const component of recipe.repository.components) {
    const file = path.join(root, 'dists', recipe.repository.codename, component, `binary-${recipe.target.architecture}`, 'Packages');
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch {
      continue;
    }
    for (const s of parseDeb822(text)) entries.push({ name: s.Package, version: s.Version, architecture: s.Architecture, sha256: s.SHA256, file: s.Filename });
  }
  return entries;
}
