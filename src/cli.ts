#!/usr/bin/env node
import path from 'node:path';
import { Command, Option, CommanderError } from 'commander';
import { normalizeProcessEnvironment } from './util/env';
import { installSignalHandlers, runCleanups, interruptedSignal, SIGNAL_EXIT } from './util/signals';
import { Session, GlobalOpts } from './commands/session';
import { runStages, printPlan } from './commands/build';
import { verifyCommand } from './commands/verify';
import { genkeyCommand } from './commands/genkey';
import { bootTestCommand, defaultJobs } from './commands/boot-test';
import { nightlyCommand } from './commands/nightly';
import { verifyReleaseCommand } from './commands/verify-release';
import { migrateCommand } from './commands/migrate';
import { CURRENT_API } from './recipe/versions';
import { loadRecipe } from './family/recipe';
import { stageGraph } from './stages/registry';
import { StageDefinition, VerbOption, BuildOptions } from './plan/types';
import { recipeJsonSchema } from './recipe/schema';
import { defaultCacheDir } from './cache/store';
import { defaultKeyDir } from './signing/gpg';
import { toolVersion } from './version';
import { XcpError, ExitCode } from './errors';
import { displayPath } from './util/paths';
import { printable } from './util/text';

normalizeProcessEnvironment();

const program = new Command();
const session = new Session(() => program.opts<GlobalOpts>());
const jsonRequested = process.argv.slice(2).includes('--json');
let usageMessage = '';

// Set before any command is added: subcommands copy these settings when they are created.
program.exitOverride();
program.configureOutput({
  writeErr: (s) => {
    if (jsonRequested) usageMessage += s;
    else process.stderr.write(s);
  },
  outputError: (s, write) => write(s),
});

const collect = (v: string, prev: string[]) => [...prev, v];

program
  .name('xcpbuild')
  .version(toolVersion)
  .usage('[global options] <command> <recipe>')
  .description(
    'Build signed package repositories, the xenserver-core and xcp-full metapackages and the Xen appliance ISO from a recipe.\n\n' +
      'A recipe (recipes/<name>.yaml) pins Xen, the dom0 kernel, the toolstack and the storage and network packages. ' +
      `Every build is planned as a graph of stages (${stageGraph.ids.join(' → ')}); ` +
      'a stage runs only when one of its inputs changed, and says which. RECIPE is a path or a name under recipes/.',
  )
  .addOption(new Option('--out <dir>', 'where outputs go (<dir>/<recipe name>/<stage>)').default('out'))
  .addOption(new Option('--cache <dir>', 'the content-addressed download cache (shared by concurrent builds)').default(defaultCacheDir(), '$XCPBUILD_CACHE or ~/.cache/xcpbuild').env('XCPBUILD_CACHE'))
  .option('--json', 'print one JSON document with the outcome (results or the error) instead of progress', false)
  .option('-v, --verbose', 'also print every command run and its output (always in the build log)', false)
  .option('--offline', 'never use the network: fail if the lock is stale or a file is not cached', false)
  .option('--locked', 'fail instead of re-resolving when the lock is missing or out of date (use in CI)', false)
  .option('--mirror <archive=url>', 'fetch the named archive from this URL instead of the recipe\'s (repeatable; the lock is unchanged)', collect, [])
  .addOption(new Option('--signing-key <file>', 'armored secret key that signs the repository').env('XCPBUILD_SIGNING_KEY'))
  .addOption(new Option('--signing-key-passphrase-file <file>', 'file holding the signing key\'s passphrase').env('XCPBUILD_SIGNING_KEY_PASSPHRASE_FILE'))
  .showHelpAfterError('(run xcpbuild --help for usage)')
  .addHelpText(
    'after',
    `
Examples:
  xcpbuild validate xcp-bookworm         check a recipe; every error with file:line:col
  xcpbuild migrate recipes/old.yaml      rewrite a recipe of an earlier format as the current one (comments kept)
  xcpbuild plan xcp-bookworm             show the stage graph, input hashes and what would run
  xcpbuild lock xcp-bookworm --update    re-resolve the closure; prints what was added, removed, upgraded
  xcpbuild repo xcp-bookworm             lock (if stale), fetch, build metapackages, publish the signed repo
  xcpbuild --offline repo xcp-bookworm   the same from the cache only
  xcpbuild iso xcp-bookworm              everything up to the appliance ISO (out/xcp-bookworm/iso/)
  xcpbuild boot-test out/xcp-bookworm/iso/xcp-bookworm-1.0.0-amd64.iso
                                         install the ISO in QEMU and check the running appliance
  xcpbuild verify xcp-bookworm           re-hash the cache and every output against what was built
  xcpbuild genkey                        make a development signing key (~/.config/xcpbuild/keys)
  xcpbuild nightly xcp-bookworm --publish /srv/nightly
                                         update, build, boot-test, sign and publish a dated release
  xcpbuild verify-release /srv/nightly/xcp-bookworm/latest
                                         check a release's signed checksums and its SBOM

Environment: XCPBUILD_CACHE, XCPBUILD_SIGNING_KEY, XCPBUILD_SIGNING_KEY_PASSPHRASE(_FILE),
  XCPBUILD_DOWNLOAD_MIN_RATE (bytes/s a download must keep up, default 16384; 0: no floor),
  XCPBUILD_DOWNLOAD_RATE_WINDOW (seconds it is measured over, default 60),
  SOURCE_DATE_EPOCH (default: the lock's resolution time), TMPDIR.

Exit codes: 0 ok, 1 internal error, 2 usage, 3 invalid input (recipe, lock, key, paths),
  4 resolution (pinned version missing, conflicts), 5 network, 6 a build tool failed or the disk is full,
  7 verification failed; interrupted: 129 SIGHUP, 130 SIGINT, 131 SIGQUIT, 141 closed output pipe, 143 SIGTERM.`,
  );

program
  .command('validate')
  .argument('<recipe>', 'recipe path or name')
  .description('check a recipe against the schema; reports every error with file:line:col, key, expected and found')
  .action(async (recipeArg: string) => {
    const loaded = await loadRecipe(recipeArg);
    if (session.json) session.emit({ ok: true, recipe: loaded.file });
    else console.log(`${displayPath(loaded.file)}: valid`);
  });

program
  .command('migrate')
  .argument('<recipe>', 'recipe path or name')
  .option('--dry-run', 'print what would change without writing the file', false)
  .description(`rewrite a recipe of an earlier format (xcpbuild/v1) as ${CURRENT_API}, in place: prints each change; comments and key order are kept, and the result must validate before it is written`)
  .action(async (recipeArg: string, opts: { dryRun: boolean }) => migrateCommand(session, recipeArg, opts));

const plan = program
  .command('plan')
  .argument('<recipe>', 'recipe path or name')
  .addOption(new Option('--target <stage>', 'the stage to plan for').choices(stageGraph.ids).default('repo'))
  .description('print the stage graph: each stage, its input hash, its inputs, its output, and whether it would run and why (--json: as data)');
// The stages' own options plan as they build (e.g. --base-iso is an input of a remastered ISO).
const stageOptions = stageGraph.stages.flatMap((s) => s.options ?? []);
for (const o of stageOptions) plan.option(o.flags, o.description);
plan.action(async (recipeArg: string, opts: Record<string, unknown> & { target: string }) => {
  const extra = buildOptionsOf(stageOptions, opts);
  await printPlan(session, await loadRecipe(recipeArg), opts.target, extra);
});

// One verb per stage, in plan order, from the stage registry.
for (const stage of stageGraph.stages) addStageVerb(stage);

program
  .command('verify')
  .argument('<recipe>', 'recipe path or name')
  .description('hash everything again: every locked file in the cache, cached trees, each output against what was built, the repository against its signed indexes, the ISO against its .sha256')
  .action(async (recipeArg: string) => verifyCommand(session, recipeArg));

program
  .command('genkey')
  .description('make a development signing key (ed25519, created as of 2000-01-01 so it can sign at any SOURCE_DATE_EPOCH); the secret key stays in --dir, mode 0600')
  .option('--dir <dir>', 'where to keep the key', defaultKeyDir())
  .addOption(new Option('--name <name>', 'key file name: <name>.key.asc and <name>.pub.asc').default('dev').argParser(keyName))
  .addOption(new Option('--uid <uid>', 'the key user id').default('xcpbuild development key <xcpbuild-dev@localhost>').argParser(oneLine('--uid')))
  .option('--force', 'replace an existing key', false)
  .option('--if-missing', 'do nothing if the key already exists', false)
  .action(async (opts: { dir: string; name: string; uid: string; force: boolean; ifMissing: boolean }) => genkeyCommand(session, opts));

program
  .command('boot-test')
  .argument('<iso>', 'the ISO to test (out/<name>/iso/<name>-<version>-amd64.iso)')
  .option('--recipe <recipe>', 'the recipe the ISO was built from (default: from the ISO file name)')
  .option('--jobs <n>', 'firmwares tested at the same time (each QEMU is mostly one busy thread)', defaultJobs)
  .option('--reuse-install', 'keep a disk already installed from this same ISO and answer files; only boot it and run the checks', false)
  .description(
    'install the ISO unattended onto a blank disk in QEMU (TCG) under SeaBIOS and/or OVMF, boot the disk into Xen ' +
      'and dom0, and check the toolstack (xl info/list/create, virsh, ovs-vsctl, the VM volume group, package versions)',
  )
  .action(async (isoArg: string, opts) => bootTestCommand(session, isoArg, opts));
withBootTestOptions(program.commands.find((c) => c.name() === 'boot-test')!, 'both');

program
  .command('nightly')
  .argument('<recipe>', 'recipe path or name')
  .requiredOption('--publish <dir>', 'where releases go: <dir>/<recipe>/<version>/ and <dir>/<recipe>/latest')
  .option('--keep <n>', 'how many releases to keep (older ones are removed after latest moved)', '7')
  .option('--skip-boot-test', 'publish without the boot test gate (release.json says it was skipped; no channel is updated)', false)
  .option('--skip-piuparts', 'publish without piuparts on the recipe\'s own packages (release.json says it was skipped)', false)
  .option('--skip-upgrade-test', 'publish without the upgrade test from the previous release (release.json says it was skipped)', false)
  .option('--channel <name>', 'the channel every passing nightly is published to (<publish>/<recipe>/channels/<name>/)', 'nightly')
  .option('--bump-pins <policy>', 'build with the newer versions of pinned packages: security (from a *-security suite or naming CVEs) or all; release.json records the moves')
  .description(
    're-resolve the lock against today\'s archives, stamp <version>+nightly.YYYYMMDD (.N for later runs that day), build the repository ' +
      'and ISO, gate it on the boot test, piuparts and the upgrade test from the previous release, then publish the release (ISO, signed repository, lock, SPDX SBOM, CHANGES.md, signed ' +
      'SHA256SUMS/SHA512SUMS) atomically, move latest to it and keep the newest --keep',
  )
  .action(async (recipeArg: string, opts) => nightlyCommand(session, recipeArg, opts));
withBootTestOptions(program.commands.find((c) => c.name() === 'nightly')!, 'uefi');

program
  .command('verify-release')
  .argument('<dir>', 'a published release (<publish>/<recipe>/<version> or …/latest)')
  .option('--keyring <file>', 'the OpenPGP keyring (binary) the checksums must be signed by (default: the key the release carries)')
  .description('check a release: the signatures of SHA256SUMS and SHA512SUMS, every checksum, and that the SBOM matches the repository\'s indexes')
  .action(async (dir: string, opts: { keyring?: string }) => verifyReleaseCommand(session, dir, opts));

program
  .command('piuparts')
  .argument('<recipe>', 'recipe path or name (its repository, <out>/<name>/repo, must be built)')
  .option('--previous <release>', "the previous release (or its repository): also install from it, upgrade to this one, purge")
  .description(
    "run Debian's piuparts on the recipe's own packages (metapackages, source packages) against its repository, offline: " +
      'install → purge, and with --previous install → upgrade → purge; the base tarball is made from the locked closure',
  )
  .action(async (recipeArg: string, opts: { previous?: string }) => (await import('./commands/piuparts')).piupartsCommand(session, recipeArg, opts));

program
  .command('pins')
  .argument('<recipe>', 'recipe path or name')
  .option('--update', "rewrite the recipe's pinned versions in place (comments and layout kept) and print the changed lines", false)
  .option('--security-only', 'only move pins to security updates: versions from a *-security suite or whose changelog entries name CVEs', false)
  .description(
    "list every pinned package whose archives have a newer version (its suite, the changelog entries in between and the CVE ids they name) " +
      'and every pin the archives no longer have, with its replacement; --update moves them (then run xcpbuild lock)',
  )
  .action(async (recipeArg: string, opts) => (await import('./commands/pins')).pinsCommand(session, recipeArg, opts));

program
  .command('upgrade-test')
  .requiredOption('--from <release|iso>', 'what the host is installed from: a published release (its ISO), or an ISO')
  .requiredOption('--to <release>', 'the release the host upgrades to (its signed repository goes on an attached medium as a channel)')
  .description(
    'install --from in QEMU (the install is cached by the ISO\'s content), define a PV guest set to autostart, upgrade the host to --to ' +
      'with apt and signature checks from an attached medium, reboot, and check: the new Xen and dom0 kernel run, GRUB still boots Xen ' +
      'by default, the old kernel stays a fallback, every pin is the new lock\'s, the guest is back, xcp-host-info --check-update passes',
  )
  .action(async (opts) => (await import('./commands/upgrade-test')).upgradeTestCommand(session, opts));
withBootTestOptions(program.commands.find((c) => c.name() === 'upgrade-test')!, 'both');

program
  .command('promote')
  .argument('<release>', 'a published release (<publish>/<recipe>/<version> or …/latest)')
  .requiredOption('--channel <name>', 'the channel to publish it to, e.g. stable (<publish>/<recipe>/channels/<name>/)')
  .option('--keep <n>', 'how many publications the channel keeps indexes and packages of (at least 2)', '5')
  .description(
    'publish an existing release to an update channel without rebuilding (its packages byte-identical): only if verify-release passes, ' +
      'its boot-test gate passed and the signing key is the one it is signed by; the pool first, then the indexes by hash, InRelease last',
  )
  .action(async (dir: string, opts) => (await import('./commands/channel')).promoteCommand(session, dir, opts));

const channel = program.command('channel').description('update channels: the moving, signed repositories installed hosts follow');
channel
  .command('refresh')
  .argument('<dir>', 'a channel directory (<publish>/<recipe>/channels/<name>)')
  .option('--valid-days <n>', "how long the new signature stays valid (default: the channel's own, from the recipe)")
  .description("re-sign the channel's Release with a new Date and Valid-Until and nothing else changed: what an operator's daily timer runs")
  .action(async (dir: string, opts: { validDays?: string }) => (await import('./commands/channel')).channelRefreshCommand(session, dir, opts));
channel
  .command('show')
  .argument('<dir>', 'a channel directory (<publish>/<recipe>/channels/<name>)')
  .description('what the channel serves, its signing date and Valid-Until, and the publications it retains')
  .action(async (dir: string) => (await import('./commands/channel')).channelShowCommand(session, dir));

const preseed = program.command('preseed').description('answer files of the appliance installer');
preseed
  .command('check')
  .argument('<file>', 'an answer file in preseed (debconf) syntax')
  .option('--interactive', 'check as for the interactive installer (credentials and disk may be asked for)', false)
  .description("validate an answer file with the installer's own validator; every error with file:line")
  .action(async (file: string, opts: { interactive: boolean }) => {
    const { checkAnswerFile } = await import('./iso/answers');
    const result = await checkAnswerFile(path.resolve(file), opts.interactive ? 'interactive' : 'automated');
    if (!result.ok) throw new XcpError(`answer file ${file} is invalid (${result.errors.length} error${result.errors.length === 1 ? '' : 's'})`, 'invalidInput', result.errors);
    if (session.json) session.emit({ ...result });
    else console.log(result.summary);
  });

const kickstart = program.command('kickstart').description('the kickstart of a fedora recipe (kickstart/appliance.ks.hbs), and its validator');
kickstart
  .command('render')
  .argument('<recipe>', 'a fedora recipe with an iso: section')
  .option('-o, --output <file>', 'write the kickstart here (written whole, or not at all) instead of printing it')
  .description("render the recipe's kickstart and check it with xcpbuild's kickstart validator")
  .action(async (recipeArg: string, opts: { output?: string }) => {
    const { renderKickstart } = await import('./kickstart/render');
    const { projectDir } = await import('./util/templates');
    const text = await renderKickstart((await loadRecipe(recipeArg)).recipe, projectDir('kickstart'));
    if (opts.output) {
      const { writeFileAtomic } = await import('./util/fsutil');
      await writeFileAtomic(path.resolve(opts.output), text);
    }
    if (session.json) session.emit({ ok: true, ...(opts.output ? { file: path.resolve(opts.output) } : { kickstart: text }) });
    else if (!opts.output) process.stdout.write(text);
  });
kickstart
  .command('check')
  .argument('<file>', 'a kickstart file')
  .option('--vg <name>', 'the VM volume group it must create', 'xcp-vms')
  .option('--package <nvr...>', 'packages %packages must list', [])
  .description("check a kickstart with xcpbuild's validator (the commands xcpbuild emits); every problem with file:line")
  .action(async (file: string, opts: { vg: string; package: string[] }) => {
    const { validateKickstart } = await import('./kickstart/validate');
    const { readBounded } = await import('./recipe/document');
    const problems = validateKickstart(await readBounded(path.resolve(file), 'kickstart', 1024 * 1024), { vg: opts.vg, packages: opts.package });
    if (problems.length) throw new XcpError(`kickstart ${file} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})`, 'invalidInput', problems.map((p) => `${file}:${p.line}: ${p.message}`));
    if (session.json) session.emit({ ok: true, file });
    else console.log(`${file}: valid`);
  });

program
  .command('schema')
  .description('print the recipe JSON Schema (the same definition the validator uses)')
  .action(() => {
    process.stdout.write(JSON.stringify(recipeJsonSchema(), null, 2) + '\n');
  });

/** `xcpbuild <stage> <recipe>`: runs the stages up to this one; its options come from the stage's definition. */
function addStageVerb(stage: StageDefinition): void {
  const cmd = program.command(stage.id).argument('<recipe>', 'recipe path or name').option('--dry-run', 'show the plan instead of running it', false);
  for (const o of stage.options ?? []) cmd.option(o.flags, o.description);
  cmd.description(stage.summary).action(async (recipeArg: string, opts: Record<string, unknown>) => {
    const extra = buildOptionsOf(stage.options ?? [], opts);
    await runStages(session, recipeArg, stage.id, stage.id, extra, !!opts.dryRun);
  });
}

/** The build options a command line's stage options ask for. */
function buildOptionsOf(options: VerbOption[], opts: Record<string, unknown>): Partial<BuildOptions> {
  return Object.assign({}, ...options.map((o) => o.apply(opts[optionKey(o.flags)])));
}

/** Commander's key for an option: --base-iso <file> → baseIso. */
function optionKey(flags: string): string {
  return flags.split(/[ ,]+/).find((f) => f.startsWith('--'))!.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The options of a boot test run, shared by boot-test and nightly (its gate). */
function withBootTestOptions(cmd: Command, firmware: string): void {
  cmd
    .option('--firmware <list>', 'bios, uefi, both, or a list such as bios,uefi', firmware)
    .option('--install-timeout <min>', 'minutes allowed for the unattended install', '90')
    .option('--boot-timeout <min>', 'minutes allowed for the first boot and its checks', '30');
}

function keyName(v: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(v)) throw new XcpError(`--name: expected a file name (letters, digits, . _ -), found "${printable(v)}"`, 'usage');
  return v;
}

function oneLine(option: string) {
  return (v: string) => {
    if (/[\u0000-\u001f\u007f-\u009f]/.test(v)) throw new XcpError(`${option}: expected one line of text, found "${printable(v)}"`, 'usage');
    return v;
  };
}

async function main(): Promise<void> {
  // A promise rejected with no handler (a stream's error, say) is reported like any error, cleanups included.
  process.on('unhandledRejection', (err) => {
    if (interruptedSignal()) return;
    const code = session.report(err);
    void runCleanups().finally(() => process.exit(code));
  });
  installSignalHandlers((signal) => {
    const message = `interrupted by ${signal === 'SIGPIPE' ? 'a closed output pipe (SIGPIPE)' : signal}; nothing half-written was published (outputs are swapped in only when complete)`;
    session.log?.line(`error: ${message}`);
    // A closed pipe is where the report would go: the log keeps it.
    if (signal === 'SIGPIPE') return;
    if (session.json) session.emit({ ok: false, error: { kind: 'interrupted', exitCode: SIGNAL_EXIT[signal], message, details: [] } });
    else process.stderr.write(`\nxcpbuild: ${message}\n`);
  });
  let code: number = ExitCode.ok;
  try {
    await session.sweepLeftovers();
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) code = 0;
      else {
        code = ExitCode.usage;
        if (jsonRequested) {
          const message = (usageMessage || err.message).split('\n')[0].replace(/^error: /, '');
          session.emit({ ok: false, error: { kind: 'usage', exitCode: ExitCode.usage, message, details: [] } });
        }
      }
    } else if (!interruptedSignal()) code = session.report(err);
  } finally {
    await runCleanups();
    await session.close();
  }
  // An interrupted run ends with its signal's status once its cleanups are done (util/signals), never with the error the interruption caused.
  if (interruptedSignal()) await new Promise(() => undefined);
  process.exitCode = code;
  // A failed run ends now: work still in flight (downloads of other files, say) has no one to report to.
  if (code !== ExitCode.ok) process.exit(code);
}

void main();
