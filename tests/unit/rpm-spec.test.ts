import path from 'node:path';
import { render, templateDir } from '../../src/util/templates';
import { specValue, specText } from '../../src/util/text';

/** RPM expands macros everywhere in a spec, %(shell) included: recipe text must reach it inert. */
describe('strings written into RPM specs', () => {
  test('% is doubled, so %(…) and %{…} stay text', () => {
    expect(specValue('summary', 'Xen %(touch /tmp/pwned) %{_bindir}')).toBe('Xen %%(touch /tmp/pwned) %%{_bindir}');
    expect(specText('line one\n%post\nrm -rf /')).toBe('line one\n%%post\nrm -rf /');
  });

  test('a line break or another control character in a one-line value is refused', () => {
    expect(() => specValue('summary', 'x\nRequires: evil')).toThrow(/refusing to write summary into a spec file: it has control characters \(x\\nRequires: evil\)/);
    expect(() => specText('tab\there')).toThrow(/control characters/);
  });

  test('the metapackage spec template escapes every recipe string it writes', async () => {
    const spec = await render(path.join(templateDir('rpm'), 'metapackage', 'metapackage.spec.hbs'), {
      name: 'xenserver-core',
      version: '1.0.0',
      release: '1',
      summary: 'pinned %{?evil}',
      maintainer: 'A %(id) <a@example.org>',
      url: 'http://example.org/%41',
      recipe: 'r',
      recipeVersion: '1',
      description: 'Text with %description and\n%files inside.',
      requires: ['xen = 4.17.7-1.fc43'],
      pins: ['xen = 4.17.7-1.fc43'],
      changelogDate: 'Thu May 28 2026',
    });
    expect(spec).toContain('Summary:        pinned %%{?evil}');
    expect(spec).toContain('Packager:       A %%(id) <a@example.org>');
    expect(spec).toContain('URL:            http://example.org/%%41');
    expect(spec).toContain('Text with %%description and\n%%files inside.');
    expect(spec.match(/^%files$/gm)).toHaveLength(1);
  });
});
