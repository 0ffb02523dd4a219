import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseRecipe } from '../../src/family/recipe';
import { recipeJsonSchema } from '../../src/recipe/schema';

const root = path.resolve(__dirname, '../..');
const good = readFileSync(path.join(root, 'recipes/xcp-bookworm.yaml'), 'utf8');

function lineOf(text: string, needle: string): number {
  const at = text.indexOf(needle);
  return at < 0 ? 0 : text.slice(0, at).split('\n').length;
}

describe('recipe validation', () => {
  test('the default recipe is valid', () => {
    const { recipe, issues } = parseRecipe(good);
    expect(issues).toEqual([]);
    expect(recipe?.name).toBe('xcp-bookworm');
    expect(Object.keys(recipe!.metapackages)).toEqual(['xenserver-core', 'xcp-full']);
  });

  test('malformed YAML names the line and column', () => {
    const bad = good.replace('version: 1.0.0\n', 'version: [1.0.0\n');
    const { issues } = parseRecipe(bad);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0].message).toMatch(/^malformed YAML/);
    expect(issues[0].line).toBeGreaterThan(0);
  });

  test('an unknown key is reported at the key, with the keys that are allowed', () => {
    const bad = good.replace('  release: bookworm\n', '  release: bookworm\n  flavour: vanilla\n');
    const { issues } = parseRecipe(bad);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ keyPath: 'target.flavour', line: lineOf(bad, 'flavour'), col: 3 });
    expect(issues[0].message).toBe('unknown key "flavour" (expected one of: family, release, architecture)');
  });

  test('a wrong type says what was expected and what was found', () => {
    const bad = good.replace('    suites: [bookworm-security]', '    suites: bookworm-security');
    const { issues } = parseRecipe(bad);
    expect(issues).toHaveLength(1);
    expect(issues[0].keyPath).toBe('archives[1].suites');
    expect(issues[0].line).toBe(lineOf(bad, 'suites: bookworm-security'));
    expect(issues[0].message).toMatch(/^expected the suites to use from this archive \(debian family; a yum archive is one repository at uri\), found "bookworm-security"/);
  });

  test('a missing pin names the package entry and the missing key', () => {
    const bad = good.replace('{ name: bridge-utils, version: 1.7.1-1 }', '{ name: bridge-utils }');
    const { issues } = parseRecipe(bad);
    expect(issues).toHaveLength(1);
    expect(issues[0].keyPath).toBe('packages.network[1].version');
    expect(issues[0].line).toBe(lineOf(bad, '{ name: bridge-utils }'));
    expect(issues[0].message).toMatch(/^missing required key "version" \(expected an exact package version/);
  });

  test('every error is reported at once, in file order', () => {
    const bad = good
      .replace('apiVersion: xcpbuild/v2', 'apiVersion: xcpbuild/v9')
      .replace('  release: bookworm\n', '  release: bookworm\n  flavour: vanilla\n')
      .replace('{ name: lvm2, version: 2.03.16-2 }', '{ name: lvm2, version: 2 }');
    const { issues } = parseRecipe(bad);
    expect(issues.map((i) => i.keyPath)).toEqual(['apiVersion', 'target.flavour', 'packages.storage[0].version']);
    expect(issues[2].message).toBe('expected an exact package version as the archive lists it, e.g. 4.17.7+13-g2445b30a44-0+deb12u1, found number 2');
    expect(issues.map((i) => i.line)).toEqual([...issues.map((i) => i.line)].sort((a, b) => a - b));
  });

  test('an enumerated value lists the allowed values', () => {
    const { issues } = parseRecipe(good.replace('  family: debian', '  family: gentoo').replace('priorities: [required, important]', 'priorities: [required, importent]'));
    expect(issues).toHaveLength(2);
    expect(issues[0].keyPath).toBe('target.family');
    expect(issues[0].message).toBe('expected one of "debian", "fedora", found "gentoo"');
    expect(issues[1].keyPath).toBe('base.priorities[1]');
    expect(issues[1].message).toBe('expected one of "required", "important", "standard", found "importent"');
  });

  test('metapackage references must name existing groups and metapackages', () => {
    const bad = good.replace('groups: [appliance]', 'groups: [appliance, desktop]').replace('depends: [xenserver-core, xcp-host]', 'depends: [xenserver-kore, xcp-host]');
    const { issues } = parseRecipe(bad);
    expect(issues.map((i) => i.keyPath)).toEqual(['metapackages.xcp-full.groups[1]', 'metapackages.xcp-full.depends[0]']);
    expect(issues[0].message).toMatch(/found "desktop"/);
  });

  test('a package pinned twice is an error', () => {
    const bad = good.replace('    - { name: bridge-utils, version: 1.7.1-1 }', '    - { name: bridge-utils, version: 1.7.1-1 }\n    - { name: lvm2, version: 2.03.16-2 }');
    const { issues } = parseRecipe(bad);
    expect(issues).toHaveLength(1);
    expect(issues[0].message).toBe('package "lvm2" is already pinned in packages.storage[0]');
  });

  test('the shipped JSON Schema is the one the validator uses', () => {
    const shipped = JSON.parse(readFileSync(path.join(root, 'schema/recipe.schema.json'), 'utf8'));
    expect(shipped).toEqual(recipeJsonSchema());
  });
});

describe('family rules', () => {
  const fedora = readFileSync(path.join(root, 'recipes/xcp-fedora.yaml'), 'utf8');

  test('the fedora recipe is valid', () => {
    const { recipe, issues } = parseRecipe(fedora);
    expect(issues).toEqual([]);
    expect(recipe?.target.family).toBe('fedora');
  });

  test('a debian archive needs suites, components and a keyring file', () => {
    const bad = good.replace('    suites: [bookworm-security]\n', '').replace(/(debian-security\n(?:.*\n)*?)    keyring: .*\n/, '$1    key: { url: "https://example.org/k.asc", fingerprint: C6E7F081CF80E13146676E88829B606631645531 }\n');
    const messages = parseRecipe(bad).issues.map((i) => `${i.keyPath}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        'archives[1]: expected suites: in a debian archive (e.g. [bookworm])',
        'archives[1].key: a debian archive names its keyring file (keyring:); key: by URL is for fedora archives',
      ]),
    );
  });

  test('a fedora recipe: release number, one yum repository per archive, one key, no Debian-only sections', () => {
    const bad = fedora
      .replace('release: "43"', 'release: bookworm')
      .replace('    uri: https://dl.fedoraproject.org/pub/fedora/linux/releases/43/Everything/x86_64/os/\n', '    uri: https://dl.fedoraproject.org/pub/fedora/linux/releases/43/Everything/x86_64/os/\n    suites: [f43]\n    keyring: /etc/pki/rpm-gpg/RPM-GPG-KEY-fedora\n')
      .replace('  priorities: []', '  priorities: [required]');
    const messages = parseRecipe(bad + 'bootTest:\n  packages: [tgt]\n').issues.map((i) => `${i.keyPath}: ${i.message}`);
    expect(messages).toEqual([
      'target.release: expected a Fedora release number (e.g. 43), found "bookworm"',
      'archives[0]: expected exactly one of keyring: (a key file) or key: (url and fingerprint)',
      'archives[0].suites: a fedora archive is one yum repository at uri (the directory holding repodata/); suites: is for debian archives',
      'base.priorities: expected [] for the fedora family: dnf resolves the closure of the pins into an empty installroot; Debian priorities do not apply',
      'bootTest: the fedora family installs with Anaconda and a kickstart (iso:); bootTest: is for debian recipes',
    ]);
  });

  test("a fedora recipe's sources need a Debian build root with rpm; its archives are debian archives with names of their own", () => {
    const section = fedora.slice(fedora.indexOf('buildRoot:'), fedora.indexOf('  packages: [rpm]\n') + '  packages: [rpm]\n'.length);
    const without = fedora.replace(section, '');
    expect(parseRecipe(without).issues.map((i) => `${i.keyPath}:${i.line}: ${i.message}`)).toEqual([
      `sources:${lineOf(without, '  xcp-host: {')}: expected buildRoot: with archives: (a Debian archive) and packages: [rpm]: a fedora recipe's sources are built by rpmbuild in a clean Debian root`,
    ]);
    const bad = fedora.replace('    - name: debian-build-root\n', '    - name: updates\n').replace('      suites: [bookworm, bookworm-updates]\n', '').replace('  packages: [rpm]', '  packages: [make]');
    expect(parseRecipe(bad).issues.map((i) => `${i.keyPath}:${i.line}: ${i.message}`)).toEqual([
      `buildRoot.archives[0]:${lineOf(bad, '    - name: updates\n      uri: http://deb')}: expected suites: in a debian archive (e.g. [bookworm])`,
      `buildRoot.archives[0].name:${lineOf(bad, '    - name: updates\n      uri: http://deb')}: archive name "updates" is already used by archives[1]; the lock names archives by name`,
      `buildRoot.packages:${lineOf(bad, '  packages: [make]')}: expected rpm among the build root packages: rpmbuild runs in the build root`,
    ]);
  });

  test('a key fingerprint is 40 uppercase hex digits', () => {
    const bad = fedora.replace('fingerprint: C6E7F081CF80E13146676E88829B606631645531\n  - name: updates', 'fingerprint: "C6E7 F081"\n  - name: updates');
    const { issues } = parseRecipe(bad);
    expect(issues[0].keyPath).toBe('archives[0].key.fingerprint');
    expect(issues[0].message).toMatch(/40 uppercase hexadecimal digits/);
  });
});
