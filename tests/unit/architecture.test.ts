import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The shape of src/ as the README's architecture section describes it: modules in
 * floors that import only downwards, no import circles, stages free of family and
 * format tests, templates reached only through a stage's declared reads, and no
 * function longer than a screen.
 */
const src = path.resolve(__dirname, '../../src');

function sourceFiles(dir = src): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

const files = sourceFiles();
const rel = (f: string) => path.relative(src, f).replace(/\.ts$/, '');

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.{1,2}(?:\/[^'"]*)?)['"]|import\(['"](\.{1,2}(?:\/[^'"]*)?)['"]\)/g)) {
    const spec = m[1] ?? m[2];
    const base = path.resolve(path.dirname(file), spec);
    const target = [`${base}.ts`, path.join(base, 'index.ts')].find((c) => existsSync(c));
    if (target) found.push(target);
  }
  return found;
}

const graph = new Map(files.map((f) => [f, importsOf(f)]));

/** Lowest first; a module's floor is that of the longest prefix naming it. */
const FLOORS: [string, number][] = [
  ['util', 0], ['errors', 0], ['version', 0],
  ['recipe', 1], ['lock', 1], ['cache', 1], ['signing', 1], ['sources', 1], ['license', 1], ['kickstart', 1],
  ['plan', 2],
  ['format', 3],
  ['family/types', 4], ['family/debian/apt', 4], ['iso', 4],
  ['build-root', 5],
  ['family/debian', 6], ['family/fedora', 6],
  ['family/registry', 7], ['family/recipe', 7],
  ['engine', 8],
  ['stages', 9],
  ['boottest', 10], ['sbom', 10], ['nightly', 10], ['channel', 10], ['pins', 10],
  ['commands', 11],
  ['cli', 12], ['tools', 12],
];

function floorOf(module: string): number {
  const match = FLOORS.filter(([prefix]) => module === prefix || module.startsWith(`${prefix}/`)).sort((a, b) => b[0].length - a[0].length)[0];
  if (!match) throw new Error(`${module} has no floor in the architecture test: add it`);
  return match[1];
}

describe('the architecture of src/', () => {
  test('every import goes to the same floor or below', () => {
    const upward: string[] = [];
    for (const [file, deps] of graph) {
      for (const dep of deps) if (floorOf(rel(dep)) > floorOf(rel(file))) upward.push(`${rel(file)} → ${rel(dep)}`);
    }
    expect(upward).toEqual([]);
  });

  test('no module takes part in an import circle', () => {
    const circles: string[][] = [];
    const state = new Map<string, 'open' | 'done'>();
    const trail: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      trail.push(f);
      for (const d of graph.get(f) ?? []) {
        if (state.get(d) === 'open') circles.push(trail.slice(trail.indexOf(d)).map(rel));
        else if (!state.has(d)) visit(d);
      }
      trail.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(circles).toEqual([]);
  });

  test('stages name no family and no package format: they reach them through the family interface', () => {
    const tests: string[] = [];
    for (const f of files.filter((f) => rel(f).startsWith('stages/'))) {
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        if (/['"](debian|fedora|deb|rpm)['"]/.test(line) || /\.id\s*===/.test(line)) tests.push(`${rel(f)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(tests).toEqual([]);
  });

  test('templates are reached only through the TemplateGrant a stage declared (or by code that is no stage)', () => {
    const notStages = ['util/templates', 'boottest/boot-test', 'boottest/upgrade-test', 'iso/answers', 'cli', 'engine/reads'];
    const reaching = files
      .filter((f) => !notStages.includes(rel(f)))
      .filter((f) => /\b(templateDir|projectDir|projectRoot)\b/.test(readFileSync(f, 'utf8')))
      .map(rel);
    expect(reaching).toEqual([]);
  });

  test('no function in src/ is longer than 60 lines', () => {
    const long: string[] = [];
    for (const f of files) {
      const sf = ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.ES2022, true);
      const walk = (node: ts.Node) => {
        if (ts.isFunctionLike(node) && 'body' in node && node.body) {
          const lines = sf.getLineAndCharacterOfPosition(node.getEnd()).line - sf.getLineAndCharacterOfPosition(node.getStart()).line + 1;
          if (lines > 60) long.push(`${rel(f)}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1} (${lines} lines)`);
        }
        ts.forEachChild(node, walk);
      };
      walk(sf);
    }
    expect(long).toEqual([]);
  });
});
