import { parseDeb822, controlDescription, sourceName } from '../../src/format/deb/deb822';
import { checkPins, unsatisfiable } from '../../src/family/debian/apt/resolve';
import { IndexEntry } from '../../src/family/debian/apt/state';
import { diffLocks, formatLockDiff, Lock, LockedPackage } from '../../src/lock/file';
import { compareDebianVersions } from '../../src/format/deb/version';
import { metapackageSpecs, debFileName } from '../../src/format/deb/metapackage';
import { metaPoolPath } from '../../src/format/deb/apt-repo';
import { mountPointChain } from '../../src/family/debian/mounts';
import { parseRecipe } from '../../src/family/recipe';
import { readFileSync } from 'node:fs';
import path from 'node:path';

describe('deb822', () => {
  test('parses stanzas with continuation lines', () => {
    const st = parseDeb822('Package: a\nSource: b (1.0)\nDescription: x\n y\n .\n z\n\nPackage: c\n');
    expect(st).toHaveLength(2);
    expect(st[0].Description).toBe('x\n y\n .\n z');
    expect(sourceName(st[0])).toBe('b');
    expect(sourceName(st[1])).toBe('c');
  });

  test('formats long descriptions with paragraph separators', () => {
    expect(controlDescription('sum', 'one\ntwo\n\nthree\n')).toBe('sum\n one\n two\n .\n three');
  });
});

function entry(name: string, version: string, suite: string): IndexEntry {
  return { name, version, suite, architecture: 'amd64', sha256: 'x', size: 1, filename: `pool/${name}`, source: name, archive: 'debian', stanza: {} };
}

describe('pin checks', () => {
  const index = new Map([['xen-utils-4.17', [entry('xen-utils-4.17', '4.17.7', 'bookworm-security'), entry('xen-utils-4.17', '4.17.5', 'bookworm')]]]);

  test('a missing version lists the versions that exist', () => {
    const problems = checkPins([{ name: 'xen-utils-4.17', version: '4.17.9', where: 'packages.toolstack[0]' }], index, 'amd64');
    expect(problems).toEqual(['packages.toolstack[0]: xen-utils-4.17 version 4.17.9 is not in the archives; available: 4.17.7 (bookworm-security), 4.17.5 (bookworm)']);
  });

  test('a missing package is named', () => {
    expect(checkPins([{ name: 'xapi', version: '1', where: 'packages.toolstack[1]' }], index, 'amd64')).toEqual([
      'packages.toolstack[1]: no package named "xapi" in the recipe\'s archives',
    ]);
  });

  test('an existing pin passes', () => {
    expect(checkPins([{ name: 'xen-utils-4.17', version: '4.17.5', where: 'w' }], index, 'amd64')).toEqual([]);
  });
});

describe('unsatisfiable closures', () => {
  test("apt's unmet dependencies become a sentence", () => {
    const out = [
      'The following packages have unmet dependencies:',
      ' xen-utils-4.17 : Depends: libxenmisc4.17 (>= 4.17.7) but 4.17.5 is to be installed',
      '                  Depends: libxenstore4 (>= 4.17.7) but it is not going to be installed',
      'E: Unable to correct problems, you have held broken packages.',
    ].join('\n');
    const err = unsatisfiable(out);
    expect(err.kind).toBe('resolution');
    expect(err.message).toBe('the pinned packages cannot be installed together: xen-utils-4.17 depends on libxenmisc4.17 (>= 4.17.7) but 4.17.5 is to be installed');
    expect(err.details).toEqual(['xen-utils-4.17 depends on libxenstore4 (>= 4.17.7) but it is not going to be installed']);
  });

  test('other apt errors are passed on', () => {
    expect(unsatisfiable("E: Version '9' for 'x' was not found").message).toBe("apt could not resolve the closure: Version '9' for 'x' was not found");
  });
});

function pkg(name: string, version: string): LockedPackage {
  return { name, version, architecture: 'amd64', sha256: `${name}${version}`, size: 1, archive: 'debian', suite: 'bookworm', filename: `pool/${name}`, source: name };
}
function lock(packages: LockedPackage[]): Lock {
  return { lockVersion: 1, recipe: 'r', inputs: {}, resolvedAt: '2026-01-01T00:00:00.000Z', archives: [], packages };
}

describe('lock diffs', () => {
  test('added, removed, upgraded and downgraded packages are listed', () => {
    const diff = diffLocks(lock([pkg('a', '1.0'), pkg('b', '1.0'), pkg('c', '2.0')]), lock([pkg('a', '1.1'), pkg('c', '1.9'), pkg('d', '1')]));
    expect(formatLockDiff(diff, compareDebianVersions)).toEqual(['+ d 1', '- b 1.0', '~ a 1.0 → 1.1 (upgraded)', '~ c 2.0 → 1.9 (downgraded)']);
  });

  test('Debian version order comes from dpkg', () => {
    expect(compareDebianVersions('1:1.0', '2.0')).toBe(1);
    expect(compareDebianVersions('1.0~rc1', '1.0')).toBe(-1);
    expect(compareDebianVersions('4.17.7+13-g2445b30a44-0+deb12u1', '4.17.5+72-g01140da4e8-1')).toBe(1);
  });
});

describe('metapackages', () => {
  const { recipe } = parseRecipe(readFileSync(path.resolve(__dirname, '../../recipes/xcp-bookworm.yaml'), 'utf8'));

  test('depend on every pinned package of their groups at the exact version', () => {
    const specs = metapackageSpecs(recipe!);
    const core = specs.find((s) => s.name === 'xenserver-core')!;
    expect(core.depends).toContainEqual(['xen-hypervisor-4.17-amd64', '4.17.7+13-g2445b30a44-0+deb12u1']);
    expect(core.depends).toContainEqual(['linux-image-6.1.0-56-amd64', '6.1.192-2']);
    expect(core.depends).toContainEqual(['nfs-common', '1:2.6.2-4+deb12u1']);
    const full = specs.find((s) => s.name === 'xcp-full')!;
    expect(full.depends[0]).toEqual(['xenserver-core', '1.0.0']);
    expect(full.depends).toContainEqual(['openssh-server', '1:9.2p1-2+deb12u10']);
  });

  test('file and pool names follow Debian conventions', () => {
    expect(debFileName('nfs-common', '1:2.6.2-4', 'amd64')).toBe('nfs-common_2.6.2-4_amd64.deb');
    expect(metaPoolPath('main', 'xcp-full', 'f.deb')).toBe('pool/main/x/xcp-full/f.deb');
    expect(metaPoolPath('main', 'libfoo', 'f.deb')).toBe('pool/main/libf/libfoo/f.deb');
  });
});

describe('mountPointChain', () => {
  it('lists the mount point and its parents, deepest first', () => {
    expect(mountPointChain('/work/main/out/.x/repo')).toEqual(['/work/main/out/.x/repo', '/work/main/out/.x', '/work/main/out', '/work/main', '/work']);
  });
  it('never includes a top-level directory of the root file system', () => {
    expect(mountPointChain('/tmp/tmp.abc/repo')).toEqual(['/tmp/tmp.abc/repo', '/tmp/tmp.abc']);
  });
});
