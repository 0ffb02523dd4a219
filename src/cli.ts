#!/usr/bin/env node
import path from 'node:path';
import os from 'node:os';
import { Command, Option } from 'commander';
import { loadRecipe } from './recipe/load';
import { recipeJsonSchema } from './recipe/schema';
import { BuildLog } from './util/log';
import { XcpError, ExitCode } from './errors';
import { BuildOptions, StageId } from './plan/types';
import { createContext } from './plan/context';
import { execute, planStages, RendererChoice } from './plan/engine';
import { defaultCacheDir } from './cache/store';
import { defaultKeyDir, generateKey } from './signing/gpg';
import { ensureWritableDir } from './util/fsutil';
import { toolVersion } from './version';
import { displayPath } from './util/paths';
import { readLock } from './lockfile';

interface GlobalOpts {
  out: string;
  cache: string;
  json: boolean;
  verbose: boolean;
  offline: boolean;
  locked: boolean;
  signingKey?: string;
  dryRun?: boolean;
}

const program = new Command();
program
  .name('xcpbuild')
  .version(toolVersion)
  .description(
    'Build signed package repositories, the xenserver-core and xcp-full metapackages and the Xen appliance ISO from a recipe.\n\n' +
      'A recipe (recipes/<name>.yaml) pins Xen, the dom0 kernel, the toolstack and the storage and network packages. ' +
      'Every build is planned as a graph of stages (lock → fetch → meta → repo, fetch → installer, repo + installer → iso); ' +
      'a stage runs only when one of its inputs changed, and says which. RECIPE is a path or a name under recipes/.',
  )
  .addOption(new Option('--out <dir>', 'where outputs go (<dir>/<recipe name>/<stage>)').default('out'))
  .addOption(new Option('--cache <dir>', 'the content-addressed download cache').default(defaultCacheDir()).env('XCPBUILD_CACHE'))
  .option('--json', 'print one JSON document with the result (for CI) instead of progress', false)
  .option('-v, --verbose', 'also print every command run and its output (always in the build log)', false)
  .option('--offline', 'never use the network: fail if the lock is stale or a file is not cached', false)
  .option('--locked', 'fail instead of re-resolving when the lock is missing or out of date', false)
  .addOption(new Option('--signing-key <file>', 'armored secret key that signs the repository').env('XCPBUILD_SIGNING_KEY'))
  .showHelpAfterError('(run xcpbuild --help for usage)')
  .addHelpText(
    'after',
    `
Examples:
  xcpbuild validate xcp-bookworm         check a recipe; every error with file:line:col
  xcpbuild plan xcp-bookworm             show the stage graph, input hashes and what would run
  xcpbuild lock xcp-bookworm --update    re-resolve the closure; prints what was added, removed, upgraded
  xcpbuild repo xcp-bookworm             lock (if stale), fetch, build metapackages, publish the signed repo
  xcpbuild repo xcp-bookworm --offline   the same from the cache only
  xcpbuild genkey                        make a development signing key (~/.config/xcpbuild/keys)

Exit codes: 0 ok, 1 internal error, 2 usage, 3 invalid input (recipe, lock, key, paths),
  4 resolution (pinned version missing, conflicts), 5 network, 6 build tool failed, 7 verification failed.`,
  );

function globals(): GlobalOpts {
  return program.opts<GlobalOpts>();
}

function buildOptions(g: GlobalOpts, extra: Partial<BuildOptions> = {}): BuildOptions {
  return {
    outRoot: path.resolve(g.out),
    cacheDir: path.resolve(g.cache),
    offline: g.offline,
    locked: g.locked,
    signingKey: g.signingKey,
    updateLock: false,
    ...extra,
  };
}

function logFileFor(g: GlobalOpts, recipeName: string, command: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return path.resolve(g.out, recipeName, 'logs', `${stamp}-${command}.log`);
}

async function runStages(recipeArg: string, target: StageId, command: string, extra: Partial<BuildOptions> = {}, dryRun = false): Promise<void> {
  const g = globals();
  const loaded = await loadRecipe(recipeArg);
  if (dryRun) return printPlan(recipeArg, target);
  await ensureWritableDir(path.resolve(g.out, loaded.recipe.name));
  const logFile = logFileFor(g, loaded.recipe.name, command);
  const log = new BuildLog(logFile, g.verbose && !g.json);
  currentLog = log;
  log.line(`xcpbuild ${toolVersion}: ${process.argv.slice(2).join(' ')}`);
  const ctx = await createContext(loaded, buildOptions(g, extra), log);
  const renderer: RendererChoice = g.json ? 'silent' : g.verbose ? 'simple' : 'default';
  const started = Date.now();
  try {
    const results = await execute(ctx, target, renderer);
    const seconds = (Date.now() - started) / 1000;
    if (g.json) {
      process.stdout.write(JSON.stringify({ ok: true, recipe: loaded.recipe.name, target, seconds, stages: results, notes: ctx.notes, log: logFile }, null, 2) + '\n');
    } else {
      for (const n of ctx.notes) console.log(n);
      const built = results.filter((r) => r.status === 'built').length;
      const output = displayPath(results.find((r) => r.id === target)?.output ?? '');
      console.log(built === 0 ? `${target}: up to date (${seconds.toFixed(2)}s)` : `${target}: ${output} (${seconds.toFixed(1)}s)`);
      console.log(`log: ${displayPath(logFile)}`);
    }
  } finally {
    await ctx.dispose();
    await log.close();
  }
}

async function printPlan(recipeArg: string, target: StageId): Promise<void> {
  const g = globals();
  const loaded = await loadRecipe(recipeArg);
  const log = new BuildLog(undefined, false);
  const ctx = await createContext(loaded, buildOptions(g), log);
  const planned = await planStages(ctx, target);
  if (g.json) {
    process.stdout.write(JSON.stringify({ recipe: loaded.recipe.name, target, stages: planned }, null, 2) + '\n');
    return;
  }
  console.log(`plan for ${loaded.recipe.name} → ${target}`);
  for (const s of planned) {
    const hash = s.decision ? s.decision.inputHash.slice(0, 16) : '(pending)';
    const status = s.pending ? `will run: ${s.pending}` : s.decision!.upToDate ? 'up to date' : `will run: ${s.decision!.reasons.join('; ')}`;
    console.log(`  ${s.id.padEnd(9)} ${hash}  ${s.network ? 'network' : 'offline'}  after [${s.deps.join(', ')}]`);
    console.log(`            makes ${s.makes}`);
    console.log(`            → ${path.relative(process.cwd(), s.output)}  ${status}`);
  }
}

const stageCommands: { name: StageId; summary: string }[] = [
  { name: 'fetch', summary: 'download every locked package into the cache (parallel, resumable, sha256-verified)' },
  { name: 'meta', summary: 'build the metapackages (.deb) whose Depends pin the recipe packages with (= version)' },
  { name: 'repo', summary: 'publish the signed apt repository (whole closure + metapackages) to <out>/<name>/repo' },
  { name: 'installer', summary: 'build the installer environment (kernel, live-boot initramfs, squashfs root) from the lock' },
  { name: 'iso', summary: 'build the hybrid BIOS/UEFI appliance ISO (<name>-<version>-amd64.iso and .sha256)' },
];

program
  .command('validate')
  .argument('<recipe>', 'recipe path or name')
  .description('check a recipe against the schema; reports every error with file:line:col, key, expected and found')
  .action(async (recipeArg: string) => {
    const loaded = await loadRecipe(recipeArg);
    if (globals().json) process.stdout.write(JSON.stringify({ ok: true, recipe: loaded.file }) + '\n');
    else console.log(`${path.relative(process.cwd(), loaded.file)}: valid`);
  });

program
  .command('plan')
  .argument('<recipe>', 'recipe path or name')
  .option('--target <stage>', 'the stage to plan for', 'repo')
  .description('print the stage graph: each stage, its input hash, its output, and whether it would run and why')
  .action(async (recipeArg: string, opts: { target: StageId }) => printPlan(recipeArg, opts.target));

program
  .command('lock')
  .argument('<recipe>', 'recipe path or name')
  .option('--update', 're-resolve even if the lock matches the recipe, and print what changed', false)
  .option('--dry-run', 'show the plan instead of running it', false)
  .description('resolve the install closure with apt (InRelease verified against the recipe keyrings) into recipes/<name>.lock')
  .action(async (recipeArg: string, opts: { update: boolean; dryRun: boolean }) => runStages(recipeArg, 'lock', 'lock', { updateLock: opts.update }, opts.dryRun));

for (const c of stageCommands) {
  program
    .command(c.name)
    .argument('<recipe>', 'recipe path or name')
    .option('--dry-run', 'show the plan instead of running it', false)
    .description(c.summary)
    .action(async (recipeArg: string, opts: { dryRun: boolean }) => runStages(recipeArg, c.name, c.name, {}, opts.dryRun));
}

program
  .command('verify')
  .argument('<recipe>', 'recipe path or name')
  .description('hash every cached file of the lock again and report missing or corrupted ones')
  .action(async (recipeArg: string) => {
    const g = globals();
    const loaded = await loadRecipe(recipeArg);
    const lock = await readLock(loaded.lockFile);
    if (!lock) throw new XcpError(`no lock at ${loaded.lockFile}; run xcpbuild lock`, 'invalidInput');
    const { ContentStore } = await import('./cache/store');
    const store = await ContentStore.open(path.resolve(g.cache));
    const bad = [];
    for (const p of lock.packages) if (!(await store.has(p.sha256, true))) bad.push(`${p.name} ${p.version}`);
    await store.save();
    if (g.json) process.stdout.write(JSON.stringify({ ok: bad.length === 0, checked: lock.packages.length, missingOrCorrupt: bad }) + '\n');
    if (bad.length) throw new XcpError(`${bad.length} of ${lock.packages.length} locked file(s) missing or corrupt in the cache (corrupt ones were removed; run xcpbuild fetch)`, 'verification', bad);
    if (!g.json) console.log(`all ${lock.packages.length} locked files present and intact`);
  });

program
  .command('genkey')
  .description('make a development signing key; the secret key stays in --dir (never in an output)')
  .option('--dir <dir>', 'where to keep the key', defaultKeyDir())
  .option('--name <name>', 'key file name: <name>.key.asc and <name>.pub.asc', 'dev')
  .option('--uid <uid>', 'the key user id', 'xcpbuild development key <xcpbuild-dev@localhost>')
  .option('--force', 'replace an existing key', false)
  .option('--if-missing', 'do nothing if the key already exists', false)
  .action(async (opts: { dir: string; name: string; uid: string; force: boolean; ifMissing: boolean }) => {
    const { exists } = await import('./util/fsutil');
    const secret = path.join(path.resolve(opts.dir), `${opts.name}.key.asc`);
    if (opts.ifMissing && (await exists(secret))) {
      if (!globals().json) console.log(`signing key exists: ${secret}`);
      return;
    }
    const log = new BuildLog(undefined, globals().verbose);
    const key = await generateKey(log, path.resolve(opts.dir), opts.name, opts.uid, opts.force);
    if (globals().json) process.stdout.write(JSON.stringify(key) + '\n');
    else console.log(`secret key: ${key.secret}\npublic key: ${key.public}\nfingerprint: ${key.fingerprint}`);
  });

program
  .command('boot-test')
  .argument('<iso>', 'the ISO to test (out/<name>/iso/<name>-<version>-amd64.iso)')
  .option('--recipe <recipe>', 'the recipe the ISO was built from (default: from the ISO file name)')
  .option('--firmware <list>', 'bios, uefi or both', 'both')
  .option('--install-timeout <min>', 'minutes allowed for the unattended install', '90')
  .option('--boot-timeout <min>', 'minutes allowed for the first boot and its checks', '30')
  .option('--jobs <n>', 'firmwares tested at the same time (each QEMU is mostly one busy thread)', String(Math.min(2, os.cpus().length)))
  .option('--reuse-install', 'keep a disk already installed from this same ISO and answer files; only boot it and run the checks', false)
  .description(
    'install the ISO unattended onto a blank disk in QEMU (TCG) under SeaBIOS and/or OVMF, boot the disk into Xen ' +
      'and dom0, and check the toolstack (xl info/list/create, virsh, ovs-vsctl, the VM volume group, package versions)',
  )
  .action(async (isoArg: string, opts: { recipe?: string; firmware: string; installTimeout: string; bootTimeout: string; reuseInstall: boolean; jobs: string }) => {
    const g = globals();
    const iso = path.resolve(isoArg);
    const { exists } = await import('./util/fsutil');
    if (!(await exists(iso))) throw new XcpError(`no ISO at ${iso}; build one with xcpbuild iso`, 'invalidInput');
    const recipeArg = opts.recipe ?? path.basename(iso).replace(/-[^-]+-amd64\.iso$/, '');
    const loaded = await loadRecipe(recipeArg);
    const lock = await readLock(loaded.lockFile);
    if (!lock) throw new XcpError(`no lock for ${loaded.recipe.name}; run xcpbuild lock`, 'invalidInput');
    const firmwares = opts.firmware === 'both' ? (['bios', 'uefi'] as const) : [opts.firmware];
    for (const f of firmwares) if (f !== 'bios' && f !== 'uefi') throw new XcpError(`--firmware: expected bios, uefi or both, found "${f}"`, 'usage');
    const workDir = path.resolve(g.out, loaded.recipe.name, 'boot-test');
    const logFile = logFileFor(g, loaded.recipe.name, 'boot-test');
    const log = new BuildLog(logFile, g.verbose && !g.json);
    currentLog = log;
    const { bootTest, formatReport } = await import('./boottest/boot-test');
    const jobs = Number(opts.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new XcpError(`--jobs: expected a whole number of 1 or more, found "${opts.jobs}"`, 'usage');
    const testOne = async (firmware: 'bios' | 'uefi') => {
      const report = await bootTest(loaded, lock, {
        iso,
        workDir,
        firmware,
        installTimeoutMs: Number(opts.installTimeout) * 60000,
        bootTimeoutMs: Number(opts.bootTimeout) * 60000,
        reuseInstall: opts.reuseInstall,
        progress: (t) => {
          log.line(t);
          if (!g.json) process.stderr.write(`${t}\n`);
        },
      }, log);
      log.line(JSON.stringify(report));
      return report;
    };
    const queue = [...(firmwares as ('bios' | 'uefi')[])];
    const reports: Awaited<ReturnType<typeof testOne>>[] = [];
    await Promise.all(
      Array.from({ length: Math.min(jobs, queue.length) }, async () => {
        for (let f = queue.shift(); f; f = queue.shift()) reports.push(await testOne(f));
      }),
    );
    reports.sort((a, b) => firmwares.indexOf(a.firmware) - firmwares.indexOf(b.firmware));
    const table = formatReport(reports);
    for (const l of table) log.line(l);
    if (g.json) process.stdout.write(JSON.stringify({ ok: reports.every((r) => r.ok), reports, log: logFile }, null, 2) + '\n');
    else {
      console.log(table.join('\n'));
      console.log(`serial logs: ${displayPath(workDir)}/<firmware>/{install,boot}.serial.log`);
    }
    const failed = reports.filter((r) => !r.ok);
    if (failed.length) throw new XcpError(`boot test failed: ${failed.map((r) => `${r.firmware}: ${r.failure}`).join('; ')}`, 'verification');
  });

const preseed = program.command('preseed').description('answer files of the appliance installer');
preseed
  .command('check')
  .argument('<file>', 'an answer file in preseed (debconf) syntax')
  .option('--interactive', 'check as for the interactive installer (credentials and disk may be asked for)', false)
  .description('validate an answer file with the installer\'s own validator; every error with file:line')
  .action(async (file: string, opts: { interactive: boolean }) => {
    const { checkAnswerFile } = await import('./iso/answers');
    const result = await checkAnswerFile(path.resolve(file), opts.interactive ? 'interactive' : 'automated');
    if (!result.ok) throw new XcpError(`answer file ${file} is invalid (${result.errors.length} error${result.errors.length === 1 ? '' : 's'})`, 'invalidInput', result.errors);
    if (globals().json) process.stdout.write(JSON.stringify(result) + '\n');
    else console.log(result.summary);
  });

program
  .command('schema')
  .description('print the recipe JSON Schema (the same definition the validator uses)')
  .action(() => {
    process.stdout.write(JSON.stringify(recipeJsonSchema(), null, 2) + '\n');
  });

let currentLog: BuildLog | undefined;

function reportError(err: unknown): number {
  const g = program.opts<GlobalOpts>();
  const logFile = currentLog?.file;
  if (err instanceof XcpError) {
    currentLog?.line(`error: ${err.message}`);
    for (const d of err.details) currentLog?.line(`  ${d}`);
    if (g.json) {
      process.stdout.write(JSON.stringify({ ok: false, error: { kind: err.kind, exitCode: err.exitCode, message: err.message, details: err.details }, log: logFile }, null, 2) + '\n');
    } else {
      process.stderr.write(`xcpbuild: error: ${err.message}\n`);
      for (const d of err.details) process.stderr.write(`  ${d}\n`);
      if (logFile) process.stderr.write(`log: ${displayPath(logFile)}\n`);
    }
    return err.exitCode;
  }
  const e = err as Error;
  currentLog?.line(`internal error: ${e.stack ?? e}`);
  if (g.json) process.stdout.write(JSON.stringify({ ok: false, error: { kind: 'internal', exitCode: 1, message: e.message }, log: logFile }) + '\n');
  else process.stderr.write(`xcpbuild: internal error: ${e.message}${logFile ? `\nlog: ${logFile}` : ''}\n`);
  return ExitCode.internal;
}

async function main(): Promise<void> {
  // Output piped into head(1) and the like: stop quietly when the reader goes away.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
  });
  program.exitOverride();
  try {
    await program.parseAsync(process.argv);
    process.exitCode = 0;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      process.exitCode = code === 'commander.helpDisplayed' || code === 'commander.version' ? 0 : ExitCode.usage;
    } else {
      process.exitCode = reportError(err);
    }
  } finally {
    await currentLog?.close();
  }
}

void main();
