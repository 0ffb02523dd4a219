import { Lock, LockedPackage, diffClosures } from '../lock/file';
import { PackageFormat, ChangelogEntry } from '../format/types';
import { BuildLog } from '../util/log';

export interface PackageChange {
  name: string;
  architecture: string;
  from: string;
  to: string;
  kind: 'upgraded' | 'downgraded' | 'rebuilt';
  /** Changelog entries after `from` up to `to`, newest first (empty when downgraded). */
  entries: ChangelogEntry[];
  /** Why there are no entries, when there are none although the version went up. */
  changelogNote?: string;
  cves: string[];
}

export interface Changes {
  recipe: string;
  version: string;
  /** The nightly compared against; undefined for the first one. */
  previous?: string;
  added: { name: string; architecture: string; version: string }[];
  removed: { name: string; architecture: string; version: string }[];
  changed: PackageChange[];
  /** Every CVE id the changelog entries name, sorted. */
  cves: string[];
  /** Pinned packages today's archives have newer versions of (or no longer have), and whether this build moved them. */
  pins?: PinNotice[];
}

export interface PinNotice {
  where: string;
  name: string;
  pinned: string;
  available: string;
  suite?: string;
  cves: string[];
  security: boolean;
  /** The pinned version is gone from the archives: the next lock without a move fails. */
  gone: boolean;
  moved: boolean;
}

const CVE = /\bCVE-\d{4}-\d{4,}\b/g;

export function cveIds(text: string): string[] {
  return [...new Set(text.match(CVE) ?? [])].sort();
}

/** What ships: the repository's closure and the installer's packages on the medium. */
function shipped(lock: Lock): LockedPackage[] {
  return [...lock.packages, ...(lock.installer ?? [])];
}

/**
 * What changed between two locks: packages added, removed, and changed, with the
 * changelog entries between the two versions read from the new package file.
 */
export async function computeChanges(
  format: PackageFormat,
  log: BuildLog,
  recipe: string,
  version: string,
  previous: { version: string; lock: Lock } | undefined,
  lock: Lock,
  fileOf: (p: LockedPackage) => string,
): Promise<Changes> {
  const changes: Changes = { recipe, version, previous: previous?.version, added: [], removed: [], changed: [], cves: [] };
  if (!previous) return changes;
  const diff = diffClosures(dedupe(shipped(previous.lock)), dedupe(shipped(lock)));
  const brief = (p: LockedPackage) => ({ name: p.name, architecture: p.architecture, version: p.version });
  changes.added = diff.added.map(brief);
  changes.removed = diff.removed.map(brief);
  for (const { from, to } of diff.changed) {
    const c = format.compareVersions(to.version, from.version);
    const change: PackageChange = { name: to.name, architecture: to.architecture, from: from.version, to: to.version, kind: c > 0 ? 'upgraded' : c < 0 ? 'downgraded' : 'rebuilt', entries: [], cves: [] };
    if (c > 0) {
      const entries = await format.changelogSince(log, fileOf(to), to.name, from.version);
      if (entries === undefined) change.changelogNote = 'the package carries no changelog of its own';
      else change.entries = entries;
      change.cves = cveIds(change.entries.map((e) => e.text).join('\n'));
    }
    changes.changed.push(change);
  }
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  changes.added.sort(byName);
  changes.removed.sort(byName);
  changes.changed.sort(byName);
  changes.cves = [...new Set(changes.changed.flatMap((c) => c.cves))].sort();
  return changes;
}

function dedupe(list: LockedPackage[]): LockedPackage[] {
  const seen = new Map<string, LockedPackage>();
  for (const p of list) seen.set(`${p.name}:${p.architecture}`, p);
  return [...seen.values()];
}

/** CHANGES.md: the same content as changes.json, for people. */
export function changesMarkdown(c: Changes): string {
  const out: string[] = [`# ${c.recipe} ${c.version}`, ''];
  if (c.pins?.length) out.push(...pinsMarkdown(c.pins));
  if (!c.previous) {
    out.push('The first published nightly: nothing to compare with.', '');
    return out.join('\n');
  }
  out.push(`Changes since ${c.previous}: ${c.added.length} added, ${c.removed.length} removed, ${c.changed.length} changed.`, '');
  if (c.cves.length) out.push(`Security fixes named in the changelogs: ${c.cves.join(', ')}.`, '');
  if (!c.added.length && !c.removed.length && !c.changed.length) out.push('No package changed.', '');
  if (c.added.length) out.push('## Added', '', ...c.added.map((p) => `- ${p.name} ${p.version} (${p.architecture})`), '');
  if (c.removed.length) out.push('## Removed', '', ...c.removed.map((p) => `- ${p.name} ${p.version} (${p.architecture})`), '');
  if (c.changed.length) {
    out.push('## Changed', '');
    for (const p of c.changed) {
      out.push(`### ${p.name} ${p.from} → ${p.to} (${p.kind})`, '');
      if (p.cves.length) out.push(`CVEs: ${p.cves.join(', ')}`, '');
      if (p.changelogNote) out.push(`(${p.changelogNote})`, '');
      for (const e of p.entries) {
        // An indented block: nothing in a changelog can end it early or turn into markup.
        out.push(`#### ${e.version}${e.distribution ? ` (${e.distribution})` : ''}${e.date ? ` — ${e.date}` : ''}`, '', ...e.text.split('\n').map((l) => `    ${l}`), '');
      }
    }
  }
  return out.join('\n');
}

function pinsMarkdown(pins: PinNotice[]): string[] {
  const line = (p: PinNotice) =>
    `- ${p.name} (${p.where}): pinned ${p.pinned}, ${p.gone ? 'no longer in the archives; ' : ''}${p.available} available${p.suite ? ` (${p.suite})` : ''}` +
    `${p.cves.length ? `; CVEs: ${p.cves.join(', ')}` : ''}${p.moved ? ` — moved to ${p.available} in this build (--bump-pins)` : ' — still pinned; `xcpbuild pins --update` moves it'}`;
  return ['## Pinned, update available', '', ...pins.map(line), ''];
}
