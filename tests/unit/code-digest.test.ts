import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { codeDigest } from '../../src/version';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'xcp-code-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe('codeDigest', () => {
  const base = {
    'stage.js': 'const a = require("./lib/a");\n',
    'lib/a.js': 'const b = require("../util");\nmodule.exports = 1;\n',
    'util/index.js': 'module.exports = 2;\n',
    'other.js': 'module.exports = 3;\n',
  };

  it('follows local requires transitively (including directory index modules)', () => {
    const one = codeDigest(['stage'], tree(base), '.js');
    const changedDeep = codeDigest(['stage'], tree({ ...base, 'util/index.js': 'module.exports = 4;\n' }), '.js');
    expect(changedDeep).not.toBe(one);
  });

  it('ignores modules the entry does not import', () => {
    const one = codeDigest(['stage'], tree(base), '.js');
    const changedOther = codeDigest(['stage'], tree({ ...base, 'other.js': 'module.exports = 5;\n' }), '.js');
    expect(changedOther).toBe(one);
  });
});
