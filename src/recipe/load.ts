import { promises as fs } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { LineCounter, Document } from 'yaml';
import { Recipe, Archive } from './schema';
import { XcpError, describeSystemError } from '../errors';
import { DocIssue, parseWithPositions, schemaIssues, documentError, readBounded, nodeAt, positionOf, keyPathOf, sortIssues } from './document';
import { displayPath } from '../util/paths';
import { CURRENT_API, Migration, migrationOf, migrateData, REMOVED_KEYS } from './versions';
import { printable } from '../util/text';

export interface LoadedRecipe {
  recipe: Recipe;
  /** Set when the file is in an earlier recipe format: what reading it as the current one changed. */
  migration?: Migration;
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

/** Issues at positions of the recipe document, for a family's own checks. */
export interface RecipePositions {
  doc: Document;
  lc: LineCounter;
  issueAt(segs: string[], message: string): RecipeIssue;
}

/** What the recipe's family requires beyond the shared schema (family/recipe.ts supplies it). */
export type FamilyCheck = (recipe: Recipe, at: RecipePositions) => RecipeIssue[];

/** Loads and checks a recipe file; family/recipe.ts binds the family's checks (use its loadRecipe). */
export async function loadRecipeWith(recipeArg: string, familyCheck: FamilyCheck): Promise<LoadedRecipe> {
  const file = resolveRecipePath(recipeArg);
  const text = await readBounded(file, 'recipe', MAX_RECIPE_BYTES);
  const { recipe, issues, more, migration } = parseRecipeWith(text, familyCheck);
  if (recipe) issues.push(...(await checkFiles(recipe, path.dirname(file), text)));
  if (issues.length > 0 || !recipe) throw documentError(file, 'recipe', displayPath(file), sortIssues(issues), more);
  return { recipe, migration, file, dir: path.dirname(file), lockFile: file.replace(/\.ya?ml$/, '') + '.lock' };
}

/** Parses and validates recipe text; pure, so it is unit-tested without files. */
export function parseRecipeWith(text: string, familyCheck: FamilyCheck): ParsedRecipe {
  const parsed = parseWithPositions(text);
  if (parsed.issues.length) return { issues: parsed.issues, more: 0 };
  // An earlier format is read as the current one; positions still point into the file as written.
  const migration = migrationOf(parsed.data);
  if (migration) parsed.data = migrateData(parsed.data as Record<string, unknown>, migration);
  const { data, issues, more } = schemaIssues(validateRecipe, parsed);
  if (!data) return { issues: issues.map(withReplacement), more, migration };
  const refs = checkReferences(data, parsed.doc, parsed.lc, familyCheck);
  return refs.length ? { issues: sortIssues(refs), more: 0, migration } : { recipe: data, issues: [], more: 0, migration };
}

export interface ParsedRecipe {
  recipe?: Recipe;
  issues: RecipeIssue[];
  more: number;
  migration?: Migration;
}

/** An unknown key that an earlier format had says what replaced it. */
function withReplacement(issue: RecipeIssue): RecipeIssue {
  const removed = REMOVED_KEYS.find((k) => k.path.join('.') === issue.keyPath);
  if (!removed || !/unknown key/.test(issue.message)) return issue;
  return { ...issue, message: `removed in ${CURRENT_API}: ${removed.replacedBy} (xcpbuild migrate <recipe> rewrites an earlier recipe)` };
}

function issueAt(doc: Document, lc: LineCounter, segs: string[], message: string): RecipeIssue {
  return { ...positionOf(nodeAt(doc, segs), doc, lc), keyPath: keyPathOf(segs), message };
}

/** Cross-references the schema cannot express: metapackage groups and dependencies must exist. */
function checkReferences(recipe: Recipe, doc: Document, lc: LineCounter, familyCheck: FamilyCheck): RecipeIssue[] {
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
  if (recipe.repository.channel && !recipe.repository.channelsUrl) {
    issues.push(issueAt(doc, lc, ['repository', 'channel'], 'a channel needs repository.channelsUrl: the URL where <publish>/<name>/channels/ is served, which hosts update from'));
  }
  if (recipe.installer && !recipe.iso) issues.push(issueAt(doc, lc, ['installer'], 'an installer: section needs an iso: section (the installer is only used on the ISO)'));
  issues.push(...checkArchives(recipe, doc, lc));
  issues.push(...familyCheck(recipe, { doc, lc, issueAt: (segs, message) => issueAt(doc, lc, segs, message) }));
  return issues;
}

/** What every family requires of archives: one key each, and names the lock can tell apart. */
function checkArchives(recipe: Recipe, doc: Document, lc: LineCounter): RecipeIssue[] {
  const issues: RecipeIssue[] = [];
  const archiveNames = new Map<string, string>();
  for (const { archive: a, at } of archivesAt(recipe)) {
    if (!a.keyring === !a.key) issues.push(issueAt(doc, lc, at, 'expected exactly one of keyring: (a key file) or key: (url and fingerprint)'));
    const other = archiveNames.get(a.name);
    if (other) issues.push(issueAt(doc, lc, [...at, 'name'], `archive name "${a.name}" is already used by ${other}; the lock names archives by name`));
    else archiveNames.set(a.name, keyPathOf(at));
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
