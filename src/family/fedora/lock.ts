import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BuildContext } from '../../plan/types';
import { Lock, LockedArchive, LockedPackage, LOCK_VERSION, parseLock, serializeLock, checkIndexedPackage } from '../../lock/file';
import { ownDirectoryBelow } from '../../util/nofollow';
import { FileLock } from '../../util/flock';
import { mkdirp, exists } from '../../util/fsutil';
import { archiveKeyFile } from '../../recipe/archive-keys';
import { XcpError } from '../../errors';
import { hashValue } from '../../util/hash';
import { printable } from '../../util/text';
import { fetchWithRetries } from '../../util/http';
import { evrOf, RpmEntry, YumRepoRef, RepoState } from '../../format/rpm/dnf';
import { resolvePins, ResolveAnswer, Pin } from './dnf';
import { armoredKey } from '../../format/rpm/rpmkeys';
import { rpmArch } from '../../format/rpm/rpmbuild';
import { compareEvr } from '../../format/rpm/version';

/** "xen-4.20.0-1.fc43.src.rpm" → "xen". */
export function sourceName(sourceRpm: string, fallback: string): string {
  return /^(.+)-[^-]+-[^-]+\.(?:no)?src\.rpm$/.exec(sourceRpm)?.[1] ?? fallback;
}

/** dnf's words for a repository it cannot read: a network cause is kind 'network', a bad signature 'verification'. */
function repoError(message: string): XcpError {
  const line = printable(message.replace(/\s+/g, ' ').trim(), 400);
  if (/signature|GPG|checksum/i.test(line)) return new XcpError(`an archive failed verification: ${line}`, 'verification');
  return new XcpError(`cannot read the archives (after retries): ${line}`, 'network');
}

/**
 * Resolves the recipe's pins against the Fedora (yum) archives with dnf's solver in a
 * private installroot, cache and rpm database: every repomd.xml must carry a valid
 * signature by the recipe's key for that archive.
 */
export async function resolveFedoraLock(ctx: BuildContext, inputs: Record<string, string>): Promise<Lock> {
  const { recipe } = ctx.loaded;
  const stateDir = await ownDirectoryBelow(ctx.options.cacheDir, `dnf-state/${hashValue(recipe.archives).slice(0, 16)}`, 'the dnf state directory');
  const held = await FileLock.acquire(`${stateDir}.lock`, `xcpbuild lock ${recipe.name}`, (holder) => ctx.progress(`waiting for ${holder} to finish with the dnf state`));
  try {
    return await resolveIn(ctx, inputs, stateDir);
  } finally {
    held.release();
  }
}

async function resolveIn(ctx: BuildContext, inputs: Record<string, string>, stateDir: string): Promise<Lock> {
  const { recipe } = ctx.loaded;
  const repos = await repositoriesWithKeys(ctx, path.join(stateDir, 'keys'));
  for (const a of recipe.archives) await probe(a.name, a.uri);
  const pins = Object.entries(recipe.packages).flatMap(([group, list]) => list.map((p, i) => ({ name: p.name, version: p.version, where: `packages.${group}[${i}]` })));
  ctx.progress('downloading and verifying repository metadata, resolving with dnf');
  // A fresh installroot each time: the closure is resolved from an empty system.
  const root = path.join(stateDir, 'root');
  await fs.rm(root, { recursive: true, force: true });
  const answer = await resolvePins(ctx.log, {
    root,
    cache: path.join(stateDir, 'cache'),
    releasever: recipe.target.release,
    basearch: rpmArch(recipe.target.architecture),
    repos,
    pins: pins.map(({ name, version }) => ({ name, version })),
  });
  const closure = closureOf(answer, pins);
  const packages = closure.packages.map((p) => lockedPackage(p, recipe.target.release));
  for (const pin of pins) {
    const got = packages.find((p) => p.name === pin.name);
    if (!got || got.version !== pin.version) throw new XcpError(`dnf resolved ${pin.name} to ${got?.version ?? 'nothing'} although ${pin.where} pins ${pin.version}`, 'resolution');
  }
  const lock: Lock = {
    lockVersion: LOCK_VERSION,
    recipe: recipe.name,
    inputs,
    resolvedAt: new Date(Math.floor(Date.now() / 1000) * 1000).toISOString(),
    archives: closure.repos.map((r) => lockedArchive(ctx, r)),
    packages,
  };
  // What the archives said becomes paths and URLs later: the lock's own schema checks it now.
  return parseLock(serializeLock(lock), `the closure resolved from ${recipe.archives.map((a) => a.uri).join(', ')}`);
}

/** Each archive as dnf is given it, with the recipe's key for it armored into `keysDir`. */
async function repositoriesWithKeys(ctx: BuildContext, keysDir: string): Promise<YumRepoRef[]> {
  await mkdirp(keysDir);
  const repos: YumRepoRef[] = [];
  for (const a of ctx.loaded.recipe.archives) {
    const key = path.join(keysDir, `${a.name}.asc`);
    await armoredKey(ctx.log, await archiveKeyFile(ctx.loaded, a, ctx.options.cacheDir, ctx.log, true), key);
    repos.push({ id: a.name, url: a.uri, keys: [key] });
  }
  return repos;
}

/** The closure dnf found, or the error that says why there is none. */
function closureOf(answer: ResolveAnswer, pins: (Pin & { where: string })[]): { repos: RepoState[]; packages: RpmEntry[] } {
  if ('error' in answer) throw repoError(answer.error);
  if ('missing' in answer) {
    const problems = answer.missing.map((m) => {
      const where = pins.find((p) => p.name === m.name)?.where ?? m.name;
      if (!m.available.length) return `${where}: no package named "${m.name}" in the recipe's archives`;
      const have = [...m.available].sort((a, b) => compareEvr(b.split(' ')[0], a.split(' ')[0])).join(', ');
      return `${where}: ${m.name} version ${m.version} is not in the archives; available: ${have}`;
    });
    throw new XcpError(`${problems.length} pinned version(s) are not available: ${problems[0]}`, 'resolution', problems.slice(1));
  }
  if ('problem' in answer) {
    const lines = answer.problem.split('\n').map((l) => l.trim().replace(/^- /, '')).filter(Boolean);
    const first = lines.find((l) => !/^Problem:?$/.test(l))?.replace(/^Problem:\s*/, '') ?? 'dnf found no solution';
    throw new XcpError(`the pinned packages cannot be installed together: ${first}`, 'resolution', lines.filter((l) => !l.includes(first)).slice(0, 20));
  }
  return answer;
}

function lockedArchive(ctx: BuildContext, r: RepoState): LockedArchive {
  const { recipe } = ctx.loaded;
  return { name: r.id, uri: recipe.archives.find((a) => a.name === r.id)!.uri, suite: recipe.target.release, repomd: r.repomd_sha256, date: r.revision };
}

/**
 * librepo says only "All mirrors were tried" when an archive cannot be reached; this
 * asks for repomd.xml itself first (with retries) so the error names the URL and the cause.
 */
async function probe(archive: string, uri: string): Promise<void> {
  const url = `${uri.replace(/\/+$/, '')}/repodata/repomd.xml`;
  if (url.startsWith('file://')) {
    if (!(await exists(decodeURIComponent(new URL(url).pathname)))) throw new XcpError(`archive ${archive}: ${url} does not exist`, 'network');
    return;
  }
  const got = await fetchWithRetries(url, 'HEAD');
  if (got.ok) return;
  throw new XcpError(`cannot read the archives (after retries): archive ${archive}: ${url}: ${printable(got.cause, 200)}`, 'network');
}

function lockedPackage(p: RpmEntry, release: string): LockedPackage {
  if (p.checksum_type !== 'sha256') throw new XcpError(`${p.name}: the archive lists a ${p.checksum_type} checksum; xcpbuild pins sha256`, 'resolution');
  return checkIndexedPackage({
    name: p.name,
    version: evrOf(p),
    architecture: p.arch,
    sha256: p.sha256,
    size: p.size,
    archive: p.repo,
    suite: release,
    filename: p.location,
    source: sourceName(p.sourcerpm, p.name),
    ...(p.sourcerpm ? { sourceRpm: p.sourcerpm } : {}),
  });
}
