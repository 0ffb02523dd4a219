import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BuildContext } from '../plan/types';
import { Lock, LockedPackage } from '../lock/file';
import { familyOf } from '../family/registry';
import { ContentStore } from '../cache/store';
import { SigningKey } from '../signing/gpg';
import { isoFileName } from '../iso/build-iso';
import { sha256File } from '../util/hash';
import { writeFileAtomic } from '../util/fsutil';
import { spdxDocument, SbomPackage, SbomArtifact, packageKey } from '../sbom/spdx';
import { Changes, changesMarkdown } from './changes';
import { writeSignedChecksums } from './checksums';
import { toolVersion } from '../version';

/** What release.json records: everything here is the same for the same inputs (no clock, no timings). */
export interface ReleaseRecord {
  recipe: string;
  version: string;
  family: string;
  format: string;
  sourceDateEpoch: number;
  previous?: string;
  files: { iso?: string; repository: string; lock: string; sbom: string; changes: string[]; signingKey: string[] };
  bootTest: {
    gate: 'passed' | 'skipped' | 'no-iso';
    firmwares: string[];
    rows: { firmware: string; check: string; ok: boolean }[];
    /** piuparts on the recipe's own packages (install → purge, upgrade from the previous release). */
    installCheck?: { gate: 'passed' | 'skipped' | 'no-checker'; runs: { mode: string; ok: boolean }[] };
    /** The upgrade test from the previous release to this one. */
    upgradeTest?: { gate: 'passed' | 'skipped' | 'no-iso' | 'no-previous'; from?: string; rows: { firmware: string; check: string; ok: boolean }[] };
  };
  changes: { added: number; removed: number; changed: number; cves: string[] };
  /** Pins this build moved (--bump-pins): from the recipe's version to the archive's. */
  pinsMoved: { name: string; from: string; to: string }[];
  /** The recipe as built (its version stamped), so the release can be checked without the project. */
  recipeDocument: unknown;
}

export const RELEASE_JSON = 'release.json';
export const SBOM_FILE = 'sbom.spdx.json';
export const KEY_FILES = ['signing-key.asc', 'signing-key.gpg'];

/** Runs `fn` over `items` with at most `n` at a time. */
async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]);
  }));
  return out;
}

/**
 * Lays out a release in `dir` (a staging directory): the ISO and its .sha256, the
 * signed repository, the lock, the public key, the SBOM, CHANGES.md and changes.json,
 * release.json, and SHA256SUMS/SHA512SUMS with detached signatures over all of it.
 */
export async function assembleRelease(ctx: BuildContext, dir: string, opts: ReleaseOptions): Promise<ReleaseRecord> {
  const recipe = ctx.loaded.recipe;
  const isoName = await copyArtifacts(ctx, dir, opts);
  const lockName = `${recipe.name}.lock`;
  await fs.copyFile(ctx.loaded.lockFile, path.join(dir, lockName));
  await opts.key.exportPublic(path.join(dir, KEY_FILES[0]), true);
  await opts.key.exportPublic(path.join(dir, KEY_FILES[1]), false);
  ctx.progress("writing the SBOM (reading each package's declared license)");
  await writeFileAtomic(path.join(dir, SBOM_FILE), JSON.stringify(await releaseSbom(ctx, dir, opts, isoName), null, 2) + '\n');
  await writeFileAtomic(path.join(dir, 'changes.json'), JSON.stringify(opts.changes, null, 2) + '\n');
  await writeFileAtomic(path.join(dir, 'CHANGES.md'), changesMarkdown(opts.changes));
  const record: ReleaseRecord = {
    recipe: recipe.name,
    version: recipe.version,
    family: recipe.target.family,
    format: familyOf(recipe).format.id,
    sourceDateEpoch: ctx.sourceDateEpoch(),
    previous: opts.changes.previous,
    files: { ...(isoName ? { iso: isoName } : {}), repository: 'repo', lock: lockName, sbom: SBOM_FILE, changes: ['CHANGES.md', 'changes.json'], signingKey: KEY_FILES },
    bootTest: opts.bootTest,
    changes: { added: opts.changes.added.length, removed: opts.changes.removed.length, changed: opts.changes.changed.length, cves: opts.changes.cves },
    pinsMoved: (opts.changes.pins ?? []).filter((p) => p.moved).map((p) => ({ name: p.name, from: p.pinned, to: p.available })),
    recipeDocument: recipe,
  };
  await writeFileAtomic(path.join(dir, RELEASE_JSON), JSON.stringify(record, null, 2) + '\n');
  ctx.progress('signing SHA256SUMS and SHA512SUMS');
  await writeSignedChecksums(dir, opts.key, ctx.sourceDateEpoch());
  return record;
}

export interface ReleaseOptions {
  withIso: boolean;
  changes: Changes;
  bootTest: ReleaseRecord['bootTest'];
  key: SigningKey;
  store: ContentStore;
}

/** The repository (without xcpbuild's stamps) and, with an ISO, the ISO and its .sha256; returns the ISO's name. */
async function copyArtifacts(ctx: BuildContext, dir: string, opts: ReleaseOptions): Promise<string | undefined> {
  ctx.progress('copying the repository');
  await fs.cp(path.join(ctx.outDir, 'repo'), path.join(dir, 'repo'), { recursive: true, filter: (src) => !path.basename(src).startsWith('.xcpbuild-') });
  if (!opts.withIso) return undefined;
  const isoName = isoFileName(ctx.loaded.recipe);
  ctx.progress(`copying ${isoName}`);
  for (const f of [isoName, `${isoName}.sha256`]) await fs.copyFile(path.join(ctx.outDir, 'iso', f), path.join(dir, f));
  return isoName;
}

/** The SPDX document: every locked package with its declared license, the recipe's own packages, the repository and the ISO. */
async function releaseSbom(ctx: BuildContext, dir: string, opts: ReleaseOptions, isoName: string | undefined): Promise<object> {
  const recipe = ctx.loaded.recipe;
  const lock = ctx.lock as Lock;
  const format = familyOf(recipe).format;
  const repoDir = path.join(dir, 'repo');
  const listed = await format.repository.list(recipe, repoDir, ctx.log);
  const locked = new Map<string, LockedPackage>();
  for (const p of [...lock.packages, ...(opts.withIso ? lock.installer ?? [] : [])]) locked.set(packageKey(p), p);
  const archiveUri = new Map(recipe.archives.map((a) => [a.name, a.uri]));
  const sbomPackages: SbomPackage[] = await pool([...locked.values()], 4, async (p) => ({
    name: p.name,
    version: p.version,
    architecture: p.architecture,
    sha256: p.sha256,
    downloadLocation: archiveUri.get(p.archive) ? `${archiveUri.get(p.archive)!.replace(/\/+$/, '')}/${p.filename}` : undefined,
    source: p.sourceRpm ?? p.source,
    license: await format.declaredLicense(ctx.log, opts.store.pathOf(p.sha256), p.name),
    own: false,
  }));
  for (const e of listed.filter((e) => !locked.has(packageKey(e)))) {
    sbomPackages.push({ name: e.name, version: e.version, architecture: e.architecture, sha256: e.sha256, license: await format.declaredLicense(ctx.log, path.join(repoDir, e.file), e.name), own: true });
  }
  sbomPackages.sort((a, b) => (packageKey(a) < packageKey(b) ? -1 : 1));
  const inRepo = listed.map(packageKey);
  const repoIndex = format.repository.index(recipe);
  const artifacts: SbomArtifact[] = [{ name: `repo/${repoIndex}`, sha256: await sha256File(path.join(repoDir, repoIndex)), purpose: 'ARCHIVE', contains: inRepo }];
  if (isoName) {
    const onMedium = [...new Set([...inRepo, ...(lock.installer ?? []).map(packageKey)])];
    artifacts.push({ name: isoName, sha256: await sha256File(path.join(dir, isoName)), purpose: 'OPERATING_SYSTEM', contains: onMedium });
  }
  return spdxDocument({ recipe, format, version: recipe.version, created: ctx.sourceDateEpoch(), tool: `xcpbuild-${toolVersion}`, packages: sbomPackages, artifacts });
}
