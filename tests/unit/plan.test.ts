import { decide } from '../../src/plan/decide';
import { stageGraph } from '../../src/stages/registry';
import { canonicalJson, hashValue } from '../../src/util/hash';

describe('stage decisions', () => {
  test('no previous output means the stage runs', () => {
    const d = decide('meta', { a: '1' }, undefined);
    expect(d.upToDate).toBe(false);
    expect(d.reasons).toEqual(['no previous output']);
  });

  test('unchanged inputs are up to date', () => {
    const d = decide('meta', { a: '1', b: '2' }, { b: '2', a: '1' });
    expect(d.upToDate).toBe(true);
    expect(d.reasons).toEqual([]);
  });

  test('each changed, added and removed input is named', () => {
    const d = decide('repo', { lock: 'x', key: 'k2', new: 'n' }, { lock: 'x', key: 'k1', old: 'o' });
    expect(d.upToDate).toBe(false);
    expect(d.reasons).toEqual(['key changed', 'new is a new input', 'old is no longer an input']);
  });

  test('damage forces a rebuild even with equal inputs', () => {
    const d = decide('repo', { a: '1' }, { a: '1' }, 'dists/bookworm/InRelease is missing');
    expect(d.upToDate).toBe(false);
    expect(d.reasons).toEqual(['dists/bookworm/InRelease is missing']);
  });

  test('input hashes do not depend on key order', () => {
    expect(decide('meta', { a: '1', b: '2' }, undefined).inputHash).toBe(decide('meta', { b: '2', a: '1' }, undefined).inputHash);
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
    expect(hashValue({ x: 1 })).not.toBe(hashValue({ x: 2 }));
  });

  test('the stage graph runs dependencies first', () => {
    expect(stageGraph.closure('repo').map((s) => s.id)).toEqual(['lock', 'fetch', 'build', 'meta', 'repo']);
    expect(stageGraph.closure('meta').map((s) => s.id)).toEqual(['lock', 'meta']);
    expect(stageGraph.closure('lock').map((s) => s.id)).toEqual(['lock']);
  });

  test('only lock and fetch use the network', () => {
    expect(stageGraph.closure('repo').filter((s) => s.network).map((s) => s.id)).toEqual(['lock', 'fetch']);
  });
});
