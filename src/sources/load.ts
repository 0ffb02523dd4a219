import path from 'node:path';
import Ajv from 'ajv';
import { PackagingDescription } from './schema';
import { parseWithPositions, schemaIssues, documentError, readBounded, nodeAt, positionOf } from '../recipe/document';
import { checkPlainPathBelow } from '../util/nofollow';
import { displayPath } from '../util/paths';
import { confine } from '../util/fsutil';
import { XcpError } from '../errors';

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
const validate = ajv.compile<PackagingDescription>(PackagingDescription);

export function descriptionFile(tree: string, name: string): string {
  return path.join(tree, `${name}.pkg.yaml`);
}

/** A packaging description as a recipe builds it: its release, plus the recipe's +suffix if the pin has one (a nightly's rebuild). */
export interface LoadedDescription extends PackagingDescription {
  /** The .rpm Release and the .deb revision: `release`, or `release+suffix`. */
  fullRelease: string;
}

/** Reads and validates <tree>/<name>.pkg.yaml (file:line:col on every problem) and checks that its files exist in the tree. */
export async function loadDescription(tree: string, name: string, version: string): Promise<LoadedDescription> {
  const file = descriptionFile(tree, name);
  const text = await readBounded(file, 'packaging description', 256 * 1024, { noFollow: true });
  const parsed = parseWithPositions(text);
  if (parsed.issues.length) throw documentError(file, 'packaging description', displayPath(file), parsed.issues);
  const { data, issues, more } = schemaIssues(validate, parsed);
  if (!data) throw documentError(file, 'packaging description', displayPath(file), issues, more);
  const problems: string[] = [];
  if (data.name !== name) problems.push(`${displayPath(file)}: name is "${data.name}", but the recipe's sources: entry is "${name}"`);
  const base = `${data.version}-${data.release}`;
  const suffix = version.startsWith(`${base}+`) ? version.slice(base.length) : '';
  if (base + suffix !== version) problems.push(`${displayPath(file)}: version-release is ${base}, but the recipe pins ${version}`);
  for (const [i, f] of data.files.entries()) {
    confine(tree, f.source, `the file ${f.source}`);
    const pos = positionOf(nodeAt(parsed.doc, ['files', String(i), 'source']), parsed.doc, parsed.lc);
    await checkPlainPathBelow(tree, f.source, `${displayPath(file)}:${pos.line}:${pos.col}: files[${i}].source`).catch((err: XcpError) => problems.push(err.message));
  }
  const dests = [...data.files.map((f) => f.dest), ...(data.links ?? []).map((l) => l.dest)];
  for (const d of dests.filter((d, i) => dests.indexOf(d) !== i)) problems.push(`${displayPath(file)}: two entries install ${d}`);
  if (problems.length) throw new XcpError(problems[0], 'invalidInput', problems.slice(1));
  return { ...data, fullRelease: `${data.release}${suffix}` };
}
