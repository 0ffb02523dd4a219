import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from './cli';
import { tempDir } from './tmp';

export interface YumArchive {
  /** The repository directory (repodata/ and Packages/). */
  dir: string;
  /** The archive's armored public key. */
  key: string;
  /** A second, unrelated key (for "signed by a key the recipe does not trust"). */
  otherKey: string;
}

function sh(cmd: string, args: string[], env: Record<string, string> = {}): string {
  const res = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

function newKey(home: string, uid: string): string {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  sh('gpg', ['--homedir', home, '--batch', '--passphrase', '', '--quick-generate-key', uid, 'ed25519', 'sign', 'never']);
  return sh('gpg', ['--homedir', home, '--batch', '--with-colons', '--list-keys']).split('\n').find((l) => l.startsWith('fpr'))!.split(':')[9];
}

/**
 * A small upstream yum archive made for real: rpmbuild from the specs in
 * tests/fixtures/rpm (xcptest-xen at 4.17.6 and 4.17.7, xcptest-toolstack with an
 * epoch, xcptest-unsigned), rpmsign with a fresh "upstream" key (all but
 * xcptest-unsigned), createrepo_c, and a detached signature of repomd.xml.
 */
export function buildYumArchive(): YumArchive {
  const work = tempDir('yum-archive');
  chmodSync(work, 0o755);
  const home = path.join(work, 'gnupg');
  const fpr = newKey(home, 'xcpbuild test upstream <upstream@xcpbuild.invalid>');
  const key = path.join(work, 'RPM-GPG-KEY-upstream');
  writeFileSync(key, sh('gpg', ['--homedir', home, '--batch', '--armor', '--export', fpr]));
  const otherHome = path.join(work, 'gnupg-other');
  const otherFpr = newKey(otherHome, 'someone else <other@xcpbuild.invalid>');
  const otherKey = path.join(work, 'RPM-GPG-KEY-other');
  writeFileSync(otherKey, sh('gpg', ['--homedir', otherHome, '--batch', '--armor', '--export', otherFpr]));

  const top = path.join(work, 'rpmbuild');
  const specs = path.join(projectRoot, 'tests/fixtures/rpm');
  const build = (spec: string, defines: Record<string, string> = {}) =>
    sh('rpmbuild', ['--define', `_topdir ${top}`, '--define', 'dist .fc99', '--define', '_build_id_links none', ...Object.entries(defines).flatMap(([k, v]) => ['--define', `${k} ${v}`]), '-bb', path.join(specs, spec)]);
  build('xcptest-xen.spec', { xcpver: '4.17.6' });
  build('xcptest-xen.spec', { xcpver: '4.17.7' });
  build('xcptest-toolstack.spec');
  build('xcptest-unsigned.spec');
  build('xcptest-shell.spec');

  const dir = path.join(work, 'archive');
  const pkgs = path.join(dir, 'Packages');
  mkdirSync(pkgs, { recursive: true });
  for (const arch of readdirSync(path.join(top, 'RPMS'))) {
    for (const f of readdirSync(path.join(top, 'RPMS', arch))) copyFileSync(path.join(top, 'RPMS', arch, f), path.join(pkgs, f));
  }
  const toSign = readdirSync(pkgs).filter((f) => !f.startsWith('xcptest-unsigned')).map((f) => path.join(pkgs, f));
  sh('rpmsign', ['--define', '__gpg /usr/bin/gpg', '--define', `_gpg_path ${home}`, '--define', `_gpg_name ${fpr}`, '--addsign', ...toSign]);
  sh('createrepo_c', ['--no-database', '--quiet', dir]);
  sh('gpg', ['--homedir', home, '--batch', '--yes', '--armor', '--local-user', fpr, '--detach-sign', path.join(dir, 'repodata/repomd.xml')]);
  sh('gpgconf', ['--homedir', home, '--kill', 'all']);
  sh('gpgconf', ['--homedir', otherHome, '--kill', 'all']);
  sh('chmod', ['-R', 'a+rX', dir]);
  return { dir, key, otherKey };
}

/** A fedora-family recipe over the test archive; `pins` replaces the default xen group. Its directory needs a copy of sources/xcp-host (copySources). */
export function testFedoraRecipe(archiveUrl: string, keyring: string, repoUrl: string, pins?: string): string {
  const xen =
    pins ??
    `    - { name: xcptest-xen-runtime, version: 4.17.7-1.fc99 }
    - { name: xcptest-xen, version: 4.17.7-1.fc99 }`;
  return `apiVersion: xcpbuild/v2
name: xcp-test-fedora
version: 1.0.0
target: { family: fedora, release: "99", architecture: amd64 }
archives:
  - name: upstream
    uri: ${archiveUrl}
    keyring: ${keyring}
base: { priorities: [] }
packages:
  xen:
${xen}
  toolstack:
    - { name: xcptest-toolstack, version: "1:2.1.0-1.fc99" }
sources:
  xcp-host: { version: 1.1.0-1, path: xcp-host }
buildRoot:
  archives:
    - name: debian-build-root
      uri: http://deb.debian.org/debian
      suites: [bookworm]
      components: [main]
      keyring: /usr/share/keyrings/debian-archive-keyring.gpg
  packages: [rpm]
metapackages:
  xenserver-core:
    version: 1.0.0
    maintainer: xcpbuild tests <tests@xcpbuild.invalid>
    summary: The Xen toolstack, pinned (test)
    description: |
      Depends on the test archive's Xen and toolstack at exact versions; 100% of them.
    groups: [xen, toolstack]
  xcp-full:
    version: 1.0.0
    maintainer: xcpbuild tests <tests@xcpbuild.invalid>
    summary: The whole appliance (test)
    description: Depends on xenserver-core and xcp-host.
    groups: []
    depends: [xenserver-core, xcp-host]
repository:
  origin: xcpbuild tests
  label: xcpbuild test repository
  codename: xcp-test
  components: [main]
  description: Test repository of xcpbuild
  url: ${repoUrl}
`;
}

/** Copies the project's sources/xcp-host next to a test recipe (a source tree must be inside the recipe's project). */
export function copySources(recipeDir: string): void {
  sh('cp', ['-a', path.join(projectRoot, 'sources/xcp-host'), path.join(recipeDir, 'xcp-host')]);
}
