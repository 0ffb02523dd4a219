import { Type, Static, TSchema } from '@sinclair/typebox';

/**
 * The recipe format, v1. This one definition yields the TypeScript types, the
 * validator and the JSON Schema shipped in schema/recipe.schema.json for editors.
 * Each `description` is also what validation errors say was expected.
 */

const Name = (description: string) => Type.String({ pattern: '^[a-z0-9][a-z0-9+.-]*$', description });

const DebianVersion = Type.String({
  pattern: '^([0-9]+:)?[0-9A-Za-z.+~-]+$',
  description: 'an exact package version as the archive lists it, e.g. 4.17.7+13-g2445b30a44-0+deb12u1',
});

export const PackagePin = Type.Object(
  {
    name: Name('a package name: lowercase letters, digits, and + . -'),
    version: DebianVersion,
  },
  { additionalProperties: false, description: 'a package pinned to one exact version' },
);

export const Archive = Type.Object(
  {
    name: Name('a short name for this archive, e.g. debian or debian-security'),
    uri: Type.String({ pattern: '^(https?|file)://\\S+$', description: 'the archive base URL (http://, https:// or file://)' }),
    suites: Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9./-]*$', description: 'a suite or codename, e.g. bookworm-security' }), {
      minItems: 1,
      description: 'the suites to use from this archive',
    }),
    components: Type.Array(Type.String({ pattern: '^[a-z0-9-]+$', description: 'an archive component, e.g. main' }), {
      minItems: 1,
      description: 'the archive components to use, e.g. [main]',
    }),
    keyring: Type.String({ minLength: 1, description: 'path to the OpenPGP keyring that signs this archive (absolute, or relative to the recipe)' }),
  },
  { additionalProperties: false, description: 'an upstream package archive' },
);

export const Metapackage = Type.Object(
  {
    version: Type.String({ pattern: '^[0-9][0-9A-Za-z.+~]*$', description: 'the metapackage version, e.g. 1.0.0 (native: no Debian revision)' }),
    maintainer: Type.String({ pattern: '^[^<>]+ <[^<>@\\s]+@[^<>\\s]+>$', description: 'a maintainer as "Full Name <address@example.org>"' }),
    summary: Type.String({ minLength: 1, maxLength: 80, pattern: '^[^\\n]*[^.\\n]$', description: 'a one-line synopsis, at most 80 characters, no final full stop' }),
    description: Type.String({ minLength: 1, description: 'the long description (plain text paragraphs)' }),
    groups: Type.Array(Type.String({ description: 'the name of a group under packages:' }), {
      description: 'the package groups (keys of packages:) this metapackage depends on, each at its pinned version',
    }),
    depends: Type.Optional(
      Type.Array(Type.String({ description: 'the name of another metapackage of this recipe' }), {
        description: 'other metapackages of this recipe this one depends on, at their exact version',
      }),
    ),
  },
  { additionalProperties: false, description: 'a metapackage: an empty package that depends on pinned packages' },
);

export const Repository = Type.Object(
  {
    origin: Type.String({ minLength: 1, description: 'the Origin field of the Release file' }),
    label: Type.String({ minLength: 1, description: 'the Label field of the Release file' }),
    codename: Name('the repository codename: dists/<codename>/'),
    components: Type.Array(Type.String({ pattern: '^[a-z0-9-]+$', description: 'a repository component' }), {
      minItems: 1,
      maxItems: 1,
      description: 'the component the packages are published in, e.g. [main]',
    }),
    description: Type.String({ minLength: 1, description: 'the Description field of the Release file' }),
    url: Type.String({
      pattern: '^(https?|file)://\\S+$',
      description: 'where the repository will be served; written into the generated .sources file',
    }),
  },
  { additionalProperties: false, description: 'the signed apt repository xcpbuild publishes' },
);

export const Installer = Type.Object(
  {
    priorities: Type.Array(Type.Union([Type.Literal('required'), Type.Literal('important')], { description: 'a package priority: required or important' }), {
      description: 'the priorities of the installer environment base',
    }),
    kernel: Type.String({ description: 'the group under packages: whose kernel the installer boots (e.g. kernel)' }),
    packages: Type.Array(Name('a package name'), {
      minItems: 1,
      description: 'the packages of the installer environment; the lock pins their versions',
    }),
  },
  { additionalProperties: false, description: 'the installer environment on the ISO, built from regular .debs in the lock' },
);

export const Iso = Type.Object(
  {
    volumeLabel: Type.String({ pattern: '^[A-Z0-9_]{1,32}$', description: 'the ISO volume label: up to 32 of A-Z, 0-9 and _' }),
    publisher: Type.String({ minLength: 1, maxLength: 128, description: 'the ISO publisher field' }),
    timeout: Type.Integer({ minimum: 0, maximum: 600, description: 'seconds the boot menu waits before its default entry' }),
    xenCmdline: Type.String({ description: 'Xen command-line options of the installed system, e.g. dom0_mem=1024M,max:1024M' }),
    dom0Cmdline: Type.String({ description: 'extra dom0 kernel options of the installed system' }),
    vmVolumeGroup: Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.+-]*$', description: 'the LVM volume group for VM storage' }),
    rootPasswordHash: Type.Optional(Type.String({ pattern: '^\\$(1|5|6|y|gy|7|2b)\\$[./A-Za-z0-9$=,]+$', description: 'a crypt(3) hash for root in the ISO\'s answer file (no default password exists)' })),
    sshAuthorizedKeys: Type.Optional(Type.Array(Type.String({ pattern: '^(ssh-|ecdsa-|sk-)\\S+ \\S+', description: 'an OpenSSH public key' }), { description: 'SSH keys for root in the ISO\'s answer file' })),
  },
  { additionalProperties: false, description: 'the appliance ISO' },
);

export const Recipe = Type.Object(
  {
    apiVersion: Type.Literal('xcpbuild/v1', { description: 'the recipe format version: xcpbuild/v1' }),
    name: Name('the recipe name; also names the lock file and outputs'),
    version: Type.String({ pattern: '^[0-9][0-9A-Za-z.+~]*$', description: 'the appliance version, e.g. 1.0.0' }),
    target: Type.Object(
      {
        family: Type.Union([Type.Literal('debian')], { description: 'the distribution family: debian' }),
        release: Name('the target release codename, e.g. bookworm'),
        architecture: Type.Union([Type.Literal('amd64')], { description: 'the target architecture: amd64' }),
      },
      { additionalProperties: false, description: 'the distribution the packages are built for' },
    ),
    archives: Type.Array(Archive, { minItems: 1, description: 'the upstream archives packages are resolved from' }),
    base: Type.Object(
      {
        priorities: Type.Array(
          Type.Union([Type.Literal('required'), Type.Literal('important'), Type.Literal('standard')], {
            description: 'a package priority: required, important or standard',
          }),
          { description: 'the priorities of the base system the closure is resolved on top of' },
        ),
      },
      { additionalProperties: false, description: 'the base system the lock includes' },
    ),
    packages: Type.Record(Type.String({ pattern: '^[a-z][a-z0-9-]*$' }), Type.Array(PackagePin, { minItems: 1 }), {
      description: 'named groups of pinned packages, e.g. xen, kernel, toolstack, storage, network',
    }),
    metapackages: Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9+.-]*$' }), Metapackage, {
      description: 'the metapackages to build, e.g. xenserver-core and xcp-full',
    }),
    repository: Repository,
    installer: Type.Optional(Installer),
    iso: Type.Optional(Iso),
  },
  { additionalProperties: false, description: 'an xcpbuild recipe' },
);

export type Recipe = Static<typeof Recipe>;
export type PackagePin = Static<typeof PackagePin>;
export type Archive = Static<typeof Archive>;
export type Metapackage = Static<typeof Metapackage>;
export type Installer = Static<typeof Installer>;
export type Iso = Static<typeof Iso>;

/** The JSON Schema document shipped for editors. */
export function recipeJsonSchema(): TSchema & Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://xcpbuild.invalid/schema/recipe-v1.json',
    title: 'xcpbuild recipe v1',
    ...JSON.parse(JSON.stringify(Recipe)),
  };
}
