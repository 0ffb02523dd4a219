import { Type, Static } from '@sinclair/typebox';
import { Name, Url, Sha256, PackageVersion, Line } from '../recipe/strings';

/**
 * The lock file format. A lock comes from many hands (committed, reviewed, merged) and
 * its filenames become paths on disk, so it is validated as strictly as a recipe.
 */
export const LOCK_VERSION = 1;

/** A path below an archive (pool/… for apt, Packages/… for yum): plain segments only, no `..`, no absolute path. */
export const POOL_PATH_PATTERN = '^([A-Za-z0-9+_~][A-Za-z0-9+._~-]*/)*[A-Za-z0-9+_~][A-Za-z0-9+._~%:^-]*\\.(deb|rpm)$';
const PoolPath = Type.String({
  maxLength: 500,
  pattern: POOL_PATH_PATTERN,
  description: "the file's path below the archive URL, e.g. pool/…/name_version_arch.deb or Packages/x/name-version-release.arch.rpm; plain segments only",
});

/** Package names as archives spell them: Debian's are lowercase, RPM's may have capitals and _ (perl-Carp). */
const PackageName = (description: string) => Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_][A-Za-z0-9+._-]*$', description });

export const LockedPackage = Type.Object(
  {
    name: PackageName('a package name'),
    version: PackageVersion,
    architecture: Type.String({ pattern: '^[a-z0-9_]+$', maxLength: 32, description: 'an architecture, e.g. amd64 or all' }),
    sha256: Sha256,
    size: Type.Integer({ minimum: 0, maximum: 8 * 1024 ** 3, description: 'the file size in bytes' }),
    archive: Name('the name of a recipe archive'),
    suite: Type.String({ maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9./_-]*$', description: 'the suite the file was found in' }),
    filename: PoolPath,
    source: PackageName('the source package name'),
    sourceRpm: Type.Optional(Type.String({ maxLength: 300, pattern: '^[A-Za-z0-9_][A-Za-z0-9+._~^-]*\\.(src|nosrc)\\.rpm$', description: 'the source RPM the package was built from (rpm only)' })),
    priority: Type.Optional(Type.String({ maxLength: 30, pattern: '^[a-z-]+$', description: "the archive's Priority of the package (it overrides the package's own)" })),
    section: Type.Optional(Type.String({ maxLength: 60, pattern: '^[a-z0-9/-]+$', description: "the archive's Section of the package" })),
  },
  { additionalProperties: false, description: 'one locked package file' },
);

export const LockedArchive = Type.Object(
  {
    name: Name('the name of a recipe archive (archives: or buildRoot.archives:)'),
    uri: Url('the archive URL'),
    suite: Type.String({ maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9./_-]*$', description: 'a suite' }),
    inRelease: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'the sha256 of the InRelease file (apt archives)' })),
    repomd: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'the sha256 of repodata/repomd.xml (yum archives)' })),
    date: Type.String({ maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f]*$', description: 'the Date field of the InRelease file, or the repomd.xml revision' }),
  },
  { additionalProperties: false, description: 'an archive state the closure was resolved against' },
);

const Closure = (description: string) => Type.Array(LockedPackage, { maxItems: 20000, description });

export const Lock = Type.Object(
  {
    lockVersion: Type.Literal(LOCK_VERSION, { description: `the lock format version: ${LOCK_VERSION}` }),
    recipe: Name('the recipe name'),
    inputs: Type.Record(Type.String({ maxLength: 100, pattern: '^[A-Za-z0-9 ._/()-]+$' }), Type.String({ pattern: '^[0-9a-f]{64}$' }), {
      maxProperties: 50,
      description: 'digests of the recipe fields and keyrings that decide the closure',
    }),
    resolvedAt: Type.String({ pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z$', description: 'when the closure was resolved, as an ISO 8601 UTC time' }),
    archives: Type.Array(LockedArchive, { maxItems: 100, description: 'the archive states the closure was resolved against' }),
    packages: Closure('the install closure of the target system'),
    installer: Type.Optional(Closure('the packages of the installer environment')),
    test: Type.Optional(Closure('test-only packages the boot test installs (never in the production image)')),
    build: Type.Optional(Closure("the clean build root of the recipe's source packages: Priority required plus buildRoot.packages, resolved on its own")),
    note: Type.Optional(Line('a free comment', 500)),
  },
  { additionalProperties: false, description: 'an xcpbuild lock' },
);

export type Lock = Static<typeof Lock>;
export type LockedPackage = Static<typeof LockedPackage>;
export type LockedArchive = Static<typeof LockedArchive>;
