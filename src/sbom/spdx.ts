import { createHash } from 'node:crypto';
import { Recipe } from '../recipe/schema';
import { PackageFormat, DeclaredLicense } from '../format/types';

export interface SbomPackage {
  name: string;
  version: string;
  architecture: string;
  sha256: string;
  /** Where the file was downloaded from; undefined for what xcpbuild built. */
  downloadLocation?: string;
  source?: string;
  license?: DeclaredLicense;
  /** Built by this recipe (metapackages, source packages), not taken from an archive. */
  own: boolean;
}

export interface SbomArtifact {
  /** The file name in the release. */
  name: string;
  sha256: string;
  purpose: 'OPERATING_SYSTEM' | 'ARCHIVE' | 'INSTALL';
  /** The packages it holds (keys into the package list: name:architecture:version). */
  contains: string[];
}

export interface SbomInput {
  recipe: Recipe;
  format: PackageFormat;
  version: string;
  /** SOURCE_DATE_EPOCH: the document's creation time, so rebuilds are bit-identical. */
  created: number;
  tool: string;
  packages: SbomPackage[];
  artifacts: SbomArtifact[];
}

export const packageKey = (p: { name: string; architecture: string; version: string }) => `${p.name}:${p.architecture}:${p.version}`;

function spdxId(kind: string, text: string): string {
  const readable = text.replace(/[^A-Za-z0-9.-]+/g, '-').slice(0, 80);
  return `SPDXRef-${kind}-${readable}-${createHash('sha256').update(text).digest('hex').slice(0, 8)}`;
}

/**
 * An SPDX 2.3 JSON document of a release: each artifact (the ISO, the repository)
 * as a package that CONTAINS the packages it holds, each of those with its version,
 * architecture, purl, sha256, source package and declared license.
 */
export function spdxDocument(input: SbomInput): Record<string, unknown> {
  const { recipe } = input;
  const refs = new Map<string, string>();
  const ids = new Map<string, string>();
  const packages = input.packages.map((p) => {
    ids.set(packageKey(p), spdxId('Package', packageKey(p)));
    for (const [ref, name] of Object.entries(p.license?.refs ?? {})) refs.set(ref, name);
    return spdxPackage(input, p);
  });
  const artifacts = input.artifacts.map((a) => spdxArtifact(input, a));
  const relationships = [
    ...artifacts.map((a) => ({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: a.SPDXID })),
    ...input.artifacts.flatMap((a, i) =>
      a.contains.map((key) => ({ spdxElementId: artifacts[i].SPDXID, relationshipType: 'CONTAINS', relatedSpdxElement: ids.get(key) ?? missing(key) })),
    ),
  ];
  const created = new Date(input.created * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const digest = createHash('sha256').update(JSON.stringify([packages, artifacts])).digest('hex');
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${recipe.name}-${input.version}`,
    documentNamespace: `https://xcpbuild.invalid/spdx/${encodeURIComponent(recipe.name)}/${encodeURIComponent(input.version)}/${digest}`,
    creationInfo: { created, creators: [`Tool: ${input.tool}`, `Organization: ${recipe.repository.origin}`] },
    packages: [...artifacts, ...packages],
    relationships,
    ...(refs.size ? { hasExtractedLicensingInfos: extractedLicenses(refs) } : {}),
  };
}

function spdxPackage(input: SbomInput, p: SbomPackage): Record<string, unknown> {
  const { recipe, format } = input;
  return {
    SPDXID: spdxId('Package', packageKey(p)),
    name: p.name,
    versionInfo: p.version,
    downloadLocation: p.downloadLocation ?? 'NOASSERTION',
    filesAnalyzed: false,
    checksums: [{ algorithm: 'SHA256', checksumValue: p.sha256 }],
    externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: format.purl(recipe, p, p.own ? recipe.repository.origin : undefined) }],
    ...(p.source ? { sourceInfo: `built from the ${format.sourceKind} ${p.source}` } : {}),
    supplier: p.own ? `Organization: ${recipe.repository.origin}` : 'NOASSERTION',
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: p.license?.expression ?? 'NOASSERTION',
    ...(p.license ? { comment: `declared license: ${p.license.declared}` } : {}),
    copyrightText: 'NOASSERTION',
    primaryPackagePurpose: 'INSTALL',
  };
}

function spdxArtifact(input: SbomInput, a: SbomArtifact) {
  return {
    SPDXID: spdxId('Artifact', a.name),
    name: a.name,
    versionInfo: input.version,
    packageFileName: a.name,
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    checksums: [{ algorithm: 'SHA256', checksumValue: a.sha256 }],
    supplier: `Organization: ${input.recipe.repository.origin}`,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: 'NOASSERTION',
    copyrightText: 'NOASSERTION',
    primaryPackagePurpose: a.purpose,
  };
}

function extractedLicenses(refs: Map<string, string>) {
  return [...refs].sort().map(([licenseId, name]) => ({
    licenseId,
    name,
    extractedText: `The license the package's copyright file calls "${name}"; its text is in the package (/usr/share/doc/<package>/copyright).`,
  }));
}

function missing(key: string): never {
  throw new Error(`internal: SBOM artifact contains an unknown package ${key}`);
}
