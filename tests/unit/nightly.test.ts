import { nightlyVersion, nightlyDate, isNightlyOf, compareNightly, stampRecipe } from '../../src/nightly/version';
import { parseRecipe } from '../../src/family/recipe';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compareDebianVersions } from '../../src/format/deb/version';
import { compareEvr } from '../../src/format/rpm/version';
import { debianLicenseToSpdx, licenseRefId } from '../../src/license/spdx-map';
import { cveIds, changesMarkdown } from '../../src/nightly/changes';
import { archiveStateTime } from '../../src/lock/file';

describe('nightly versions', () => {
  test('the first of a day has no counter; later runs count up', () => {
    expect(nightlyDate(new Date('2026-11-22T23:59:59Z'))).toBe('20261122');
    expect(nightlyVersion('1.0.0', '20261122', [])).toBe('1.0.0+nightly.20261122');
    expect(nightlyVersion('1.0.0', '20261122', ['1.0.0+nightly.20261122'])).toBe('1.0.0+nightly.20261122.1');
    expect(nightlyVersion('1.0.0', '20261122', ['1.0.0+nightly.20261122', '1.0.0+nightly.20261122.1'])).toBe('1.0.0+nightly.20261122.2');
    expect(nightlyVersion('1.0.0', '20261123', ['1.0.0+nightly.20261122.4'])).toBe('1.0.0+nightly.20261123');
  });
  test('ordering and recognition', () => {
    const list = ['1.0.0+nightly.20261122.10', '1.0.0+nightly.20261123', '1.0.0+nightly.20261122.2', '1.0.0+nightly.20261122'];
    expect([...list].sort(compareNightly)).toEqual(['1.0.0+nightly.20261122', '1.0.0+nightly.20261122.2', '1.0.0+nightly.20261122.10', '1.0.0+nightly.20261123']);
    expect(isNightlyOf('1.0.0', '1.0.0+nightly.20261122.3')).toBe(true);
    expect(isNightlyOf('1.0.0', 'latest')).toBe(false);
    expect(isNightlyOf('1.0.0', '1.0.0+nightly.2026112')).toBe(false);
    expect(isNightlyOf('1.0.0', '1.0.0+nightly.20261122/../x')).toBe(false);
  });
  test('a nightly stamps its version into metapackages and source packages, and the stamped recipe is still a valid recipe', () => {
    const text = readFileSync(path.join(__dirname, '../../recipes/xcp-bookworm.yaml'), 'utf8');
    const recipe = parseRecipe(text).recipe!;
    const stamped = stampRecipe(recipe, '1.0.0+nightly.20261202.1');
    expect(stamped.metapackages['xenserver-core'].version).toBe('1.0.0+nightly.20261202.1');
    expect(stamped.sources!['xcp-host'].version).toBe('1.1.0-1+nightly.20261202.1');
    // Each nightly's build of a source package upgrades the released one and the nightly before.
    expect(compareDebianVersions('1.1.0-1+nightly.20261202.1', '1.1.0-1+nightly.20261202')).toBeGreaterThan(0);
    expect(compareDebianVersions('1.1.0-1+nightly.20261202', '1.1.0-1')).toBeGreaterThan(0);
    expect(compareEvr('1.1.0-1+nightly.20261202.1', '1.1.0-1+nightly.20261202')).toBeGreaterThan(0);
    const again = parseRecipe(text.replace('version: 1.1.0-1, path', 'version: 1.1.0-1+nightly.20261202.1, path'));
    expect(again.issues).toEqual([]);
  });
  test('SOURCE_DATE_EPOCH comes from the newest archive state', () => {
    const lock = { archives: [{ date: 'Sat, 11 Jul 2026 10:16:37 UTC' }, { date: 'Sat, 21 Nov 2026 02:10:46 UTC' }, { date: '1790000000' }] } as never;
    expect(archiveStateTime(lock)).toBe(Date.UTC(2026, 10, 21, 2, 10, 46) / 1000);
  });
});

describe('licenses', () => {
  test('Debian short names map to SPDX ids; others become defined LicenseRefs', () => {
    expect(debianLicenseToSpdx('GPL-2+').expression).toBe('GPL-2.0-or-later');
    expect(debianLicenseToSpdx('GPL-2+ or Artistic').expression).toBe('GPL-2.0-or-later OR Artistic-1.0-Perl');
    expect(debianLicenseToSpdx('BSD-3-clause and Expat').expression).toBe('(BSD-3-Clause AND MIT)');
    const odd = debianLicenseToSpdx('GFDL-NIV-1.3+');
    expect(odd.expression).toBe('LicenseRef-GFDL-NIV-1.3-plus');
    expect(odd.refs).toEqual({ 'LicenseRef-GFDL-NIV-1.3-plus': 'GFDL-NIV-1.3+' });
    expect(licenseRefId('a"; rm -rf /')).toMatch(/^LicenseRef-[A-Za-z0-9.-]+$/);
  });
});

describe('changes', () => {
  test('CVE ids are collected once, sorted', () => {
    expect(cveIds('fix CVE-2026-1234 and CVE-2025-99999; again CVE-2026-1234')).toEqual(['CVE-2025-99999', 'CVE-2026-1234']);
  });
  test('changelog text cannot break out of its block in CHANGES.md', () => {
    const md = changesMarkdown({
      recipe: 'r',
      version: '1+nightly.20261122.1',
      previous: '1+nightly.20261122',
      added: [],
      removed: [],
      changed: [{ name: 'p', architecture: 'amd64', from: '1', to: '2', kind: 'upgraded', cves: [], entries: [{ version: '2', text: '```\n# injected heading\n<script>' }] }],
      cves: [],
    });
    expect(md).toContain('    ```\n    # injected heading\n    <script>');
    expect(md).not.toMatch(/^# injected/m);
  });
});
