import path from 'node:path';
import { BuildLog } from '../util/log';
import { readBounded } from '../recipe/document';
import { isRecipe } from '../recipe/load';
import { familyOf } from '../family/registry';
import { verifyChecksums } from './checksums';
import { RELEASE_JSON, SBOM_FILE, ReleaseRecord } from './release';
import { packageKey } from '../sbom/spdx';
import { Recipe } from '../recipe/schema';
import { RepositoryEntry } from '../format/types';

interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  checksums?: { algorithm: string; checksumValue: string }[];
  externalRefs?: { referenceType: string; referenceLocator: string }[];
}

export interface ReleaseVerification {
  problems: string[];
  record?: ReleaseRecord;
  sbomPackages: number;
}

/**
 * Checks a published release: SHA256SUMS and SHA512SUMS signatures against `keyring`,
 * every checksum, and that the SBOM lists exactly the packages of the repository's
 * indexes, with the same sha256. Returns every problem found.
 */
export async function verifyRelease(dir: string, keyring: string, log: BuildLog): Promise<ReleaseVerification> {
  const problems = await verifyChecksums(dir, keyring, log);
  let record: ReleaseRecord | undefined;
  try {
    record = JSON.parse(await readBounded(path.join(dir, RELEASE_JSON), 'release record', 4 * 1024 * 1024)) as ReleaseRecord;
  } catch (err) {
    problems.push(`${RELEASE_JSON}: ${(err as Error).message}`);
  }
  if (!record) return { problems, sbomPackages: 0 };
  if (!isRecipe(record.recipeDocument)) return { problems: [...problems, `${RELEASE_JSON}: recipeDocument is not a valid recipe`], record, sbomPackages: 0 };
  const recipe = record.recipeDocument;
  const listed = await familyOf(recipe).format.repository.list(recipe, path.join(dir, 'repo'), log).catch((err: Error) => {
    problems.push(`the repository cannot be listed: ${err.message}`);
    return [];
  });
  let sbomPackages = 0;
  try {
    sbomPackages = checkSbom(await readSbom(dir), recipe, listed, problems);
  } catch (err) {
    problems.push(`${SBOM_FILE}: ${(err as Error).message}`);
  }
  return { problems, record, sbomPackages };
}

interface SpdxDocument {
  spdxVersion?: string;
  packages?: SpdxPackage[];
  relationships?: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
}

async function readSbom(dir: string): Promise<SpdxDocument> {
  return JSON.parse(await readBounded(path.join(dir, SBOM_FILE), 'SBOM', 256 * 1024 * 1024)) as SpdxDocument;
}

/** The SBOM's repository artifact contains exactly the listed packages, with their sha256; returns how many it contains. */
function checkSbom(sbom: SpdxDocument, recipe: Recipe, listed: RepositoryEntry[], problems: string[]): number {
  const index = `repo/${familyOf(recipe).format.repository.index(recipe)}`;
  if (sbom.spdxVersion !== 'SPDX-2.3') problems.push(`${SBOM_FILE}: spdxVersion is ${sbom.spdxVersion}, expected SPDX-2.3`);
  const repoArtifact = (sbom.packages ?? []).find((p) => p.name === index);
  if (!repoArtifact) problems.push(`${SBOM_FILE}: no package for the repository (${index})`);
  const contained = repoArtifact ? containedIn(sbom, repoArtifact) : new Map<string, SpdxPackage>();
  for (const e of listed) {
    const p = contained.get(packageKey(e));
    if (!p) problems.push(`${e.name} ${e.version} (${e.architecture}) is in the repository but not in the SBOM`);
    else if (p.checksums?.find((c) => c.algorithm === 'SHA256')?.checksumValue !== e.sha256) problems.push(`${e.name} ${e.version}: the SBOM gives another sha256 than the repository`);
  }
  const inRepo = new Set(listed.map(packageKey));
  for (const k of contained.keys()) if (!inRepo.has(k)) problems.push(`${k.replace(/:/g, ' ')} is in the SBOM but not in the repository`);
  return contained.size;
}

/** The packages an SBOM artifact CONTAINS, keyed as the repository's entries are (name, architecture from the purl, version). */
function containedIn(sbom: SpdxDocument, artifact: SpdxPackage): Map<string, SpdxPackage> {
  const byId = new Map((sbom.packages ?? []).map((p) => [p.SPDXID, p]));
  const contained = new Map<string, SpdxPackage>();
  for (const r of sbom.relationships ?? []) {
    const p = byId.get(r.relatedSpdxElement);
    if (r.spdxElementId !== artifact.SPDXID || r.relationshipType !== 'CONTAINS' || !p) continue;
    const arch = /[?&]arch=([^&]+)/.exec(p.externalRefs?.find((e) => e.referenceType === 'purl')?.referenceLocator ?? '')?.[1];
    contained.set(packageKey({ name: p.name, architecture: decodeURIComponent(arch ?? ''), version: p.versionInfo ?? '' }), p);
  }
  return contained;
}
