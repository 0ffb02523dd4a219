import { stampValidity, releaseIndexes } from '../../src/format/deb/apt-channel';
import { gateRefusal } from '../../src/channel/promote';
import { checkChannelName } from '../../src/channel/channel';
import { channelValidSeconds, hostSource } from '../../src/recipe/channels';
import { parseDeb822 } from '../../src/format/deb/deb822';
import { Recipe } from '../../src/recipe/schema';

const RELEASE = `Acquire-By-Hash: yes
Architectures: amd64
Codename: bookworm
Date: Wed, 02 Dec 2026 18:00:00 UTC
Suite: stable
Valid-Until: Wed, 09 Dec 2026 18:00:00 UTC
SHA256:
 3a6a7cf26cb101c435f337a19b3ec12e8aca28e7472311ed165b4de48173812b           113561 main/binary-amd64/Packages
 21f5354abd3d3b6596db671862aaf7d202394eb1c4f7d3f1e62a76e808164352            38093 main/binary-amd64/Packages.gz
`;

describe('channel Release files', () => {
  test('stampValidity replaces Date and Valid-Until and nothing else', () => {
    const now = new Date('2026-12-20T06:30:00Z');
    const out = stampValidity(RELEASE, now, 86400);
    const f = parseDeb822(out)[0];
    expect(f.Date).toBe('Sun, 20 Dec 2026 06:30:00 UTC');
    expect(f['Valid-Until']).toBe('Mon, 21 Dec 2026 06:30:00 UTC');
    const rest = (t: string) => t.split('\n').filter((l) => !/^(Date|Valid-Until):/.test(l));
    expect(rest(out)).toEqual(rest(RELEASE));
    expect(out.match(/^Date:/gm)).toHaveLength(1);
    expect(out.match(/^Valid-Until:/gm)).toHaveLength(1);
  });
  test('releaseIndexes reads the SHA256 section', () => {
    expect(releaseIndexes(RELEASE)).toEqual([
      { sha256: '3a6a7cf26cb101c435f337a19b3ec12e8aca28e7472311ed165b4de48173812b', size: 113561, name: 'main/binary-amd64/Packages' },
      { sha256: '21f5354abd3d3b6596db671862aaf7d202394eb1c4f7d3f1e62a76e808164352', size: 38093, name: 'main/binary-amd64/Packages.gz' },
    ]);
  });
});

describe('promotion', () => {
  const rows = [{ firmware: 'bios', check: 'xl info', ok: true }];
  test('only a passed boot test (or a release without an ISO) goes to a channel', () => {
    expect(gateRefusal({ bootTest: { gate: 'passed', firmwares: ['bios'], rows } })).toBeUndefined();
    expect(gateRefusal({ bootTest: { gate: 'no-iso', firmwares: [], rows: [] } })).toBeUndefined();
    expect(gateRefusal({ bootTest: { gate: 'skipped', firmwares: [], rows: [] } })).toMatch(/--skip-boot-test/);
    expect(gateRefusal({ bootTest: { gate: 'passed', firmwares: ['bios'], rows: [...rows, { firmware: 'bios', check: 'virsh', ok: false }] } })).toMatch(/1 failed row\(s\): bios virsh/);
    expect(gateRefusal({ bootTest: { gate: 'passed', firmwares: ['bios'], rows: [] } })).toMatch(/no rows/);
  });
  test('channel names are one lowercase path segment', () => {
    expect(checkChannelName('stable')).toBe('stable');
    for (const bad of ['Stable', '../x', 'a/b', '', '-x', 'x'.repeat(41), 'sta ble']) expect(() => checkChannelName(bad)).toThrow(/expected a name/);
  });
});

describe('what hosts follow', () => {
  const recipe = (repository: Partial<Recipe['repository']>) => ({ repository: { url: 'http://r.example/x', codename: 'bookworm', ...repository } }) as Recipe;
  test('the channel at channelsUrl when the recipe names one, else the repository', () => {
    expect(hostSource(recipe({}))).toEqual({ url: 'http://r.example/x', suite: 'bookworm' });
    expect(hostSource(recipe({ channel: 'stable', channelsUrl: 'http://u.example/x/channels/' }))).toEqual({ url: 'http://u.example/x/channels/stable/', suite: 'stable', channel: 'stable' });
  });
  test('validity: the recipe per channel, else 7 days for nightly and 30 for others', () => {
    expect(channelValidSeconds(recipe({}), 'nightly')).toBe(7 * 86400);
    expect(channelValidSeconds(recipe({}), 'stable')).toBe(30 * 86400);
    expect(channelValidSeconds(recipe({ channelValidDays: { stable: 3 } }), 'stable')).toBe(3 * 86400);
  });
});

describe('recipe keys of channels', () => {
  const { readFileSync } = require('node:fs') as typeof import('node:fs');
  const text = (readFileSync(require('node:path').join(__dirname, '../../recipes/xcp-bookworm.yaml'), 'utf8') as string).replace(/^  (channel|channelsUrl): .*\n/gm, '');
  const { parseRecipe } = require('../../src/family/recipe') as typeof import('../../src/family/recipe');
  test('a channel needs channelsUrl; the error names the line and key', () => {
    const res = parseRecipe(text.replace(/^  url: (.*)$/m, '  url: $1\n  channel: stable'));
    expect(res.issues.map((i) => `${i.line} ${i.keyPath}: ${i.message}`).join('\n')).toMatch(/^\d+ repository\.channel: a channel needs repository\.channelsUrl/);
    expect(parseRecipe(text.replace(/^  url: (.*)$/m, '  url: $1\n  channel: stable\n  channelsUrl: http://u.example/x/channels')).issues).toEqual([]);
    expect(parseRecipe(text.replace(/^  url: (.*)$/m, '  url: $1\n  channel: Stable')).issues[0].message).toMatch(/update channel/);
  });
});
