import { BuildContext } from '../../plan/types';
import { PinStatus, PinCandidate } from '../types';
import { compareDebianVersions } from '../../format/deb/version';
import { withAptState } from './apt/session';
import { aptSources } from './lock';

/** The recipe's pins against today's archive indexes (InRelease verified), with every newer version and its suite. */
export async function debianPinUpdates(ctx: BuildContext): Promise<PinStatus[]> {
  const { recipe } = ctx.loaded;
  const sources = aptSources(ctx);
  const index = await withAptState(ctx, sources, async (apt) => {
    await apt.setup(sources, recipe.target.architecture);
    ctx.progress('downloading and verifying archive indexes');
    await apt.update();
    return apt.index(sources);
  });
  const uriOf = new Map(sources.map((s) => [s.name, s.uri.replace(/\/+$/, '')]));
  return Object.entries(recipe.packages).flatMap(([group, pins]) =>
    pins.map((pin, i) => {
      const entries = (index.get(pin.name) ?? []).filter((e) => e.architecture === recipe.target.architecture || e.architecture === 'all');
      const newer = new Map<string, PinCandidate>();
      for (const e of entries.filter((e) => compareDebianVersions(e.version, pin.version) > 0)) {
        if (!newer.has(e.version)) newer.set(e.version, { version: e.version, suite: e.suite, url: `${uriOf.get(e.archive)}/${e.filename}`, sha256: e.sha256, size: e.size });
      }
      return {
        group,
        index: i,
        name: pin.name,
        pinned: pin.version,
        present: entries.some((e) => e.version === pin.version),
        newer: [...newer.values()].sort((a, b) => compareDebianVersions(b.version, a.version)),
        available: [...new Set(entries.map((e) => e.version))].sort((a, b) => compareDebianVersions(b, a)),
      };
    }),
  );
}
