import { promises as fs } from 'node:fs';
import { Session } from './session';
import { loadRecipe, parseRecipe } from '../family/recipe';
import { createContext } from '../plan/context';
import { XcpError } from '../errors';
import { setScalars } from '../recipe/edit';
import { writeFileAtomic } from '../util/fsutil';
import { displayPath } from '../util/paths';
import { pinReports, proposedVersion, PinReport, PinPolicy } from '../pins/updates';

export interface PinsOpts {
  update: boolean;
  securityOnly: boolean;
}

/** xcpbuild pins <recipe>: the pins today's archives have newer versions of (their changelogs and CVEs); --update moves them. */
export async function pinsCommand(session: Session, recipeArg: string, opts: PinsOpts): Promise<void> {
  const loaded = await loadRecipe(recipeArg);
  const log = await session.openLog(loaded.recipe.name, 'pins');
  const ctx = await createContext(loaded, session.buildOptions(), log);
  ctx.progress = (t) => {
    log.line(t);
    if (!session.json) process.stderr.write(`${t}\n`);
  };
  try {
    const reports = await pinReports(ctx);
    const policy: PinPolicy = opts.securityOnly ? 'security' : 'all';
    const moves = reports.flatMap((r) => {
      const to = proposedVersion(r, policy);
      return to ? [{ report: r, to }] : [];
    });
    let diff: string[] = [];
    if (opts.update && moves.length) diff = await rewritePins(loaded.file, moves);
    if (session.json) return session.emit({ ok: true, recipe: loaded.file, policy, updated: opts.update, pins: reports, moves: moves.map((m) => ({ where: m.report.where, name: m.report.name, from: m.report.pinned, to: m.to })), diff });
    for (const line of describe(reports)) console.log(line);
    if (opts.update) console.log(moves.length ? [`${displayPath(loaded.file)}: ${moves.length} pin(s) moved${opts.securityOnly ? ' (security updates only)' : ''}`, ...diff].join('\n') : 'no pin to move');
    else if (moves.length) console.log(`run with --update${opts.securityOnly ? ' --security-only' : ''} to move ${moves.length} pin(s); then xcpbuild lock`);
  } finally {
    await ctx.dispose();
  }
}

function describe(reports: PinReport[]): string[] {
  const lines: string[] = [];
  for (const r of reports) {
    if (!r.present && !r.newest) lines.push(`${r.where} ${r.name} ${r.pinned}: no longer in the archives; available: ${r.available.join(', ') || 'none'}`);
    if (!r.newest) continue;
    const gone = r.present ? '' : ' (the pinned version is no longer in the archives)';
    lines.push(`${r.where} ${r.name} ${r.pinned} → ${r.newest.version} (${r.newest.suite})${gone}${r.newest.cves.length ? `; CVEs: ${r.newest.cves.join(', ')}` : ''}`);
    if (r.security && r.security.version !== r.newest.version) lines.push(`  security update: ${r.security.version} (${r.security.suite})`);
    for (const e of r.newest.entries) lines.push(`  ${e.version}${e.distribution ? ` (${e.distribution})` : ''}: ${e.text.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 4).join(' ')}`);
  }
  const current = reports.filter((r) => r.present && !r.newest).length;
  lines.push(`${reports.length} pins: ${reports.length - current} with a newer version or gone, ${current} current`);
  return lines;
}

/** Rewrites each moved pin's version in place (comments and layout kept), checks the result is a valid recipe, writes it whole; returns the changed lines. */
async function rewritePins(file: string, moves: { report: PinReport; to: string }[]): Promise<string[]> {
  const text = await fs.readFile(file, 'utf8');
  const next = setScalars(text, moves.map((m) => ({ path: m.report.path, value: m.to })));
  const parsed = parseRecipe(next);
  if (!parsed.recipe) throw new XcpError(`the rewritten recipe would not be valid; ${file} is unchanged`, 'build', parsed.issues.map((i) => `${i.line}: ${i.message}`));
  await writeFileAtomic(file, next);
  const before = text.split('\n');
  return next.split('\n').flatMap((l, i) => (l === before[i] ? [] : [`${displayPath(file)}:${i + 1}`, `- ${before[i]}`, `+ ${l}`]));
}
