import { Archive } from '../../../recipe/schema';
import { RecipeIssue, RecipePositions } from '../../../recipe/load';

/** What apt needs of an archive: suites, components and a keyring file (not a key by URL). */
export function debianArchiveIssues(a: Archive, at: string[], pos: RecipePositions): RecipeIssue[] {
  const issues: RecipeIssue[] = [];
  if (a.key) issues.push(pos.issueAt([...at, 'key'], 'a debian archive names its keyring file (keyring:); key: by URL is for fedora archives'));
  for (const key of ['suites', 'components'] as const) {
    if (!a[key]) issues.push(pos.issueAt(at, `expected ${key}: in a debian archive (e.g. ${key === 'suites' ? '[bookworm]' : '[main]'})`));
  }
  return issues;
}
