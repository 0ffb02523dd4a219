import { promises as fs } from 'node:fs';
import path from 'node:path';
import Ajv, { ErrorObject } from 'ajv';
import { parseDocument, LineCounter, isMap, isSeq, isPair, isScalar, Node, Document } from 'yaml';
import { Recipe } from './schema';
import { XcpError, describeSystemError } from '../errors';

export interface LoadedRecipe {
  recipe: Recipe;
  file: string;
  dir: string;
  /** The lock file that belongs to this recipe: same path, `.lock` extension. */
  lockFile: string;
}

export interface RecipeIssue {
  line: number;
  col: number;
  keyPath: string;
  message: string;
}

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
const validateRecipe = ajv.compile<Recipe>(Recipe);

/** Resolves `xcp-bookworm` or `recipes/xcp-bookworm.yaml` to a recipe file. */
export function resolveRecipePath(arg: string, cwd = process.cwd()): string {
  if (/\.(ya?ml)$/.test(arg) || arg.includes('/')) return path.resolve(cwd, arg);
  return path.resolve(cwd, 'recipes', `${arg}.yaml`);
}

export async function loadRecipe(recipeArg: string): Promise<LoadedRecipe> {
  const file = resolveRecipePath(recipeArg);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new XcpError(`cannot read recipe ${file}: ${describeSystemError(err)}`, 'invalidInput');
  }
  const { recipe, issues } = parseRecipe(text);
  if (recipe) issues.push(...(await checkFiles(recipe, path.dirname(file), text)));
  if (issues.length > 0 || !recipe) {
    const lines = issues.map((i) => `${file}:${i.line}:${i.col}: ${i.keyPath ? `${i.keyPath}: ` : ''}${i.message}`);
    throw new XcpError(
      `recipe ${path.relative(process.cwd(), file) || file} is invalid (${issues.length} error${issues.length === 1 ? '' : 's'})`,
      'invalidInput',
      lines,
    );
  }
  return { recipe, file, dir: path.dirname(file), lockFile: file.replace(/\.ya?ml$/, '') + '.lock' };
}

/** Parses and validates recipe text; pure, so it is unit-tested without files. */
export function parseRecipe(text: string): { recipe?: Recipe; issues: RecipeIssue[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const issues: RecipeIssue[] = [];
  for (const err of doc.errors) {
    const pos = lineCounter.linePos(err.pos[0]);
    issues.push({ line: pos.line, col: pos.col, keyPath: '', message: `malformed YAML: ${err.message.split('\n')[0]}` });
  }
  if (issues.length) return { issues };
  const data = doc.toJS();
  if (!validateRecipe(data)) {
    for (const e of simplifyErrors(validateRecipe.errors ?? [])) issues.push(describeAjvError(e, doc, lineCounter));
    return { issues: sortIssues(issues) };
  }
  issues.push(...checkReferences(data, doc, lineCounter));
  return issues.length ? { issues: sortIssues(issues) } : { recipe: data, issues };
}

function sortIssues(issues: RecipeIssue[]): RecipeIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.col - b.col);
}

/** Drops the umbrella errors ajv adds for unions whose branches already explain the problem. */
function simplifyErrors(errors: ErrorObject[]): ErrorObject[] {
  const seen = new Set<string>();
  const out: ErrorObject[] = [];
  for (const e of errors) {
    if (e.keyword === 'anyOf') continue;
    if (e.keyword === 'const' && errors.some((o) => o.keyword === 'anyOf' && o.instancePath === e.instancePath)) {
      const key = `${e.instancePath}:union`;
      if (seen.has(key)) continue;
      seen.add(key);
      const union = errors.find((o) => o.keyword === 'anyOf' && o.instancePath === e.instancePath)!;
      out.push({ ...union, keyword: 'enum', params: { allowedValues: (union.schema as { const: unknown }[]).map((s) => s.const) } });
      continue;
    }
    out.push(e);
  }
  return out;
}

function segments(instancePath: string): string[] {
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function keyPathOf(segs: (string | number)[]): string {
  let out = '';
  for (const s of segs) {
    if (typeof s === 'number' || /^\d+$/.test(String(s))) out += `[${s}]`;
    else out += out ? `.${s}` : String(s);
  }
  return out;
}

function nodeAt(doc: Document, segs: string[]): Node | undefined {
  let node: unknown = doc.contents;
  for (const s of segs) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === s);
      node = pair?.value;
    } else if (isSeq(node)) {
      node = node.items[Number(s)];
    } else return undefined;
  }
  return node as Node | undefined;
}

function keyNodeAt(doc: Document, segs: string[], key: string): Node | undefined {
  const parent = nodeAt(doc, segs);
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
  return pair?.key as Node | undefined;
}

function position(node: Node | undefined, doc: Document, lc: LineCounter): { line: number; col: number } {
  const offset = node?.range?.[0] ?? doc.contents?.range?.[0] ?? 0;
  return lc.linePos(offset);
}

function found(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return `a list`;
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value}"`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

function describeAjvError(e: ErrorObject, doc: Document, lc: LineCounter): RecipeIssue {
  const segs = segments(e.instancePath);
  const expected = (e.parentSchema as { description?: string } | undefined)?.description;
  let node = nodeAt(doc, segs);
  let keyPath = keyPathOf(segs);
  let message: string;
  switch (e.keyword) {
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      const props = (e.schema as string[]) && (e.parentSchema as { properties?: Record<string, { description?: string }> }).properties;
      const what = props?.[missing]?.description;
      keyPath = keyPathOf([...segs, missing]);
      message = `missing required key "${missing}"${what ? ` (expected ${what})` : ''}`;
      break;
    }
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      node = keyNodeAt(doc, segs, extra) ?? node;
      keyPath = keyPathOf([...segs, extra]);
      const allowed = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
      message = `unknown key "${extra}"${allowed.length ? ` (expected one of: ${allowed.join(', ')})` : ''}`;
      break;
    }
    case 'propertyNames': {
      message = `invalid key (expected ${expected ?? 'a valid name'})`;
      break;
    }
    case 'type':
      message = `expected ${expected ?? (e.params as { type: string }).type}, found ${found(e.data)}`;
      break;
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
      message = `expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, found ${found(e.data)}`;
      break;
    }
    case 'const':
      message = `expected ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}, found ${found(e.data)}`;
      break;
    case 'minItems':
      message = `expected at least ${(e.params as { limit: number }).limit} item(s): ${expected ?? ''}`.trim();
      break;
    case 'maxItems':
      message = `expected at most ${(e.params as { limit: number }).limit} item(s)${expected ? `: ${expected}` : ''}`;
      break;
    default:
      message = `expected ${expected ?? e.message}, found ${found(e.data)}`;
  }
  return { ...position(node, doc, lc), keyPath, message };
}

/** Cross-references the schema cannot express: metapackage groups and dependencies must exist. */
function checkReferences(recipe: Recipe, doc: Document, lc: LineCounter): RecipeIssue[] {
  const issues: RecipeIssue[] = [];
  const groups = Object.keys(recipe.packages);
  const metas = Object.keys(recipe.metapackages);
  for (const [meta, def] of Object.entries(recipe.metapackages)) {
    def.groups.forEach((g, i) => {
      if (!recipe.packages[g]) {
        const segs = ['metapackages', meta, 'groups', String(i)];
        issues.push({ ...position(nodeAt(doc, segs), doc, lc), keyPath: keyPathOf(segs), message: `expected one of the groups under packages: (${groups.join(', ')}), found "${g}"` });
      }
    });
    (def.depends ?? []).forEach((d, i) => {
      if (!recipe.metapackages[d] || d === meta) {
        const segs = ['metapackages', meta, 'depends', String(i)];
        issues.push({ ...position(nodeAt(doc, segs), doc, lc), keyPath: keyPathOf(segs), message: `expected another metapackage of this recipe (${metas.filter((m) => m !== meta).join(', ')}), found "${d}"` });
      }
    });
  }
  const seen = new Map<string, string>();
  for (const [group, pins] of Object.entries(recipe.packages)) {
    pins.forEach((pin, i) => {
      const other = seen.get(pin.name);
      if (other) {
        const segs = ['packages', group, String(i), 'name'];
        issues.push({ ...position(nodeAt(doc, segs), doc, lc), keyPath: keyPathOf(segs), message: `package "${pin.name}" is already pinned in ${other}` });
      } else seen.set(pin.name, keyPathOf(['packages', group, i]));
    });
  }
  if (recipe.installer && !recipe.packages[recipe.installer.kernel]) {
    const segs = ['installer', 'kernel'];
    issues.push({ ...position(nodeAt(doc, segs), doc, lc), keyPath: keyPathOf(segs), message: `expected one of the groups under packages: (${groups.join(', ')}), found "${recipe.installer.kernel}"` });
  }
  for (const meta of metas) {
    if (seen.has(meta)) {
      const segs = ['metapackages', meta];
      issues.push({ ...position(keyNodeAt(doc, ['metapackages'], meta), doc, lc), keyPath: keyPathOf(segs), message: `metapackage "${meta}" has the name of a pinned package` });
    }
  }
  return issues;
}

async function checkFiles(recipe: Recipe, dir: string, text: string): Promise<RecipeIssue[]> {
  const issues: RecipeIssue[] = [];
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  for (const [i, archive] of recipe.archives.entries()) {
    const keyring = path.resolve(dir, archive.keyring);
    try {
      await fs.access(keyring);
    } catch (err) {
      const segs = ['archives', String(i), 'keyring'];
      issues.push({ ...position(nodeAt(doc, segs), doc, lc), keyPath: keyPathOf(segs), message: `expected a readable keyring file, found ${keyring} (${describeSystemError(err)})` });
    }
  }
  return issues;
}

/** The absolute keyring path of an archive. */
export function keyringPath(loaded: LoadedRecipe, archiveKeyring: string): string {
  return path.resolve(loaded.dir, archiveKeyring);
}
