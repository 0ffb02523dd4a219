import { promises as fs } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { LineCounter, Document } from 'yaml';
import { Recipe, Archive } from './schema';
import { XcpError, describeSystemError } from '../errors';
import { DocIssue, parseWithPositions, schemaIssues, documentError, readBounded, nodeAt, positionOf, keyPathOf, sortIssues } from './document';
import { displayPath } from '../util/paths';
import { printable } from '../util/text';

export interface LoadedRecipe {
  recipe: Recipe;
  file: string;
  dir: string;
  /** The lock file that belongs to this recipe: same path, `.lock` extension. */
  lockFile: string;
}

export type RecipeIssue = DocIssue;

/** A recipe is a few kilobytes; anything near this is not a recipe, and is refused before parsing. */
export const MAX_RECIPE_BYTES = 1024 * 1024;

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
const validateRecipe = ajv.compile<Recipe>(Recipe);

/** True if `value` is a valid recipe document (no positions: for recipes that come as JSON, e.g. in a release). */
export function isRecipe(value: unknown): value is Recipe {
  return validateRecipe(value);
}

/** Resolves `xcp-bookworm` or `recipes/xcp-bookworm.yaml` to a recipe file. */
export function resolveRecipePath(arg: string, cwd = process.cwd()): string {
  if (/[\u0000-\u001f]/.test(arg)) throw new XcpError(`recipe argument "${printable(arg)}" has control characters`, 'usage');
  if (/\.(ya?ml)$/.test(arg) || arg.includes('/')) return path.resolve(cwd, arg);
  if (!/^[a-z0-9][a-z0-9+.-]*$/.test(arg)) throw new XcpError(`recipe "${printable(arg)}": expected a recipe file (.yaml) or the name of one under recipes/`, 'usage');
  return path.resolve(cwd, 'recipes', `${arg}.yaml`);
}

export async function loadRecipe(recipeArg: string): Promise<LoadedRecipe> {
  const file = resolveRecipePath(recipeArg);
  const text = await readBounded(file, 'recipe', MAX_RECIPE_BYTES);
  const { recipe, issues, more } = parseRecipe(text);
  if (recipe) issues.push(...(await checkFiles(recipe, path.dirname(file), text)));
  if (issues.length > 0 || !recipe) throw documentError(file, 'recipe', displayPath(file), sortIssues(issues), more);
  return { recipe, file, dir: path.dirname(file), lockFile: file.replace(/\.ya?ml$/, '') + '.lock' };
}

/** Parses and validates recipe text; pure, so it is unit-tested without files. */
export function parseRecipe(text: string): { recipe?: Recipe; issues: RecipeIssue[]; more: number } {
  const parsed = parseWithPositions(text);
  if (parsed.issues.length) return { issues: parsed.issues, more: 0 };
  const { data, issues, more } = schemaIssues(validateRecipe, parsed);
  if (!data) return { issues, more };
  const refs = checkReferences(data, parsed.doc, parsed.lc);
  return refs.length ? { issues: sortIssues(refs), more: 0 } : { recipe: data, issues: [], more: 0 };
}

function issueAt(doc: Document, lc: LineCounter, segs: string[], message: string): RecipeIssue {
  return { ...positionOf(nodeAt(doc, segs), doc, lc), keyPath: keyPathOf(segs), message };
}

/** Cross-references the schema cannot express: metapackage groups and dependencies must exist. */
function checkReferences(recipe: Recipe, doc: Document, lc: LineCounter): RecipeIssue[] {
  const issues: RecipeIssue[] = [];
  const groups = Object.keys(recipe.packages);
  const metas = Object.keys(recipe.metapackages);
  for (const [meta, def] of Object.entries(recipe.metapackages)) {
    def.groups.forEach((g, i) => {
      if (!recipe.packages[g]) issues.push(issueAt(doc, lc, ['metapackages', meta, 'groups', String(i)], `expected one of the groups under packages: (${groups.join(', ')}), found "${g}"`));
    });
    (def.depends ?? []).forEach((d, i) => {
      if ((!recipe.metapackages[d] && !recipe.sources?.[d]) || d === meta) {
        const names = [...metas.filter((m) => m !== meta), ...Object.keys(recipe.sources ?? {})];
        issues.push(issueAt(doc, lc, ['metapackages', meta, 'depends', String(i)], `expected another metapackage or a source package of this recipe (${names.join(', ')}), found "${d}"`));
      }
    });
  }
  const seen = new Map<string, string>();
  for (const [group, pins] of Object.entries(recipe.packages)) {
    pins.forEach((pin, i) => {
      const other = seen.get(pin.name);
      if (other) issues.push(issueAt(doc, lc, ['packages', group, String(i), 'name'], `package "${pin.name}" is already pinned in ${other}`));
      else seen.set(pin.name, keyPathOf(['packages', group, i]));
    });
  }
  for (const meta of metas) {
    if (seen.has(meta)) issues.push(issueAt(doc, lc, ['metapackages', meta], `metapackage "${meta}" has the name of a pinned package`));
  }
  for (const [name, src] of Object.entries(recipe.sources ?? {})) {
    if (seen.has(name) || recipe.metapackages[name]) issues.push(issueAt(doc, lc, ['sources', name], `source package "${name}" has the name of a pinned package or a metapackage`));
    if (!src.path === !src.url) issues.push(issueAt(doc, lc, ['sources', name], 'expected exactly one of path: (a tree in the project) or url: (a tarball)'));
    if (!!src.url !== !!src.sha256 || !!src.url !== !!src.size) issues.push(issueAt(doc, lc, ['sources', name], 'a tarball source needs url:, sha256: and size:'));
  }
  if (recipe.installer && !recipe.iso) issues.push(issueAt(doc, lc, ['installer'], 'an installer: section needs an iso: section (the installer is only used on the ISO)'));
  issues.push(...checkFamily(recipe, doc, lc));
  return issues;
}

/** What each distribution family requires of archives and sections the shared schema leaves open. */
function checkFamily(recipe: Recipe, doc: Document, lc: LineCounter): RecipeIssue[] {
  const issues: RecipeIssue[] = [];
  const family = recipe.target.family;
  const archiveNames = new Map<string, string>();
  for (const { archive: a, at } of archivesAt(recipe)) {
    // The build root is a Debian root whatever the family: its archives are debian archives.
    const kind = at[0] === 'buildRoot' ? 'debian' : family;
    if (!a.keyring === !a.key) issues.push(issueAt(doc, lc, at, 'expected exactly one of keyring: (a key file) or key: (url and fingerprint)'));
    if (kind === 'debian' && a.key) issues.push(issueAt(doc, lc, [...at, 'key'], 'a debian archive names its keyring file (keyring:); key: by URL is for fedora archives'));
    for (const key of ['suites', 'components'] as const) {
      if (kind === 'debian' && !a[key]) issues.push(issueAt(doc, lc, at, `expected ${key}: in a debian archive (e.g. ${key === 'suites' ? '[bookworm]' : '[main]'})`));
      if (kind === 'fedora' && a[key]) issues.push(issueAt(doc, lc, [...at, key], `a fedora archive is one yum repository at uri (the directory holding repodata/); ${key}: is for debian archives`));
    }
    const other = archiveNames.get(a.name);
    if (other) issues.push(issueAt(doc, lc, [...at, 'name'], `archive name "${a.name}" is already used by ${other}; the lock names archives by name`));
    else archiveNames.set(a.name, keyPathOf(at));
  }
  const buildArchives = recipe.buildRoot?.archives ?? [];
  if (Object.keys(recipe.sources ?? {}).length && family === 'fedora') {
    if (!buildArchives.length) {
      issues.push(issueAt(doc, lc, recipe.buildRoot ? ['buildRoot'] : ['sources'], "expected buildRoot: with archives: (a Debian archive) and packages: [rpm]: a fedora recipe's sources are built by rpmbuild in a clean Debian root"));
    } else if (!recipe.buildRoot!.packages.includes('rpm')) {
      issues.push(issueAt(doc, lc, ['buildRoot', 'packages'], 'expected rpm among the build root packages: rpmbuild runs in the build root'));
    }
  }
  if (family === 'fedora') {
    if (!/^[0-9]+$/.test(recipe.target.release)) issues.push(issueAt(doc, lc, ['target', 'release'], `expected a Fedora release number (e.g. 43), found "${recipe.target.release}"`));
    if (recipe.base.priorities.length) issues.push(issueAt(doc, lc, ['base', 'priorities'], 'expected [] for the fedora family: dnf resolves the closure of the pins into an empty installroot; Debian priorities do not apply'));
    for (const key of ['installer', 'bootTest'] as const) {
      if (recipe[key]) issues.push(issueAt(doc, lc, [key], `the fedora family installs with Anaconda and a kickstart (iso:); ${key}: is for debian recipes`));
    }
  }
  return issues;
}

async function checkFiles(recipe: Recipe, dir: string, text: string): Promise<RecipeIssue[]> {
  const issues: RecipeIssue[] = [];
  const parsed = parseWithPositions(text);
  for (const [name, src] of Object.entries(recipe.sources ?? {})) {
    if (!src.path) continue;
    const tree = path.resolve(dir, src.path);
    const top = path.dirname(dir);
    if (tree !== top && !tree.startsWith(top + path.sep)) {
      issues.push(issueAt(parsed.doc, parsed.lc, ['sources', name, 'path'], `expected a tree inside ${top} (the directory above the recipe's), found ${tree}`));
      continue;
    }
    const st = await fs.stat(tree).catch(() => undefined);
    if (!st?.isDirectory()) issues.push(issueAt(parsed.doc, parsed.lc, ['sources', name, 'path'], `expected a directory, found ${tree} (${st ? 'not a directory' : 'missing'})`));
  }
  for (const { archive, at } of archivesAt(recipe)) {
    if (!archive.keyring) continue;
    const keyring = path.resolve(dir, archive.keyring);
    try {
      const st = await fs.stat(keyring);
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
      await fs.access(keyring);
    } catch (err) {
      issues.push(issueAt(parsed.doc, parsed.lc, [...at, 'keyring'], `expected a readable keyring file, found ${keyring} (${describeSystemError(err)})`));
    }
  }
  return issues;
}

/** The absolute path of a source tree given by path:. */
export function sourceTreePath(loaded: LoadedRecipe, treePath: string): string {
  return path.resolve(loaded.dir, treePath);
}

/** Every archive the recipe names, with its key path: its own, then its build root's. */
function archivesAt(recipe: Recipe): { archive: Archive; at: string[] }[] {
  const own = recipe.archives.map((archive, i) => ({ archive, at: ['archives', String(i)] }));
  return [...own, ...(recipe.buildRoot?.archives ?? []).map((archive, i) => ({ archive, at: ['buildRoot', 'archives', String(i)] }))];
}

/** Every archive the recipe names: its own, then its build root's. */
export function allArchives(recipe: Recipe): Archive[] {
  return archivesAt(recipe).map((e) => e.archive);
}

/** The absolute keyring path of an archive. */
export function keyringPath(loaded: LoadedRecipe, archiveKeyring: string): string {
  return path.resolve(loaded.dir, archiveKeyring);
}
