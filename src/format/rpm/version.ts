/**
 * RPM's version ordering (rpmvercmp, and EVR comparison as rpm.labelCompare does it).
 * Pure, because it sorts the versions an error lists and the lock diff; the unit test
 * checks it against the rpm library itself.
 */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  const isAlnum = (c: string) => /[A-Za-z0-9]/.test(c);
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;
    // A tilde sorts before everything, even the end of the string.
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    // A caret sorts after the end of the string but before anything else.
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (!(i < a.length && j < b.length)) break;
    const numeric = /[0-9]/.test(a[i]);
    const take = (s: string, k: number) => {
      const re = numeric ? /^[0-9]+/ : /^[A-Za-z]+/;
      return re.exec(s.slice(k))?.[0] ?? '';
    };
    const sa = take(a, i);
    const sb = take(b, j);
    if (!sb) return numeric ? 1 : -1;
    i += sa.length;
    j += sb.length;
    if (numeric) {
      const na = sa.replace(/^0+/, '');
      const nb = sb.replace(/^0+/, '');
      if (na.length !== nb.length) return na.length > nb.length ? 1 : -1;
      if (na !== nb) return na > nb ? 1 : -1;
    } else if (sa !== sb) {
      return sa > sb ? 1 : -1;
    }
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/** Splits "[epoch:]version[-release]". */
export function parseEvr(evr: string): { epoch: number; version: string; release: string } {
  const m = /^(?:(\d+):)?([^-]*)(?:-(.*))?$/.exec(evr) ?? [];
  return { epoch: Number(m[1] ?? 0), version: m[2] ?? evr, release: m[3] ?? '' };
}

export function compareEvr(a: string, b: string): number {
  const x = parseEvr(a);
  const y = parseEvr(b);
  if (x.epoch !== y.epoch) return x.epoch > y.epoch ? 1 : -1;
  return rpmvercmp(x.version, y.version) || rpmvercmp(x.release, y.release);
}
