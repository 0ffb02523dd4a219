import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { xcpbuild, json } from '../helpers/cli';
import { tempDir, removeDir, copyDefaultRecipe } from '../helpers/tmp';

jest.setTimeout(1_800_000);

/**
 * Debian's piuparts on the default recipe's own packages (xenserver-core, xcp-full,
 * xcp-host), for real and offline: install → purge against the repository, and
 * install from a previous release → upgrade → purge. The previous release is the
 * default recipe; this one bumps its own packages' versions as a new release does.
 */
let dir: string;
beforeAll(() => {
  dir = tempDir('piuparts');
});
afterAll(() => removeDir(dir));

interface Result {
  ok: boolean;
  runs: { mode: string; ok: boolean; log: string; seconds: number }[];
}

test('the recipe\'s packages install, upgrade from the previous release and purge cleanly (piuparts, offline)', () => {
  const previous = copyDefaultRecipe(path.join(dir, 'previous'));
  expect(xcpbuild(['--locked', '--out', path.join(dir, 'out-previous'), 'repo', previous])).toExitWith(0);
  const next = copyDefaultRecipe(path.join(dir, 'next'), (t) =>
    t.replace(/^version: 1\.0\.0$/m, 'version: 1.0.1').replace(/^    version: 1\.0\.0$/gm, '    version: 1.0.1').replace(/xcp-host: \{ version: ([^,]+),/, 'xcp-host: { version: $1+b1,'),
  );
  const out = path.join(dir, 'out-next');
  expect(xcpbuild(['--out', out, 'repo', next])).toExitWith(0);
  const res = xcpbuild(['--json', '--out', out, 'piuparts', next, '--previous', path.join(dir, 'out-previous/xcp-bookworm/repo')]);
  expect(res).toExitWith(0);
  const result = json<Result>(res);
  expect(result.runs.map((r) => [r.mode, r.ok])).toEqual([['install-purge', true], ['upgrade', true]]);
  for (const r of result.runs) {
    const log = readFileSync(r.log, 'utf8');
    expect(log).toMatch(/PASS: All tests\./);
    for (const p of ['xenserver-core', 'xcp-full', 'xcp-host']) expect(log).toContain(p);
  }
  expect(readFileSync(result.runs[1].log, 'utf8')).toMatch(/PASS: Upgrading between Debian distributions/);
});

test('piuparts needs a built repository and a real previous one', () => {
  const recipe = copyDefaultRecipe(path.join(dir, 'bad'));
  const none = xcpbuild(['--out', path.join(dir, 'out-none'), 'piuparts', recipe]);
  expect(none).toExitWith(3);
  expect(none.stderr).toContain('run xcpbuild repo');
  const notRepo = xcpbuild(['--out', path.join(dir, 'out-previous'), 'piuparts', recipe, '--previous', dir]);
  expect(notRepo).toExitWith(3);
  expect(notRepo.stderr).toContain('neither a release (with repo/) nor a repository');
  expect(existsSync(path.join(dir, 'out-none/xcp-bookworm/piuparts'))).toBe(false);
});
