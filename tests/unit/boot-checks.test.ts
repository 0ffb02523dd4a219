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
