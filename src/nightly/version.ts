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

/** The recipe with the nightly version stamped into the appliance and every metapackage. */
export function stampRecipe(recipe: Recipe, version: string): Recipe {
  const suffix = version.slice(recipe.version.length);
  const stamped: Recipe = structuredClone(recipe);
  stamped.version = version;
  for (const m of Object.values(stamped.metapackages)) m.version = `${m.version}${suffix}`;
  return stamped;
}
