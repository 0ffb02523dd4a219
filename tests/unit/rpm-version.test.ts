import { execFileSync } from 'node:child_process';
import { compareEvr, parseEvr } from '../../src/format/rpm/version';

/** Pairs that exercise each rule of rpmvercmp: tilde, caret, epochs, leading zeros, letters against digits. */
const PAIRS: [string, string][] = [
  ['1.0', '1.0.1'],
  ['1.0~rc1', '1.0'],
  ['1.0~~', '1.0~'],
  ['1.0^git1', '1.0'],
  ['1.0^git1', '1.0.1'],
  ['1.0^', '1.0^git'],
  ['1.0~rc1^git1', '1.0~rc1'],
  ['2:1.0-1', '1:9.9-1'],
  ['4.17.7-1.fc99', '4.17.6-1.fc99'],
  ['4.20.0-3.fc43', '4.20.0-10.fc43'],
  ['1.0a', '1.0'],
  ['1.010', '1.9'],
  ['1.0-1', '1.0-1.fc43'],
  ['a', '1'],
  ['1.0.', '1.0'],
  ['1_0', '1.0'],
  ['5.5p1', '5.5p10'],
  ['xyz.4', 'xyz.4'],
  ['0:1.0-1', '1.0-1'],
];

describe('RPM version order', () => {
  it('splits epoch, version and release', () => {
    expect(parseEvr('2:4.20.0-1.fc43')).toEqual({ epoch: 2, version: '4.20.0', release: '1.fc43' });
    expect(parseEvr('1.0')).toEqual({ epoch: 0, version: '1.0', release: '' });
  });

  it("agrees with the rpm library's labelCompare on every rule", () => {
    const script = [
      'import json, sys, rpm',
      'def evr(s):',
      "    e = '0'",
      "    if ':' in s: e, s = s.split(':', 1)",
      "    v, _, r = s.partition('-')",
      '    return (e, v, r)',
      'print(json.dumps([rpm.labelCompare(evr(a), evr(b)) for a, b in json.load(sys.stdin)]))',
    ].join('\n');
    const expected = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(PAIRS) }).toString()) as number[];
    expect(PAIRS.map(([a, b]) => compareEvr(a, b))).toEqual(expected);
    expect(PAIRS.map(([a, b]) => compareEvr(b, a))).toEqual(expected.map((n) => -n || 0));
  });
});
