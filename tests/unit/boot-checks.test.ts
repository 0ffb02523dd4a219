import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseChecks, requiredChecks } from '../../src/boottest/boot-test';

describe('boot-test checks', () => {
  it('check.sh runs exactly the required checks, in order', () => {
    const script = readFileSync(path.join(__dirname, '../../templates/boot-test/check.sh'), 'utf8');
    const run = [...script.matchAll(/^check (\S+) /gm)].map((m) => m[1]);
    expect(run).toEqual(requiredChecks);
  });

  it('reads the check lines out of a noisy serial log', () => {
    const serial = [
      '[   12.0] systemd[1]: Starting xcp-boot-check.service',
      '[   80.1] XCP_CHECK name=xl-info rc=0 seconds=890ms detail=xl info: xen 4.17.7; expected 4.17.7 ',
      'XCP_CHECK name=virsh-list rc=1 seconds=120000ms detail=error: failed to connect',
    ].join('\r\n');
    const results = parseChecks(serial, 'bios');
    expect(results.map((r) => r.name)).toEqual(requiredChecks);
    expect(results[0]).toEqual({ firmware: 'bios', name: 'xl-info', ok: true, time: '0.9 s', detail: 'xl info: xen 4.17.7; expected 4.17.7' });
    expect(results.find((r) => r.name === 'virsh-list')).toMatchObject({ ok: false, time: '120.0 s' });
    expect(results.find((r) => r.name === 'xl-list')).toMatchObject({ ok: false, detail: 'no result (the check did not run)' });
  });
});

describe('--reuse-install keys on content', () => {
  test('a disk installed from one ISO is never reused for another of the same path, size and time', async () => {
    const { mkdtempSync, writeFileSync, utimesSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { installKey, reusable } = await import('../../src/boottest/boot-test');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'xcpbuild-reuse-'));
    try {
      const iso = path.join(dir, 'x.iso');
      writeFileSync(iso, 'A'.repeat(4096));
      utimesSync(iso, 1e9, 1e9);
      const installed = { ...(await installKey(iso, 'answers-1')), installSeconds: 100 };
      expect(reusable(installed, await installKey(iso, 'answers-1'))).toBe(true);
      writeFileSync(iso, 'B'.repeat(4096));
      utimesSync(iso, 1e9, 1e9);
      expect(reusable(installed, await installKey(iso, 'answers-1'))).toBe(false);
      writeFileSync(iso, 'A'.repeat(4096));
      expect(reusable(installed, await installKey(iso, 'answers-2'))).toBe(false);
      // A record of an earlier xcpbuild (path, size and mtime) is never reused.
      expect(reusable({ iso, isoSize: 4096, isoMtimeMs: 1e12, answers: 'answers-1' } as never, await installKey(iso, 'answers-1'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
