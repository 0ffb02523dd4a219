import { Type } from '@sinclair/typebox';

/**
 * String shapes shared by the recipe and lock schemas. Every string that can reach a
 * deb822 file, a shell file, a command line, a URL or a path has one of these
 * patterns, so validation rejects it with file:line:col before anything is written
 * (and the place of writing escapes it anyway). None admits control characters.
 */
const NO_CONTROL = '\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029';

/** One line of free text: no control characters (so no line breaks), bounded length. */
export const Line = (description: string, maxLength = 200) =>
  Type.String({ minLength: 1, maxLength, pattern: `^[^${NO_CONTROL}]+$`, description });

/** Paragraphs of free text: line breaks allowed, no other control characters. */
export const Text = (description: string, maxLength = 8000) =>
  Type.String({ minLength: 1, maxLength, pattern: `^[^\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f\\u2028\\u2029]+$`, description });

/** A Debian-style name: lowercase letters, digits, and + . - */
export const Name = (description: string) => Type.String({ minLength: 1, maxLength: 100, pattern: '^[a-z0-9][a-z0-9+.-]*$', description });

/** http(s) or file URLs; the authority has no user information (credentials never go into a recipe or a command line). */
export const URL_PATTERN = "^(https?|file)://[A-Za-z0-9._~:%\\[\\]-]*([/?#][A-Za-z0-9._~:/?#@%+=,\\[\\]-]*)?$";
export const Url = (description: string) => Type.String({ maxLength: 500, pattern: URL_PATTERN, description });

/** A file path: no whitespace, quotes, backslashes or shell metacharacters (it is written into apt sources and hooks). */
export const FilePath = (description: string) => Type.String({ minLength: 1, maxLength: 500, pattern: '^[A-Za-z0-9._+/@,=~-]+$', description });

/** Kernel or Xen command-line options: words of a restricted character set separated by single spaces. */
export const Cmdline = (description: string) =>
  Type.String({ maxLength: 1000, pattern: '^([A-Za-z0-9_.,:=+/@%-]+( [A-Za-z0-9_.,:=+/@%-]+)*)?$', description });

export const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'a sha256 digest: 64 lowercase hexadecimal digits' });

/** A package version as the archives spell it (Debian's [epoch:]upstream[-revision], or RPM's version-release). */
export const PackageVersion = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^([0-9]+:)?[0-9A-Za-z][0-9A-Za-z.+~_^-]*$',
  description: 'an exact package version as the archive lists it, e.g. 4.17.7+13-g2445b30a44-0+deb12u1',
});
