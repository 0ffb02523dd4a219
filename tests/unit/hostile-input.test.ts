import { readFileSync, writeFileSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseRecipe } from '../../src/family/recipe';
import { parseLock } from '../../src/lock/file';
import { render, templateDir } from '../../src/util/templates';
import { deb822Value, printable, shellQuote } from '../../src/util/text';
import { confine } from '../../src/util/fsutil';

const root = path.resolve(__dirname, '../..');
const good = readFileSync(path.join(root, 'recipes/xcp-bookworm.yaml'), 'utf8');
const goodLock = readFileSync(path.join(root, 'recipes/xcp-bookworm.lock'), 'utf8');

describe('strings that reach deb822 files are refused with their position', () => {
  test.each([
    ['repository.description', 'description: xenserver-core and xcp-full for Debian 12 (bookworm), with their pinned dependencies', 'description: "x\\nTrusted: yes"'],
    ['repository.label', 'label: xcp-bookworm', 'label: "xcp\\nTrusted: yes"'],
    ['repository.origin', 'origin: xcpbuild', 'origin: "a\\u2028b"'],
    ['metapackages.xenserver-core.maintainer', 'maintainer: xcpbuild maintainers <xcpbuild@lists.example.org>\n    summary: Xen hypervisor', 'maintainer: "x <a@b>\\nDepends: evil"\n    summary: Xen hypervisor'],
  ])('%s with a line break', (keyPath, from, to) => {
    expect(good).toContain(from);
    const { issues } = parseRecipe(good.replace(from, to));
    expect(issues).toHaveLength(1);
    expect(issues[0].keyPath).toBe(keyPath);
    expect(issues[0].line).toBeGreaterThan(0);
  });

  test('and refused again where they are written', () => {
    expect(() => deb822Value('Description', 'x\nTrusted: yes')).toThrow(/refusing to write the Description field/);
    expect(deb822Value('Label', 'xcp-bookworm')).toBe('xcp-bookworm');
  });
});

describe('strings that reach shell files and command lines', () => {
  test.each([
    ['iso.xenCmdline', 'xenCmdline: dom0_mem=1024M,max:1024M console=com1,vga com1=115200,8n1', `xenCmdline: 'x"; touch /tmp/pwned; true "'`],
    ['iso.dom0Cmdline', 'dom0Cmdline: console=hvc0 console=tty0', 'dom0Cmdline: "console=hvc0 $(reboot)"'],
    ['repository.url', 'url: http://127.0.0.1:8080/xcp-bookworm', 'url: "http://x/`reboot`"'],
    ['archives[0].keyring', 'keyring: /usr/share/keyrings/debian-archive-keyring.gpg\n  - name: debian-security', 'keyring: "/tmp/a b.gpg"\n  - name: debian-security'],
    ['iso.sshAuthorizedKeys[0]', '  vmVolumeGroup: xcp-vms', '  vmVolumeGroup: xcp-vms\n  sshAuthorizedKeys: ["ssh-ed25519 AAAA x\\nd-i preseed/late_command string reboot"]'],
  ])('%s is checked by the schema', (keyPath, from, to) => {
    expect(good).toContain(from);
    const { issues } = parseRecipe(good.replace(from, to));
    expect(issues.map((i) => i.keyPath)).toEqual([keyPath]);
  });

  test("the installer's shell config quotes every value: a hostile one stays data", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'xcpbuild-shq-'));
    const marker = path.join(dir, 'pwned');
    const hostile = `x"; touch ${marker}; true "' $(touch ${marker}) \`touch ${marker}\``;
    const conf = await render(path.join(templateDir('installer'), 'installer.conf.hbs'), {
      recipe: 'r', version: '1', label: 'L', codename: 'c', component: 'main', keyring: 'k.gpg', repoUrl: hostile, release: 'bookworm', vg: 'vg', xenCmdline: hostile, dom0Cmdline: hostile,
    });
    writeFileSync(path.join(dir, 'conf'), conf);
    const res = spawnSync('bash', ['-c', `. ${path.join(dir, 'conf')} && printf '%s\\n' "$XCP_DEFAULT_XEN_CMDLINE" "$XCP_REPO_URL"`], { encoding: 'utf8' });
    expect(res.status).toBe(0);
    expect(res.stdout).toBe(`${hostile}\n${hostile}\n`);
    expect(existsSync(marker)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  test('shell quoting round-trips anything but NUL', () => {
    for (const v of ["a'b", '$(id)', '`id`', 'a b', '', '\\', '"', 'ünï']) {
      const res = spawnSync('bash', ['-c', `printf %s ${shellQuote(v)}`], { encoding: 'utf8' });
      expect(res.stdout).toBe(v);
    }
  });
});

describe('lock files are validated before use', () => {
  const edit = (f: (l: { packages: Record<string, unknown>[] }) => void) => {
    const l = JSON.parse(goodLock);
    f(l);
    return JSON.stringify(l, null, 2);
  };

  test('the committed lock is valid', () => {
    expect(parseLock(goodLock, 'x.lock').packages.length).toBeGreaterThan(200);
  });

  test('a filename that leaves the pool is refused at its line', () => {
    const text = edit((l) => (l.packages[3].filename = 'pool/../../../tmp/evil.deb'));
    const line = text.split('\n').findIndex((x) => x.includes('evil.deb')) + 1;
    expect(() => parseLock(text, 'x.lock')).toThrow(expect.objectContaining({ details: [expect.stringContaining(`x.lock:${line}:`)] }));
  });

  test('a missing sha256 and an unknown field are errors, not internal errors', () => {
    const text = edit((l) => {
      delete l.packages[0].sha256;
      l.packages[1].signedBy = 'me';
    });
    let err: { message: string; details: string[]; exitCode: number } | undefined;
    try {
      parseLock(text, 'x.lock');
    } catch (e) {
      err = e as typeof err;
    }
    expect(err?.exitCode).toBe(3);
    expect(err?.message).toMatch(/lock x\.lock is invalid \(2 errors\)/);
    expect(err?.details.join('\n')).toMatch(/packages\[0\]\.sha256: missing required key "sha256"/);
    expect(err?.details.join('\n')).toMatch(/packages\[1\]\.signedBy: unknown key "signedBy"/);
  });

  test('a sha256 that is not 64 hex digits is refused', () => {
    expect(() => parseLock(edit((l) => (l.packages[0].sha256 = 'abc')), 'x.lock')).toThrow(/invalid/);
  });

  test('paths are confined below their root', () => {
    expect(confine('/srv/repo', 'pool/main/x/x.deb')).toBe('/srv/repo/pool/main/x/x.deb');
    for (const bad of ['../x', 'pool/../../x', '/etc/passwd', 'pool//x', 'pool/./x', 'a\\b']) expect(() => confine('/srv/repo', bad)).toThrow(/not a plain relative path/);
  });
});

describe('bad input costs little and prints safely', () => {
  test('1 MB of unknown keys: errors capped at 50 plus a count, in well under a second per MB', () => {
    const junk = Array.from({ length: 60000 }, (_, i) => `junk${i}: 1`).join('\n');
    const started = Date.now();
    const { issues, more } = parseRecipe(`${good}\n${junk}\n`);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(issues).toHaveLength(50);
    expect(more).toBe(60000 - 50);
  });

  test('an alias bomb is a recipe error, not a crash', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`)].join('\n');
    const { issues } = parseRecipe(bomb);
    expect(issues).toHaveLength(1);
    expect(issues[0].message).toMatch(/too many YAML alias expansions/);
  });

  test('duplicate keys are found (in one pass)', () => {
    const { issues } = parseRecipe(good.replace('version: 1.0.0\n', 'version: 1.0.0\nversion: 2.0.0\n'));
    expect(issues[0].message).toBe('duplicate key "version"');
  });

  test('control bytes of the input are shown escaped', () => {
    const { issues } = parseRecipe(good.replace('  release: bookworm\n', '  release: "book\\x1b[2Jworm"\n'));
    expect(issues[0].message).toContain('\\x1b[2J');
    expect(issues[0].message).not.toContain('\x1b');
    expect(printable('a\u009bb\u2028')).toBe('a\\x9bb\\u2028');
  });
});
