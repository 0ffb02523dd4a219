import { promises as fs } from 'node:fs';
import path from 'node:path';
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
import { sha256File } from '../../util/hash';
import { armoredKey, checkRpmSignatures } from './rpmkeys';
import { listYumRepo, evrOf, RpmEntry } from './dnf';
import { rpmArch } from './rpmbuild';

/** The repository's own key, exported beside repodata/ for gpgkey=. */
export function repoKeyName(recipe: Recipe): string {
  return `RPM-GPG-KEY-${recipe.name}`;
}

/** An upstream archive's key, shipped too: its packages keep the distribution's signatures. */
export function archiveKeyName(recipe: Recipe, archive: string): string {
  return `RPM-GPG-KEY-${recipe.name}-${archive}`;
}

/** Packages/<initial>/<file>, as Fedora lays out its repositories. */
export function packagePath(file: string): string {
  return `Packages/${file[0].toLowerCase()}/${file}`;
}

export interface YumPublishInput extends RepositoryInput {
  metaRpms: string[];
  /** Archive name → its keyring file. */
  archiveKeys: Map<string, string>;
}

/**
 * Lays out Packages/ with the locked closure (checked copies, upstream signatures kept)
 * and the metapackages (signed here with rpmsign), indexes it with createrepo_c at a
 * fixed revision, signs repomd.xml and writes the keys and the .repo file.
 */
export async function publishYumRepo(root: string, input: YumPublishInput): Promise<void> {
  const { recipe, lock, store, key, epoch, log } = input;
  await materialiseLocked(store, lock.packages, root, {
    layout: (p) => packagePath(path.basename(p.filename)),
    what: 'the repository',
    progress: (n, total) => n % 25 === 0 && input.progress(`copying the packages: ${n} of ${total}`),
  });
  const lockedPaths = new Set(lock.packages.map((p) => packagePath(path.basename(p.filename))));
  const signed: string[] = [];
  for (const rpm of input.metaRpms) {
    const rel = packagePath(path.basename(rpm));
    if (lockedPaths.has(rel)) throw new XcpError(`metapackage ${path.basename(rpm)} has the file name of a locked package`, 'invalidInput');
    const dest = confine(root, rel, 'a metapackage');
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fs.copyFile(rpm, dest);
    signed.push(dest);
  }
  input.progress('signing the metapackages (rpmsign)');
  const time = key.signingTimeFor(epoch);
  if (time === undefined) {
    input.notes.push(`repo: the signing key ${key.fingerprint.slice(-16)} was created after SOURCE_DATE_EPOCH, so its signatures carry the signing time and differ between builds; see README (Signing)`);
  }
  await key.signRpms(signed, time);
  await normalize(root, epoch);

  input.progress('indexing (createrepo_c)');
  await run(log, 'createrepo_c', ['--revision', String(epoch), '--set-timestamp-to-revision', '--no-database', '--workers', '1', '--checksum', 'sha256', '--quiet', '.'], {
    cwd: root,
    env: { SOURCE_DATE_EPOCH: String(epoch), TZ: 'UTC' },
    purpose: 'createrepo_c',
  });
  input.progress('signing repomd.xml');
  await key.detachSign(path.join(root, 'repodata/repomd.xml'), path.join(root, 'repodata/repomd.xml.asc'), time);

  await key.exportPublic(path.join(root, repoKeyName(recipe)), true);
  const source = hostSource(recipe);
  const keyUrls = [`${source.url.replace(/\/+$/, '')}/${repoKeyName(recipe)}`];
  for (const [archive, keyring] of input.archiveKeys) {
    await armoredKey(log, keyring, path.join(root, archiveKeyName(recipe, archive)));
    keyUrls.push(`${source.url.replace(/\/+$/, '')}/${archiveKeyName(recipe, archive)}`);
  }
  const repoFile = await render(input.templates.file('templates/yum', 'repo.hbs'), {
    id: recipe.repository.codename,
    description: recipe.repository.description,
    label: recipe.repository.label,
    url: source.url,
    keyFile: repoKeyName(recipe),
    keys: keyUrls,
    metapackages: Object.keys(recipe.metapackages).join(' '),
  });
  await fs.writeFile(path.join(root, `${recipe.name}.repo`), repoFile);
  await normalize(root, epoch);
}

/** Modes and mtimes independent of the umask and the clock (createrepo_c records package mtimes). */
async function normalize(dir: string, epoch: number): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await normalize(full, epoch);
    await fs.chmod(full, entry.isDirectory() ? 0o755 : 0o644);
    await fs.utimes(full, epoch, epoch);
  }
  await fs.chmod(dir, 0o755);
}

/** The keys a published repository's packages may be signed with: its own and its archives'. */
async function trustedKeys(root: string, recipe: Recipe): Promise<string[]> {
  const names = (await fs.readdir(root)).filter((f) => f === repoKeyName(recipe) || f.startsWith(`${repoKeyName(recipe)}-`));
  return names.sort().map((f) => path.join(root, f));
}

/**
 * Checks a repository as dnf would: repomd.xml's signature and the metadata through dnf
 * itself (repo_gpgcheck), then every listed package's file, sha256 and signature.
 * Returns every problem found, and what dnf listed.
 */
export async function auditYumRepo(root: string, recipe: Recipe, log: BuildLog): Promise<{ problems: string[]; listed: RpmEntry[] }> {
  const problems: string[] = [];
  const ownKey = path.join(root, repoKeyName(recipe));
  let listed: RpmEntry[] = [];
  try {
    const answer = await listYumRepo(log, { id: recipe.repository.codename, url: `file://${path.resolve(root)}`, keys: [ownKey] }, recipe.target.release, rpmArch(recipe.target.architecture));
    listed = answer.packages;
    // A repository dnf installs from needs no other: what its packages require, it provides.
    problems.push(...(answer.unresolved ?? []).map((u) => `${u}, which nothing in the repository provides`));
  } catch (err) {
    return { problems: [`dnf refuses the repository: ${(err as Error).message}`], listed };
  }
  const files: { path: string; label: string }[] = [];
  for (const p of listed) {
    let file: string;
    try {
      file = confine(root, p.location, `location of ${p.name}`);
    } catch (err) {
      problems.push((err as Error).message);
      continue;
    }
    const st = await fs.stat(file).catch(() => undefined);
    if (!st) problems.push(`${p.location}: missing`);
    else if (p.checksum_type !== 'sha256') problems.push(`${p.location}: the metadata lists a ${p.checksum_type} checksum, not sha256`);
    else if (st.size !== p.size || (await sha256File(file)) !== p.sha256) problems.push(`${p.location}: does not match the repository metadata (damaged)`);
    else files.push({ path: file, label: p.location });
  }
  problems.push(...(await checkRpmSignatures(log, files, await trustedKeys(root, recipe))));
  return { problems, listed };
}

/** The repository stage's check before publishing: the audit, and exactly the locked closure plus the metapackages. */
export async function checkYumRepo(root: string, recipe: Recipe, lock: Lock, metaRpms: string[], log: BuildLog): Promise<void> {
  const { problems, listed } = await auditYumRepo(root, recipe, log);
  const byNevra = new Map(listed.map((p) => [`${p.name} ${evrOf(p)} ${p.arch}`, p]));
  for (const p of lock.packages) {
    const got = byNevra.get(`${p.name} ${p.version} ${p.architecture}`);
    if (!got) problems.push(`${p.name} ${p.version} is locked but not in the repository`);
    else if (got.sha256 !== p.sha256) problems.push(`${p.name} ${p.version}: the repository lists another file than the lock`);
  }
  for (const rpm of metaRpms) {
    const base = path.basename(rpm);
    if (!listed.some((p) => path.basename(p.location) === base)) problems.push(`metapackage ${base} is not in the repository`);
  }
  if (listed.length !== lock.packages.length + metaRpms.length) problems.push(`the repository lists ${listed.length} packages, expected ${lock.packages.length + metaRpms.length}`);
  if (problems.length) throw new XcpError(`the repository is not complete; not publishing it: ${problems[0]}`, 'build', problems.slice(1, 20));
}
