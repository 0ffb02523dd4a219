/**
 * Debian's copyright files name licenses by short names (DEP-5: GPL-2+, Expat,
 * BSD-3-clause…); SPDX documents want SPDX license ids. Known names are mapped;
 * anything else becomes a LicenseRef- that the SBOM defines, never a made-up id.
 */
const SPDX_OF: Record<string, string> = {
  'gpl-1': 'GPL-1.0-only',
  'gpl-1+': 'GPL-1.0-or-later',
  'gpl-2': 'GPL-2.0-only',
  'gpl-2+': 'GPL-2.0-or-later',
  'gpl-2.0': 'GPL-2.0-only',
  'gpl-2.0+': 'GPL-2.0-or-later',
  'gpl-3': 'GPL-3.0-only',
  'gpl-3+': 'GPL-3.0-or-later',
  'gpl-3.0': 'GPL-3.0-only',
  'gpl-3.0+': 'GPL-3.0-or-later',
  'lgpl-2': 'LGPL-2.0-only',
  'lgpl-2+': 'LGPL-2.0-or-later',
  'lgpl-2.1': 'LGPL-2.1-only',
  'lgpl-2.1+': 'LGPL-2.1-or-later',
  'lgpl-3': 'LGPL-3.0-only',
  'lgpl-3+': 'LGPL-3.0-or-later',
  'agpl-3': 'AGPL-3.0-only',
  'agpl-3+': 'AGPL-3.0-or-later',
  'gfdl-1.2+': 'GFDL-1.2-or-later',
  'gfdl-1.3+': 'GFDL-1.3-or-later',
  'apache-2': 'Apache-2.0',
  'apache-2.0': 'Apache-2.0',
  'artistic': 'Artistic-1.0-Perl',
  'artistic-2.0': 'Artistic-2.0',
  'bsd-2-clause': 'BSD-2-Clause',
  'bsd-3-clause': 'BSD-3-Clause',
  'bsd-4-clause': 'BSD-4-Clause',
  'expat': 'MIT',
  'mit': 'MIT',
  'isc': 'ISC',
  'zlib': 'Zlib',
  'mpl-1.1': 'MPL-1.1',
  'mpl-2.0': 'MPL-2.0',
  'cc0-1.0': 'CC0-1.0',
  'openssl': 'OpenSSL',
  'ssleay': 'SSLeay-standalone',
  'python-2.0': 'Python-2.0',
  'psf-2': 'PSF-2.0',
  'curl': 'curl',
  'x11': 'X11',
  'ofl-1.1': 'OFL-1.1',
  'bsl-1.0': 'BSL-1.0',
  'unicode-dfs-2016': 'Unicode-DFS-2016',
  'wtfpl': 'WTFPL',
  'unlicense': 'Unlicense',
  'libpng': 'Libpng',
  'ijg': 'IJG',
};

/** A license name that is already an SPDX id (as RPM spec files of Fedora write them). */
const SPDX_ID = /^[A-Za-z0-9][A-Za-z0-9.+-]*$/;

export interface MappedLicense {
  /** An SPDX license expression. */
  expression: string;
  /** LicenseRef-… identifiers the expression uses, with the original names they stand for. */
  refs: Record<string, string>;
}

export function licenseRefId(name: string): string {
  return `LicenseRef-${name.replace(/\+/g, '-plus').replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '') || 'unnamed'}`;
}

/** Maps one Debian license line ("GPL-2+ or Artistic", "BSD-3-clause and Expat") to an SPDX expression. */
export function debianLicenseToSpdx(text: string): MappedLicense {
  const refs: Record<string, string> = {};
  const term = (t: string): string => {
    const name = t.trim().replace(/[,;]+$/, '');
    const known = SPDX_OF[name.toLowerCase()];
    if (known) return known;
    const id = licenseRefId(name);
    refs[id] = name;
    return id;
  };
  const orParts = text.trim().split(/\s+or\s+/i).map((alt) => {
    const andParts = alt.split(/,?\s+and\s+/i).map(term);
    return andParts.length > 1 ? `(${andParts.join(' AND ')})` : andParts[0];
  });
  return { expression: orParts.length > 1 ? orParts.join(' OR ') : orParts[0], refs };
}

/** An RPM License tag: Fedora's are SPDX expressions already; anything else is kept as a LicenseRef. */
export function rpmLicenseToSpdx(text: string): MappedLicense {
  const tokens = text.replace(/[()]/g, ' ').split(/\s+/).filter((t) => t && !/^(AND|OR|WITH)$/.test(t));
  if (tokens.every((t) => SPDX_ID.test(t))) return { expression: text.trim(), refs: {} };
  const id = licenseRefId(text);
  return { expression: id, refs: { [id]: text } };
}
