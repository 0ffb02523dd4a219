import { CURRENT_API } from './versions';
import { Type, Static, TSchema } from '@sinclair/typebox';
import { Line, Text, Name, Url, FilePath, Cmdline, PackageVersion } from './strings';

/**
 * The recipe format, v1. This one definition yields the TypeScript types, the
 * validator and the JSON Schema shipped in schema/recipe.schema.json for editors.
 * Each `description` is also what validation errors say was expected.
 */

export const PackagePin = Type.Object(
  {
    name: Name('a package name: lowercase letters, digits, and + . -'),
    version: PackageVersion,
  },
  { additionalProperties: false, description: 'a package pinned to one exact version' },
);

export const Archive = Type.Object(
  {
    name: Name('a short name for this archive, e.g. debian or debian-security'),
    uri: Url('the archive base URL (http://, https:// or file://): for debian the directory holding dists/, for fedora the yum repository holding repodata/'),
    suites: Type.Optional(
      Type.Array(Type.String({ maxLength: 100, pattern: '^[a-z0-9][a-z0-9./-]*$', description: 'a suite or codename, e.g. bookworm-security' }), {
        minItems: 1,
        maxItems: 20,
        description: 'the suites to use from this archive (debian family; a yum archive is one repository at uri)',
      }),
    ),
    components: Type.Optional(
      Type.Array(Type.String({ maxLength: 100, pattern: '^[a-z0-9-]+$', description: 'an archive component, e.g. main' }), {
        minItems: 1,
        maxItems: 20,
        description: 'the archive components to use, e.g. [main] (debian family only)',
      }),
    ),
    keyring: Type.Optional(FilePath('path to the OpenPGP key(s) that sign this archive: its InRelease (debian) or its packages and repomd.xml (fedora); absolute, or relative to the recipe')),
    key: Type.Optional(
      Type.Object(
        {
          url: Url('where the key is published, e.g. https://fedoraproject.org/fedora.gpg'),
          fingerprint: Type.String({ pattern: '^[0-9A-F]{40}$', description: 'the key\'s full fingerprint: 40 uppercase hexadecimal digits, no spaces' }),
        },
        { additionalProperties: false, description: 'the signing key by URL, pinned by its fingerprint (fedora family; instead of keyring)' },
      ),
    ),
  },
  { additionalProperties: false, description: 'an upstream package archive' },
);

export const Metapackage = Type.Object(
  {
    version: Type.String({ maxLength: 100, pattern: '^[0-9][0-9A-Za-z.+~]*$', description: 'the metapackage version, e.g. 1.0.0 (native: no Debian revision)' }),
    maintainer: Type.String({ maxLength: 200, pattern: '^[^<>\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]+ <[^<>@\\s]+@[^<>\\s]+>$', description: 'a maintainer as "Full Name <address@example.org>"' }),
    summary: Type.String({ minLength: 1, maxLength: 80, pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*[^.\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]$', description: 'a one-line synopsis, at most 80 characters, no final full stop' }),
    description: Text('the long description (plain text paragraphs)'),
    groups: Type.Array(Type.String({ maxLength: 100, pattern: '^[a-z][a-z0-9-]*$', description: 'the name of a group under packages:' }), {
      maxItems: 100,
      description: 'the package groups (keys of packages:) this metapackage depends on, each at its pinned version',
    }),
    depends: Type.Optional(
      Type.Array(Type.String({ maxLength: 100, pattern: '^[a-z0-9][a-z0-9+.-]*$', description: 'the name of another metapackage of this recipe' }), {
        maxItems: 100,
        description: 'other metapackages or source packages (sources:) of this recipe this one depends on, at their exact version',
      }),
    ),
  },
  { additionalProperties: false, description: 'a metapackage: an empty package that depends on pinned packages' },
);

export const Source = Type.Object(
  {
    version: Type.String({
      maxLength: 100,
      pattern: '^[0-9][0-9A-Za-z.+~]*-[0-9]+(\\+[0-9A-Za-z.~]+)?$',
      description: "the package version-release the tree's packaging description must have, e.g. 1.0.0-1; a +suffix (1.0.0-1+nightly.20261202) is appended to the built package's release",
    }),
    path: Type.Optional(FilePath('the source tree in the project, relative to the recipe (it may not leave the directory above the recipe\'s)')),
    url: Type.Optional(Url('a tarball of the source tree (.tar, .tar.gz, .tar.xz), fetched by fetch and checked against sha256')),
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'the sha256 of the tarball at url' })),
    size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 ** 3, description: 'the size of the tarball at url, in bytes' })),
  },
  { additionalProperties: false, description: 'a package xcpbuild builds from source as .deb and .rpm: a tree in the project (path) or a tarball (url and sha256), holding <name>.pkg.yaml' },
);

/** Channel names: one path segment, also an apt Suite. */
export const CHANNEL_PATTERN = '^[a-z][a-z0-9-]*$';
const ChannelName = (description: string) => Type.String({ minLength: 1, maxLength: 40, pattern: CHANNEL_PATTERN, description });

export const Repository = Type.Object(
  {
    origin: Line('the Origin field of the Release file (one line)', 100),
    label: Line('the Label field of the Release file (one line)', 100),
    codename: Name('the repository codename: dists/<codename>/'),
    components: Type.Array(Type.String({ maxLength: 100, pattern: '^[a-z0-9-]+$', description: 'a repository component' }), {
      minItems: 1,
      maxItems: 1,
      description: 'the component the packages are published in, e.g. [main]',
    }),
    description: Line('the Description field of the Release file (one line)', 300),
    url: Url('where the repository will be served; written into the generated .sources file and the installed system'),
    channel: Type.Optional(ChannelName('the update channel installed hosts follow (e.g. stable): their apt source or .repo file names <channelsUrl>/<channel>/; needs channelsUrl')),
    channelsUrl: Type.Optional(Url('where <publish>/<name>/channels/ is served: the base URL of the update channels')),
    channelValidDays: Type.Optional(
      Type.Record(Type.String({ maxLength: 40, pattern: CHANNEL_PATTERN }), Type.Integer({ minimum: 1, maximum: 366 }), {
        maxProperties: 20,
        description: "days a channel's signed Release stays valid after it was published or refreshed (apt Valid-Until), per channel name; default nightly 7, others 30",
      }),
    ),
  },
  { additionalProperties: false, description: 'the signed repository xcpbuild publishes, and the update channel hosts follow' },
);

export const Installer = Type.Object(
  {
    packages: Type.Array(Name('a package name'), {
      minItems: 1,
      maxItems: 500,
      description: 'what the installer environment adds to the target system (live-boot, unsquashfs, …); the lock pins their versions',
    }),
  },
  {
    additionalProperties: false,
    description: 'the installer environment on the ISO: the target image with these packages as a layer on top, built from regular .debs in the lock',
  },
);

export const BootTest = Type.Object(
  {
    packages: Type.Array(Name('a package name'), {
      maxItems: 100,
      description: 'test-only packages the boot test installs into the installed appliance (NFS and iSCSI servers); never in the image',
    }),
  },
  { additionalProperties: false, description: 'what xcpbuild boot-test needs besides the appliance; the lock pins these too' },
);

export const BuildRoot = Type.Object(
  {
    archives: Type.Optional(
      Type.Array(Archive, {
        minItems: 1,
        maxItems: 20,
        description:
          "the Debian archives the build root is made from (suites, components and keyring as in a debian recipe): a fedora recipe names one, since rpmbuild runs in a clean Debian root (mock is not in Debian); a debian recipe may leave it out and use its own archives",
      }),
    ),
    packages: Type.Array(Name('a package name'), {
      maxItems: 100,
      description: "what the build root has besides the archive's Priority: required set (build dependencies of the recipe's sources)",
    }),
  },
  {
    additionalProperties: false,
    description: "the clean root the recipe's source packages are built in: a Debian root made by mmdebstrap from the lock's build closure, unpacked afresh for each build, offline",
  },
);

export const Iso = Type.Object(
  {
    volumeLabel: Type.String({ pattern: '^[A-Z0-9_]{1,32}$', description: 'the ISO volume label: up to 32 of A-Z, 0-9 and _' }),
    publisher: Line('the ISO publisher field (one line)', 128),
    timeout: Type.Integer({ minimum: 0, maximum: 600, description: 'seconds the boot menu waits before its default entry' }),
    xenCmdline: Cmdline('Xen command-line options of the installed system, e.g. dom0_mem=1024M,max:1024M (letters, digits and _ . , : = + / @ % -, separated by single spaces)'),
    dom0Cmdline: Cmdline('extra dom0 kernel options of the installed system (letters, digits and _ . , : = + / @ % -, separated by single spaces)'),
    vmVolumeGroup: Type.String({ maxLength: 100, pattern: '^[A-Za-z0-9_][A-Za-z0-9_.+-]*$', description: 'the LVM volume group for VM storage' }),
    rootPasswordHash: Type.Optional(Type.String({ maxLength: 300, pattern: '^\\$(1|5|6|y|gy|7|2b)\\$[./A-Za-z0-9$=,]+$', description: 'a crypt(3) hash for root in the ISO\'s answer file (no default password exists)' })),
    sshAuthorizedKeys: Type.Optional(
      Type.Array(
        Type.String({
          maxLength: 16384,
          pattern: '^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.-]+) [A-Za-z0-9+/=]+( [^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*)?$',
          description: 'an OpenSSH public key on one line: type, base64 key, optional comment',
        }),
        { maxItems: 100, description: 'SSH keys for root in the ISO\'s answer file' },
      ),
    ),
  },
  { additionalProperties: false, description: 'the appliance ISO' },
);

export const Recipe = Type.Object(
  {
    apiVersion: Type.Literal(CURRENT_API, { description: `the recipe format version: ${CURRENT_API} (recipes of earlier versions are read too; xcpbuild migrate rewrites them)` }),
    name: Name('the recipe name; also names the lock file and outputs'),
    version: Type.String({ maxLength: 100, pattern: '^[0-9][0-9A-Za-z.+~]*$', description: 'the appliance version, e.g. 1.0.0' }),
    target: Type.Object(
      {
        family: Type.Union([Type.Literal('debian'), Type.Literal('fedora')], { description: 'the distribution family: debian (apt, .deb) or fedora (dnf, .rpm)' }),
        release: Name('the target release: a codename for debian (e.g. bookworm), a release number for fedora (e.g. 43)'),
        architecture: Type.Union([Type.Literal('amd64')], { description: 'the target architecture: amd64' }),
      },
      { additionalProperties: false, description: 'the distribution the packages are built for' },
    ),
    archives: Type.Array(Archive, { minItems: 1, maxItems: 20, description: 'the upstream archives packages are resolved from' }),
    base: Type.Object(
      {
        priorities: Type.Array(
          Type.Union([Type.Literal('required'), Type.Literal('important'), Type.Literal('standard')], {
            description: 'a package priority: required, important or standard',
          }),
          { maxItems: 3, description: 'the priorities of the base system the closure is resolved on top of' },
        ),
      },
      { additionalProperties: false, description: 'the base system the lock includes' },
    ),
    packages: Type.Record(Type.String({ maxLength: 100, pattern: '^[a-z][a-z0-9-]*$' }), Type.Array(PackagePin, { minItems: 1, maxItems: 500 }), {
      maxProperties: 100,
      description: 'named groups of pinned packages, e.g. xen, kernel, toolstack, storage, network',
    }),
    sources: Type.Optional(
      Type.Record(Type.String({ maxLength: 100, pattern: '^[a-z0-9][a-z0-9+.-]*$' }), Source, {
        maxProperties: 50,
        description: 'packages built from source trees by this recipe, published in its repository; metapackages may depend on them',
      }),
    ),
    metapackages: Type.Record(Type.String({ maxLength: 100, pattern: '^[a-z0-9][a-z0-9+.-]*$' }), Metapackage, {
      maxProperties: 50,
      description: 'the metapackages to build, e.g. xenserver-core and xcp-full',
    }),
    repository: Repository,
    installer: Type.Optional(Installer),
    iso: Type.Optional(Iso),
    bootTest: Type.Optional(BootTest),
    buildRoot: Type.Optional(BuildRoot),
  },
  { additionalProperties: false, description: 'an xcpbuild recipe' },
);

export type Recipe = Static<typeof Recipe>;
export type PackagePin = Static<typeof PackagePin>;
export type Archive = Static<typeof Archive>;
export type Metapackage = Static<typeof Metapackage>;
export type Installer = Static<typeof Installer>;
export type Iso = Static<typeof Iso>;
export type BootTest = Static<typeof BootTest>;
export type BuildRoot = Static<typeof BuildRoot>;
export type Source = Static<typeof Source>;

/** The JSON Schema document shipped for editors. */
export function recipeJsonSchema(): TSchema & Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://xcpbuild.invalid/schema/recipe-v1.json',
    title: 'xcpbuild recipe v1',
    ...JSON.parse(JSON.stringify(Recipe)),
  };
}
