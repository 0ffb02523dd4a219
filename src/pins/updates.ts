import { BuildContext } from '../plan/types';
import { familyOf } from '../family/registry';
import { PinStatus, PinCandidate } from '../family/types';
import { ChangelogEntry } from '../format/types';
import { downloadAll, downloadOptionsFromEnv } from '../cache/download';
import { cveIds } from '../nightly/changes';
import { XcpError } from '../errors';

/** One pin and what today's archives offer above it. */
export interface PinReport {
  /** Where the pin is in the recipe: packages.<group>[<index>]. */
  where: string;
  path: (string | number)[];
  name: string;
  pinned: string;
  present: boolean;
  /** The newest version above the pin (the proposed update), with the changelog entries in between. */
  newest?: PinUpdate;
  /** The newest that is a security update (a *-security suite, or its entries name CVEs). */
  security?: PinUpdate;
  available: string[];
}

export interface PinUpdate {
  version: string;
  suite: string;
  entries: ChangelogEntry[];
  cves: string[];
}

export type PinPolicy = 'all' | 'security';

/**
 * The recipe's pins against today's archives: for each pin with newer versions, the
 * newest package is fetched (checked against the signed index) and its changelog read
 * down to the pinned version, so each candidate is listed with its entries and CVE ids.
 */
export async function pinReports(ctx: BuildContext): Promise<PinReport[]> {
  const family = familyOf(ctx.loaded.recipe);
  if (!family.resolver.pinUpdates) throw new XcpError(`pin updates are not available for the ${ctx.loaded.recipe.target.family} family yet`, 'usage');
  const statuses = await family.resolver.pinUpdates(ctx);
  const newest = statuses.filter((s) => s.newer.length).map((s) => s.newer[0]);
  const store = await ctx.store();
  if (newest.length) {
    ctx.progress(`reading the changelogs of ${newest.length} newer pinned package(s)`);
    await downloadAll(store, newest.map((c) => ({ url: c.url, sha256: c.sha256, size: c.size, label: c.url.split('/').pop()! })), ctx.log, downloadOptionsFromEnv());
  }
  const reports: PinReport[] = [];
  for (const s of statuses) {
    const entries = s.newer.length ? ((await family.format.changelogSince(ctx.log, store.pathOf(s.newer[0].sha256), s.name, s.pinned)) ?? []) : [];
    reports.push(reportOf(s, entries, family.format.compareVersions));
  }
  return reports;
}

function reportOf(s: PinStatus, entries: ChangelogEntry[], compare: (a: string, b: string) => number): PinReport {
  const upTo = (c: PinCandidate): PinUpdate => {
    const mine = entries.filter((e) => compare(e.version, c.version) <= 0);
    return { version: c.version, suite: c.suite, entries: mine, cves: cveIds(mine.map((e) => e.text).join('\n')) };
  };
  const updates = s.newer.map(upTo);
  const isSecurity = (u: PinUpdate) => /-security$/.test(u.suite) || cveIds(entries.filter((e) => e.version === u.version).map((e) => e.text).join('\n')).length > 0;
  return {
    where: `packages.${s.group}[${s.index}]`,
    path: ['packages', s.group, s.index, 'version'],
    name: s.name,
    pinned: s.pinned,
    present: s.present,
    newest: updates[0],
    security: updates.find(isSecurity),
    available: s.available,
  };
}

/** The version a pin moves to under `policy`, if it moves; a pin whose version is gone moves to the newest there is. */
export function proposedVersion(r: PinReport, policy: PinPolicy): string | undefined {
  const update = policy === 'security' ? r.security : r.newest;
  if (update) return update.version;
  if (!r.present) return r.available[0];
  return undefined;
}
