import { Recipe } from '../recipe/schema';

/** The UTC date of a nightly, YYYYMMDD. */
export function nightlyDate(now: Date): string {
  return now.toISOString().slice(0, 10).replace(/-/g, '');
}

/**
 * `<version>+nightly.YYYYMMDD` for the first nightly of a day, then `.1`, `.2`… for
 * later runs of the same day: each sorts after the one before (dpkg and rpm alike).
 */
export function nightlyVersion(base: string, date: string, published: string[]): string {
  const first = `${base}+nightly.${date}`;
  const taken = new Set(published);
  if (!taken.has(first)) return first;
  for (let n = 1; ; n++) if (!taken.has(`${first}.${n}`)) return `${first}.${n}`;
}

/** True for the directory names nightlies of `base` are published under. */
export function isNightlyOf(base: string, name: string): boolean {
  return name.startsWith(`${base}+nightly.`) && /^\d{8}(\.\d+)?$/.test(name.slice(base.length + '+nightly.'.length));
}

/** Orders nightly versions of one base: by date, then by the same-day counter. */
export function compareNightly(a: string, b: string): number {
  const key = (v: string) => {
    const m = /\+nightly\.(\d{8})(?:\.(\d+))?$/.exec(v);
    return m ? [Number(m[1]), Number(m[2] ?? 0)] : [0, 0];
  };
  const [x, y] = [key(a), key(b)];
  return x[0] - y[0] || x[1] - y[1];
}

/**
 * The recipe with the nightly version stamped into the appliance, every metapackage
 * and every package built from source: a package name and version always names one
 * file, so two nightlies never publish different bytes as the same package (their
 * SOURCE_DATE_EPOCH and recipe version differ) and each upgrades the one before.
 */
export function stampRecipe(recipe: Recipe, version: string): Recipe {
  const suffix = version.slice(recipe.version.length);
  const stamped: Recipe = structuredClone(recipe);
  stamped.version = version;
  for (const m of Object.values(stamped.metapackages)) m.version = `${m.version}${suffix}`;
  for (const s of Object.values(stamped.sources ?? {})) s.version = `${s.version}${suffix}`;
  return stamped;
}
