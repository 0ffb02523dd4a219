import { Type, Static } from '@sinclair/typebox';
import { Line, Text, Name } from '../recipe/strings';

/**
 * A packaging description (<tree>/<name>.pkg.yaml): one text from which xcpbuild
 * builds the same package as a .deb and as an .rpm. It lists the files the package
 * installs, so no build system runs: every string here reaches a control file, a spec
 * or a path, and is restricted accordingly.
 */
const InstallPath = Type.String({
  maxLength: 300,
  pattern: '^/(usr|etc)(/[A-Za-z0-9_@+][A-Za-z0-9._@+-]*)+$',
  description: 'an absolute path under /usr or /etc: plain segments only (no .., no spaces)',
});

export const PackageFile = Type.Object(
  {
    source: Type.String({ maxLength: 300, pattern: '^[A-Za-z0-9_@+][A-Za-z0-9._@+-]*(/[A-Za-z0-9_@+][A-Za-z0-9._@+-]*)*$', description: 'a file of the source tree, relative to it (no .., no absolute path)' }),
    dest: InstallPath,
    mode: Type.Union([Type.Literal('0644'), Type.Literal('0755')], { description: 'the installed mode: 0644 or 0755' }),
  },
  { additionalProperties: false, description: 'a file the package installs' },
);

export const PackageLink = Type.Object(
  {
    dest: InstallPath,
    target: Type.String({ maxLength: 300, pattern: '^(/|\\.\\./|[A-Za-z0-9_@+])[A-Za-z0-9._@+/-]*$', description: 'where the link points' }),
  },
  { additionalProperties: false, description: 'a symbolic link the package installs (e.g. a systemd .wants link)' },
);

const DepNames = (format: string) =>
  Type.Array(Type.String({ maxLength: 100, pattern: '^[A-Za-z0-9_][A-Za-z0-9+._-]*$', description: `a ${format} package name` }), { maxItems: 100, description: `what the ${format} package depends on (names)` });

export const PackagingDescription = Type.Object(
  {
    name: Name('the package name'),
    version: Type.String({ maxLength: 100, pattern: '^[0-9][0-9A-Za-z.+~]*$', description: 'the upstream version, e.g. 1.0.0' }),
    release: Type.Integer({ minimum: 1, maximum: 10000, description: 'the packaging release: the .rpm Release and the .deb revision' }),
    summary: Type.String({ minLength: 1, maxLength: 80, pattern: '^[^.\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029](?:[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*[^.\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029])?$', description: 'a one-line synopsis, no final full stop' }),
    description: Text('the long description'),
    maintainer: Type.String({ maxLength: 200, pattern: '^[^<>\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]+ <[^<>@\\s]+@[^<>\\s]+>$', description: 'a maintainer as "Full Name <address@example.org>"' }),
    license: Type.Literal('MIT', { description: 'the license of the tree: MIT (its text is shipped)' }),
    homepage: Line('the project homepage (one line)', 200),
    files: Type.Array(PackageFile, { minItems: 1, maxItems: 500, description: 'the files the package installs' }),
    links: Type.Optional(Type.Array(PackageLink, { maxItems: 100, description: 'symbolic links the package installs' })),
    depends: Type.Object({ deb: DepNames('Debian'), rpm: DepNames('RPM') }, { additionalProperties: false, description: 'dependencies by format: the names differ between distributions' }),
  },
  { additionalProperties: false, description: 'an xcpbuild packaging description' },
);

export type PackagingDescription = Static<typeof PackagingDescription>;
