import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BuildContext } from '../plan/types';
import { LockedPackage } from '../lock/file';
import { PackageBuilder } from '../format/types';
import { run } from '../util/proc';
import { TemplateGrant } from '../util/templates';
import { materialiseLocked } from '../cache/materialise';
import { XcpError } from '../errors';
import { hashValue } from '../util/hash';
import { shellQuote } from '../util/text';
import { buildRootSuite } from './lock';
import { scratchDir } from '../util/scratch';

const MOUNT = '/build';
const ROOT_TAR = 'root.tar';

/**
 * Package builds in a clean root. mmdebstrap makes a pristine root once from exactly
 * the lock's build closure (local .deb files from the cache, no archive, no network),
 * kept in the tree cache; each build unpacks it into a fresh root, bind-mounts the work
 * directory at /build and runs the build tool there. That root is thrown away afterwards.
 */
export async function cleanRootBuilder(ctx: BuildContext, templates: TemplateGrant): Promise<PackageBuilder> {
  const lock = ctx.lock;
  if (!lock?.build?.length) throw new XcpError('the lock has no build closure for the clean build root; run xcpbuild lock --update', 'invalidInput');
  const closure = lock.build;
  const { recipe } = ctx.loaded;
  const tmp = await scratchDir('build-root');
  // apt reads no index (no update): the packages are the files given with --include.
  const noIndex = path.join(tmp, 'no-index');
  await fs.mkdir(noIndex);
  const suite = buildRootSuite(ctx.loaded);
  const sourceLine = `deb file://${noIndex} ${suite} main`;
  const base = ['--mode=root', '--variant=custom', '--skip=update,check/empty', `--architectures=${recipe.target.architecture}`];
  const key = hashValue({ closure: closure.map((p) => p.sha256), architecture: recipe.target.architecture, release: suite });
  // The temporary directory goes with the builder's dispose, or here if no builder comes of it.
  const root: PristineRoot = { tmp, base, suite, sourceLine, templates };
  const tree = await ctx
    .trees()
    .obtain('build-root', key, (dir) => makePristineRoot(ctx, root, closure, dir), (holder) => ctx.progress(`waiting for ${holder} (the same build root is being made)`))
    .catch(async (err: unknown) => {
      await fs.rm(tmp, { recursive: true, force: true });
      throw err;
    });
  return {
    describe: `in a clean ${suite} root unpacked afresh from a root made by mmdebstrap from the lock's build closure (${closure.length} packages: Priority required${recipe.buildRoot?.packages.length ? ` + ${recipe.buildRoot.packages.join(', ')}` : ''}); mock is not used (not in Debian)`,
    async run(cmd, args, opts) {
      // The work directory's paths, wherever they appear in an argument (rpmbuild's --define values too), as seen inside the root.
      const workDirPath = new RegExp(`${opts.workDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=/|$|\\s)`, 'g');
      const inside = (a: string) => a.replace(workDirPath, MOUNT);
      const env = Object.entries(opts.env).filter(([k]) => k !== 'SOURCE_DATE_EPOCH').map(([k, v]) => `${k}=${shellQuote(v)}`);
      await fs.writeFile(path.join(opts.workDir, 'build.sh'), `exec /usr/bin/env ${env.join(' ')} ${[cmd, ...args.map(inside)].map(shellQuote).join(' ')}\n`);
      const hooks = templates.dir('templates/build-root');
      await mmdebstrapInMemory(
        ctx,
        templates,
        tmp,
        [...base, `--setup-hook=${path.join(hooks, 'unpack-root.sh')}`, `--customize-hook=${path.join(hooks, 'run-build.sh')}`, suite, '/dev/null', sourceLine],
        { XCP_ROOT_TAR: path.join(tree.dir, ROOT_TAR), XCP_BUILD_WORK: opts.workDir, SOURCE_DATE_EPOCH: opts.env.SOURCE_DATE_EPOCH ?? String(ctx.sourceDateEpoch()) },
        opts.purpose,
      );
    },
    async dispose() {
      await fs.rm(tmp, { recursive: true, force: true });
    },
  };
}

interface PristineRoot {
  tmp: string;
  base: string[];
  suite: string;
  sourceLine: string;
  templates: TemplateGrant;
}

/** mmdebstrap makes the root once from exactly the locked .debs (no archive, no network), packed as root.tar in `dir`. */
async function makePristineRoot(ctx: BuildContext, r: PristineRoot, closure: LockedPackage[], dir: string): Promise<void> {
  ctx.progress(`making the clean build root (${closure.length} packages)`);
  const debs = path.join(r.tmp, 'debs');
  await fs.mkdir(debs);
  await materialiseLocked(await ctx.store(), closure, debs, { layout: 'file name', what: 'the build root' });
  const files = (await fs.readdir(debs)).sort().map((f) => `--include=${path.join(debs, f)}`);
  await mmdebstrapInMemory(
    ctx,
    r.templates,
    r.tmp,
    // The automount hook binds the package files into the root so the chrooted dpkg can read them.
    [...r.base, '--hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount', ...files, r.suite, path.join(dir, ROOT_TAR), r.sourceLine],
    { SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch()) },
    'making the clean build root (mmdebstrap)',
  );
}

/**
 * mmdebstrap in private mount and PID namespaces, with the root it makes on a tmpfs
 * that exists only in that namespace: writing ~250 MB to disk cost most of a build's
 * time, and the root is thrown away (or packed into a tar) afterwards anyway.
 */
async function mmdebstrapInMemory(ctx: BuildContext, templates: TemplateGrant, tmp: string, args: string[], env: Record<string, string>, purpose: string): Promise<void> {
  const ram = await fs.mkdtemp(path.join(tmp, 'ram-'));
  try {
    await run(ctx.log, 'sh', [templates.file('templates/build-root', 'in-memory.sh'), 'mmdebstrap', ...args], { env: { ...env, XCP_RAM_DIR: ram }, purpose, isolate: true });
  } finally {
    await fs.rm(ram, { recursive: true, force: true });
  }
}
