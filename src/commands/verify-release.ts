import path from 'node:path';
import { promises as fs } from 'node:fs';
import { Session } from './session';
import { XcpError } from '../errors';
import { checkedPath } from '../util/env';
import { exists } from '../util/fsutil';
import { displayPath } from '../util/paths';
import { BuildLog } from '../util/log';
import { readBounded } from '../recipe/document';
import { isRecipe } from '../recipe/load';
import { familyOf } from '../family/registry';
import { verifyChecksums } from '../nightly/checksums';
import { RELEASE_JSON, SBOM_FILE, KEY_FILES, ReleaseRecord } from '../nightly/release';
import { packageKey } from '../sbom/spdx';

interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  checksums?: { algorithm: string; checksumValue: string }[];
  externalRefs?: { referenceType: string; referenceLocator: string }[];
}

/**
 * Checks a published release: SHA256SUMS and SHA512SUMS signatures (against --keyring,
 * or the key the release carries), every checksum, and that the SBOM lists exactly
 * the packages of the repository's indexes, with the same sha256.
 */
export async function verifyReleaseCommand(session: Session, dirArg: string, opts: { keyring?: string }): Promise<void> {
  const dir = await fs.realpath(checkedPath(dirArg, 'release directory')).catch(() => {
    throw new XcpError(`no release at ${dirArg}`, 'invalidInput');
  });
  const log = new BuildLog(undefined, session.opts().verbose && !session.json);
  const keyring = opts.keyring ? checkedPath(opts.keyring, '--keyring') : path.join(dir, KEY_FILES[1]);
  if (!(await exists(keyring))) throw new XcpError(`no keyring at ${keyring}`, 'invalidInput');
  const problems = await verifyChecksums(dir, keyring, log);

  let record: ReleaseRecord | undefined;
  try {
    record = JSON.parse(await readBounded(path.join(dir, RELEASE_JSON), 'release record', 4 * 1024 * 1024)) as ReleaseRecord;
  } catch (err) {
    problems.push(`${RELEASE_JSON}: ${(err as Error).message}`);
  }
  let sbomPackages = 0;
  if (record) {
    if (!isRecipe(record.recipeDocument)) problems.push(`${RELEASE_JSON}: recipeDocument is not a valid recipe`);
    else {
      const recipe = record.recipeDocument;
      const format = familyOf(recipe).format;
      const listed = await format.repository.list(recipe, path.join(dir, 'repo'), log).catch((err: Error) => {
        problems.push(`the repository cannot be listed: ${err.message}`);
        return [];
      });
      try {
        const sbom = JSON.parse(await readBounded(path.join(dir, SBOM_FILE), 'SBOM', 256 * 1024 * 1024)) as { spdxVersion?: string; packages?: SpdxPackage[]; relationships?: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[] };
        if (sbom.spdxVersion !== 'SPDX-2.3') problems.push(`${SBOM_FILE}: spdxVersion is ${sbom.spdxVersion}, expected SPDX-2.3`);
        const byId = new Map((sbom.packages ?? []).map((p) => [p.SPDXID, p]));
        const repoArtifact = (sbom.packages ?? []).find((p) => p.name === `repo/${format.repository.index(recipe)}`);
        if (!repoArtifact) problems.push(`${SBOM_FILE}: no package for the repository (repo/${format.repository.index(recipe)})`);
        const contained = new Map<string, SpdxPackage>();
        for (const r of sbom.relationships ?? []) {
          const p = byId.get(r.relatedSpdxElement);
          if (repoArtifact && r.spdxElementId === repoArtifact.SPDXID && r.relationshipType === 'CONTAINS' && p) {
            const arch = /[?&]arch=([^&]+)/.exec(p.externalRefs?.find((e) => e.referenceType === 'purl')?.referenceLocator ?? '')?.[1];
            contained.set(packageKey({ name: p.name, architecture: decodeURIComponent(arch ?? ''), version: p.versionInfo ?? '' }), p);
          }
        }
        sbomPackages = contained.size;
        for (const e of listed) {
          const p = contained.get(packageKey(e));
          if (!p) problems.push(`${e.name} ${e.version} (${e.architecture}) is in the repository but not in the SBOM`);
          else if (p.checksums?.find((c) => c.algorithm === 'SHA256')?.checksumValue !== e.sha256) problems.push(`${e.name} ${e.version}: the SBOM gives another sha256 than the repository`);
        }
        const inRepo = new Set(listed.map(packageKey));
        for (const k of contained.keys()) if (!inRepo.has(k)) problems.push(`${k.replace(/:/g, ' ')} is in the SBOM but not in the repository`);
      } catch (err) {
        problems.push(`${SBOM_FILE}: ${(err as Error).message}`);
      }
    }
  }
  const keyNote = opts.keyring ? `the key in ${displayPath(keyring)}` : `the key the release carries (${KEY_FILES[1]}; pass --keyring with a key you trust to check who signed it)`;
  if (problems.length) throw new XcpError(`release ${displayPath(dir)} does not verify (${problems.length} problem${problems.length === 1 ? '' : 's'})`, 'verification', problems.slice(0, 50).concat(problems.length > 50 ? [`… and ${problems.length - 50} more`] : []));
  if (session.json) session.emit({ ok: true, release: dir, version: record?.version, keyring, sbomPackages });
  else console.log(`${displayPath(dir)}: ${record?.recipe} ${record?.version} verifies: signatures by ${keyNote}, every checksum, and the SBOM's ${sbomPackages} packages match the repository`);
}
