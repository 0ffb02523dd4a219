import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { projectRoot, xcpbuild, json } from '../helpers/cli';
import { tempDir, removeDir } from '../helpers/tmp';
import { buildYumArchive, testFedoraRecipe, copySources } from '../helpers/yum-archive';

jest.setTimeout(3_600_000);

/**
 * Stages declare what they read, and nothing else reaches a template. Both families'
 * builds (the default recipe up to its ISO, the yum suite's fedora recipe up to its
 * remastered ISO) run from a copy of the project under strace, cold (a private cache:
 * no tree restored): every template file a stage's build opens or executes must lie in
 * a template directory among that stage's inputs. Then each template directory gets
 * one file edited in turn, and `xcpbuild plan` must say that exactly the stages that
 * read that directory would rebuild, naming it.
 */
const TEMPLATE_ROOTS = ['templates', 'isolinux', 'preseed', 'kickstart'];
let work: string;
let copy: string;
let cache: string;
let out: string;
let fedoraRecipe: string;
let baseIso: string;
/** recipe → stage → the project-relative template paths its build read */
const reads = new Map<string, Map<string, Set<string>>>();

function sh(cmd: string, args: string[], cwd?: string): string {
  const res = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${res.status}): ${res.stderr}`);
  return res.stdout;
}

/** The project as built (dist/, templates, recipes, sources), copied so its templates can be edited. */
function copyProject(dest: string): void {
  mkdirSync(dest);
  for (const entry of ['package.json', 'dist', 'src', 'recipes', 'sources', ...TEMPLATE_ROOTS]) sh('cp', ['-a', path.join(projectRoot, entry), dest]);
  symlinkSync(path.join(projectRoot, 'node_modules'), path.join(dest, 'node_modules'));
}

/**
 * A private cache holding copies of the shared cache's downloads, and no cached trees.
 * Copies (times kept), never hard links: the store takes an entry with two links for
 * one that could be changed from outside, and fetches it again.
 */
function seedCache(dest: string): void {
  const shared = process.env.XCPBUILD_CACHE ?? path.join(os.homedir(), '.cache/xcpbuild');
  mkdirSync(dest);
  if (existsSync(path.join(shared, 'sha256'))) sh('cp', ['-a', '--reflink=auto', path.join(shared, 'sha256'), dest]);
}

const traceEnv = { ...process.env, UV_USE_IO_URING: '0' };

/** Runs the copy's CLI under strace (opens and execs of every process); returns the trace file. */
function tracedBuild(name: string, args: string[]): string {
  const trace = path.join(work, `${name}.trace`);
  const res = spawnSync(
    'strace',
    ['-f', '-qq', '--seccomp-bpf', '-e', 'trace=open,openat,openat2,execve,mkdir,mkdirat,rename,renameat,renameat2', '-o', trace, process.execPath, path.join(copy, 'dist/cli.js'), '--cache', cache, '--out', out, ...args],
    { cwd: copy, env: traceEnv, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (res.status !== 0) throw new Error(`traced ${args.join(' ')} failed (${res.status}): ${res.stderr.slice(-3000)}`);
  return trace;
}

/**
 * The template paths each stage's build touched: between the mkdir of its staging
 * directory and the rename that publishes it (the plan's hashing happens before).
 */
async function readsByStage(trace: string): Promise<Map<string, Set<string>>> {
  const byStage = new Map<string, Set<string>>();
  const roots = TEMPLATE_ROOTS.map((r) => `${copy}/${r}`);
  let current: string | undefined;
  const lines = readline.createInterface({ input: createReadStream(trace), crlfDelay: Infinity });
  for await (const line of lines) {
    const staging = /"[^"]*\/\.staging-([a-z]+)-\d+-[0-9a-f]+"/.exec(line);
    if (staging && /\bmkdir(at)?\(/.test(line)) current = staging[1];
    else if (staging && /\brename(at2?)?\(/.test(line)) current = undefined;
    if (!current || !/\b(open|openat|openat2|execve)\(/.test(line) || / = -1 /.test(line)) continue;
    const file = /"([^"]+)"/.exec(line)?.[1];
    if (!file || !roots.some((r) => file === r || file.startsWith(`${r}/`))) continue;
    if (!byStage.has(current)) byStage.set(current, new Set());
    byStage.get(current)!.add(path.relative(copy, file));
  }
  return byStage;
}

interface Planned {
  id: string;
  inputs?: string[];
  decision?: { reasons: string[]; upToDate: boolean };
}

function plan(recipe: string, extra: string[] = []): Planned[] {
  const res = spawnSync(process.execPath, [path.join(copy, 'dist/cli.js'), '--json', '--cache', cache, '--out', out, 'plan', '--target', 'iso', ...extra, recipe], { cwd: copy, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`plan failed (${res.status}): ${res.stderr}${res.stdout}`);
  return json<{ stages: Planned[] }>({ code: 0, stdout: res.stdout, stderr: res.stderr }).stages;
}

const isTemplateInput = (name: string) => TEMPLATE_ROOTS.some((r) => name === r || name.startsWith(`${r}/`));
const covers = (dir: string, file: string) => file === dir || file.startsWith(`${dir}/`);

const recipes = () => [
  { name: 'debian', file: 'recipes/xcp-bookworm.yaml', extra: [] as string[] },
  { name: 'fedora', file: fedoraRecipe, extra: ['--base-iso', baseIso] },
];

beforeAll(async () => {
  work = tempDir('stage-reads');
  copy = path.join(work, 'project');
  cache = path.join(work, 'cache');
  out = path.join(work, 'out');
  // Downloads come from the shared cache (fetched there first if this machine has none yet).
  expect(xcpbuild(['--locked', 'fetch', 'recipes/xcp-bookworm.yaml'])).toExitWith(0);
  copyProject(copy);
  seedCache(cache);

  reads.set('debian', await readsByStage(tracedBuild('debian', ['--locked', 'iso', 'recipes/xcp-bookworm.yaml'])));
  baseIso = path.join(out, 'xcp-bookworm/iso/xcp-bookworm-1.0.0-amd64.iso');

  const archive = buildYumArchive();
  const fdir = path.join(copy, 'fedora');
  mkdirSync(fdir);
  copySources(fdir);
  fedoraRecipe = path.join(fdir, 'xcp-test-fedora.yaml');
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHxcpbuildtestkeyxcpbuildtestkeyxcpbuild00 admin@example.org';
  const isoSection = `iso:\n  volumeLabel: XCP_TEST_FEDORA\n  publisher: xcpbuild\n  timeout: 5\n  xenCmdline: dom0_mem=1024M\n  dom0Cmdline: console=hvc0\n  vmVolumeGroup: xcp-vms\n  sshAuthorizedKeys:\n    - ${key}\n`;
  writeFileSync(fedoraRecipe, testFedoraRecipe(`file://${archive.dir}`, archive.key, 'http://xcp.example.org/fedora') + isoSection);
  const lock = spawnSync(process.execPath, [path.join(copy, 'dist/cli.js'), '--cache', cache, '--out', out, 'lock', fedoraRecipe], { cwd: copy, encoding: 'utf8' });
  if (lock.status !== 0) throw new Error(`fedora lock failed: ${lock.stderr}`);
  reads.set('fedora', await readsByStage(tracedBuild('fedora', ['iso', '--base-iso', baseIso, fedoraRecipe])));
});
afterAll(() => removeDir(work));

describe('every template a stage reads is among its declared inputs', () => {
  test.each(['debian', 'fedora'])('%s: each stage read only templates of its declared template directories, and each stage that declares some read them', (family) => {
    const r = recipes().find((x) => x.name === family)!;
    const stages = plan(r.file, r.extra);
    const undeclared: string[] = [];
    const unread: string[] = [];
    for (const s of stages) {
      const declared = (s.inputs ?? []).filter(isTemplateInput);
      const touched = [...(reads.get(family)!.get(s.id) ?? [])];
      for (const f of touched) if (!declared.some((d) => covers(d, f))) undeclared.push(`${s.id} read ${f}, not in ${declared.join(', ') || 'no template directory'}`);
      for (const d of declared) if (!touched.some((f) => covers(d, f))) unread.push(`${s.id} declares ${d} but read nothing in it`);
    }
    expect(undeclared).toEqual([]);
    expect(unread).toEqual([]);
    // The trace saw the builds: every stage that makes a directory ran, and the plan is up to date.
    expect(stages.filter((s) => !s.decision?.upToDate).map((s) => s.id)).toEqual([]);
  });
});

/** Every project directory of templates that holds files of its own, with those files. */
function templateDirectories(): { dir: string; files: string[] }[] {
  const found: { dir: string; files: string[] }[] = [];
  const walk = (rel: string) => {
    const entries = readdirSync(path.join(copy, rel), { withFileTypes: true });
    const files = entries.filter((e) => e.isFile()).map((e) => path.join(rel, e.name)).sort();
    if (files.length) found.push({ dir: rel, files });
    for (const e of entries) if (e.isDirectory()) walk(path.join(rel, e.name));
  };
  for (const r of TEMPLATE_ROOTS) walk(r);
  return found;
}

test('editing a file of each template directory makes exactly the stages that read it rebuild, naming it, in both families', () => {
  const wrong: string[] = [];
  const checked: string[] = [];
  for (const { dir, files } of templateDirectories()) {
    const readBy = (family: string) => [...reads.get(family)!].filter(([, paths]) => [...paths].some((p) => path.dirname(p) === dir)).map(([stage]) => stage).sort();
    const everRead = files.filter((f) => [...reads.values()].some((m) => [...m.values()].some((paths) => paths.has(f))));
    const file = everRead[0] ?? files[0];
    const original = readFileSync(path.join(copy, file));
    const mode = statSync(path.join(copy, file)).mode;
    writeFileSync(path.join(copy, file), Buffer.concat([original, Buffer.from('\n')]), { mode });
    try {
      for (const r of recipes()) {
        const rebuilt = plan(r.file, r.extra)
          .filter((s) => s.decision?.reasons.some((why) => /^(.+) changed$/.test(why) && covers(why.replace(/ changed$/, ''), file)))
          .map((s) => s.id)
          .sort();
        const expected = readBy(r.name);
        if (rebuilt.join() !== expected.join()) wrong.push(`${r.name}: editing ${file} rebuilds [${rebuilt}], but [${expected}] read ${dir}`);
      }
      checked.push(file);
    } finally {
      writeFileSync(path.join(copy, file), original, { mode });
    }
  }
  expect(wrong).toEqual([]);
  expect(checked.length).toBeGreaterThanOrEqual(12);
});
