import { mkdirSync, existsSync, statSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scratchDir, sweepScratch } from '../../src/util/scratch';

describe('scratch directories', () => {
  test('are private and named with the pid; the sweep removes only those of runs that are gone', async () => {
    const mine = await scratchDir('unit-test');
    expect(path.basename(mine)).toMatch(new RegExp(`^xcpbuild-unit-test\\.${process.pid}-[A-Za-z0-9]{6}$`));
    expect(statSync(mine).mode & 0o777).toBe(0o700);
    // pid_max is at most 2^22: this pid cannot be running.
    const dead = path.join(os.tmpdir(), 'xcpbuild-unit-test.4194305-abcDEF');
    const other = path.join(os.tmpdir(), 'xcpbuild-not-ours-4194305');
    for (const d of [dead, other]) {
      mkdirSync(path.join(d, 'sub'), { recursive: true });
      writeFileSync(path.join(d, 'sub/file'), 'x');
    }
    try {
      expect(await sweepScratch()).toBeGreaterThanOrEqual(1);
      expect(existsSync(dead)).toBe(false);
      expect(existsSync(mine)).toBe(true);
      expect(existsSync(other)).toBe(true);
    } finally {
      for (const d of [mine, dead, other]) rmSync(d, { recursive: true, force: true });
    }
  });
});
