import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseRecipe } from '../../src/family/recipe';
import { renderKickstart } from '../../src/kickstart/render';
import { projectDir } from '../../src/util/templates';

const KICKSTART_DIR = projectDir('kickstart');
import { validateKickstart } from '../../src/kickstart/validate';
import { Recipe } from '../../src/recipe/schema';

const root = path.resolve(__dirname, '../..');
const HASH = '$6$xcpbuild$Jm5a9eZEzB1hN0m4j8l0LbpXQm0yJbUu9gk0Z0Jk8TQn1mZ4wJ4t2yXH0M1rQhQn7w3pQyZ8p3k8m5r2xP7Qz/';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHxcpbuildtestkeyxcpbuildtestkeyxcpbuild00 admin@example.org';

function fedora(extra = `  rootPasswordHash: ${HASH}\n  sshAuthorizedKeys:\n    - ${KEY}\n`): Recipe {
  const { recipe, issues } = parseRecipe(readFileSync(path.join(root, 'recipes/xcp-fedora.yaml'), 'utf8') + extra);
  expect(issues).toEqual([]);
  return recipe!;
}
const expect_ = { vg: 'xcp-vms', packages: ['xcp-full-1.0.0-1'] };

describe('the kickstart of a fedora recipe', () => {
  test('renders exactly the golden file (tests/fixtures/kickstart/xcp-fedora.ks), which the validator accepts', async () => {
    const text = await renderKickstart(fedora(), KICKSTART_DIR);
    expect(text).toBe(readFileSync(path.join(root, 'tests/fixtures/kickstart/xcp-fedora.ks'), 'utf8'));
    expect(validateKickstart(text, expect_)).toEqual([]);
  });

  test('with SSH keys only, root is locked; with neither, there is no kickstart (no default password)', async () => {
    const keysOnly = await renderKickstart(fedora(`  sshAuthorizedKeys:\n    - ${KEY}\n`), KICKSTART_DIR);
    expect(keysOnly).toMatch(/^rootpw --lock$/m);
    await expect(renderKickstart(fedora(''), KICKSTART_DIR)).rejects.toThrow(/needs credentials: set iso.rootPasswordHash .* or iso.sshAuthorizedKeys/);
  });

  test('an SSH key comment with a double quote cannot end the quoted value', async () => {
    await expect(renderKickstart(fedora(`  sshAuthorizedKeys:\n    - 'ssh-ed25519 AAAA x" --username=attacker'\n`), KICKSTART_DIR)).rejects.toThrow(/iso.sshAuthorizedKeys\[0\] .* double quote/);
  });
});

describe('the kickstart validator', () => {
  const good = readFileSync(path.join(root, 'tests/fixtures/kickstart/xcp-fedora.ks'), 'utf8');
  const problems = (text: string) => validateKickstart(text, expect_).map((p) => `${p.line}: ${p.message}`);
  const lineOf = (needle: string) => good.split('\n').findIndex((l) => l.startsWith(needle)) + 1;

  test('a plaintext password is refused', () => {
    expect(problems(good.replace(/^rootpw --iscrypted .*$/m, 'rootpw hunter2'))).toEqual([`${lineOf('rootpw')}: rootpw: a plaintext password is never written (use --iscrypted or --lock)`]);
  });

  test('unknown commands and options, and values where none belong, are named with their line', () => {
    const bad = good.replace('firstboot --disable', 'firstboot --disable=yes').replace('zerombr', 'zerombr\nautopart --type=lvm').replace('reqpart --add-boot', 'reqpart --add-boot --nohome');
    expect(problems(bad)).toEqual([
      `${lineOf('firstboot')}: firstboot: --disable takes no value`,
      `${lineOf('zerombr') + 1}: unknown command autopart`,
      `${lineOf('reqpart') + 1}: reqpart: unknown option --nohome`,
    ]);
  });

  test('an unclosed section, a missing command, the wrong volume group and a missing package are all reported', () => {
    const bad = good.replace(/^%end\n\n%post/m, '\n%post').replace(/^timezone .*\n/m, '').replace('volgroup xcp-vms', 'volgroup other').replace('xcp-full-1.0.0-1\n', 'xcp-full\n');
    expect(problems(bad)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/%post inside %packages \(opened on line \d+, no %end\)/),
        '0: missing command timezone',
        expect.stringMatching(/volgroup: expected the VM volume group xcp-vms, found other/),
        '0: %packages lacks xcp-full-1.0.0-1',
      ]),
    );
  });

  test('shell syntax and locked root without keys are refused', () => {
    expect(problems(good.replace('lang en_US.UTF-8', "lang `reboot`"))).toEqual([`${lineOf('lang')}: quotes or shell characters out of place: lang \`reboot\``]);
    const locked = good.replace(/^rootpw --iscrypted .*$/m, 'rootpw --lock').replace(/^sshkey .*\n/m, '');
    expect(problems(locked)).toEqual([`${lineOf('rootpw')}: no credentials: rootpw --lock and no sshkey (there is no default password)`]);
  });
});
