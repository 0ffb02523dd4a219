import { promises as fs } from 'node:fs';
import { Session } from './session';
import { resolveRecipePath, MAX_RECIPE_BYTES } from '../recipe/load';
import { readBounded, parseWithPositions, documentError, sortIssues } from '../recipe/document';
import { CURRENT_API, migrationOf, migrateText } from '../recipe/versions';
import { parseRecipe } from '../family/recipe';
import { writeFileAtomic } from '../util/fsutil';
import { displayPath } from '../util/paths';
import { XcpError } from '../errors';

/**
 * Rewrites a recipe of an earlier format in the current one, in place: only what the
 * format changed is edited (comments and key order stay), and the result must validate
 * before it replaces the file.
 */
export async function migrateCommand(session: Session, recipeArg: string, opts: { dryRun: boolean }): Promise<void> {
  const file = resolveRecipePath(recipeArg);
  const text = await readBounded(file, 'recipe', MAX_RECIPE_BYTES);
  const parsed = parseWithPositions(text);
  if (parsed.issues.length) throw documentError(file, 'recipe', displayPath(file), sortIssues(parsed.issues), 0);
  const migration = migrationOf(parsed.data);
  if (!migration) {
    if (session.json) session.emit({ ok: true, file, from: CURRENT_API, to: CURRENT_API, changes: [], written: false });
    else console.log(`${displayPath(file)}: already ${CURRENT_API}; nothing to change`);
    return;
  }
  const migrated = migrateText(text, parsed.doc, migration);
  const check = parseRecipe(migrated);
  if (!check.recipe || check.migration) {
    const why = check.issues.map((i) => `line ${i.line}: ${i.keyPath}: ${i.message}`);
    throw new XcpError(`${displayPath(file)}: the migrated recipe would not be valid ${CURRENT_API}; the file is unchanged`, 'invalidInput', why);
  }
  if (!opts.dryRun) await writeFileAtomic(file, migrated, (await fs.stat(file)).mode & 0o777);
  if (session.json) return session.emit({ ok: true, file, from: migration.from, to: CURRENT_API, changes: migration.changes, written: !opts.dryRun });
  console.log(`${displayPath(file)}: ${migration.from} → ${CURRENT_API}${opts.dryRun ? ' (dry run: not written)' : ''}`);
  for (const c of migration.changes) console.log(`  ${c}`);
}
