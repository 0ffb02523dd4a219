import { promises as fs } from 'node:fs';
import path from 'node:path';
import { XcpError } from '../../errors';
import { sha256File } from '../../util/hash';
import { ChannelJob, ChannelIndexState, placeVerified, replaceFile } from '../channel-files';

const TOP = ['repodata/repomd.xml', 'repodata/repomd.xml.asc'];

/** Every file of a release's yum repository below `dir` (packages, hashed repodata, keys), relative paths. */
async function releaseFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await releaseFiles(dir, r)));
    else if (e.isFile() && !TOP.includes(r) && !r.endsWith('.repo')) out.push(r);
    else if (!e.isFile()) throw new XcpError(`${path.join(dir, r)} in the release's repository is not a regular file; refused`, 'verification');
  }
  return out;
}

/** The <revision> of a repomd.xml, or 0. */
function revisionOf(repomd: string): number {
  return Number(/<revision>(\d+)<\/revision>/.exec(repomd)?.[1] ?? 0);
}

/**
 * Publishes a release's yum repository to a channel root: the packages and the
 * hash-named repodata files first (shared with the channel's other releases), then
 * repomd.xml.asc and repomd.xml, whose revision only ever increases (the release's
 * own revision is its SOURCE_DATE_EPOCH; promoting an older release must still move
 * the channel forward). dnf has no Valid-Until: see README (Channels).
 */
export async function publishYumChannel(job: ChannelJob): Promise<string[]> {
  const files = await releaseFiles(job.releaseRepo);
  let placed = 0;
  for (const f of files) {
    const src = path.join(job.releaseRepo, f);
    const st = await fs.stat(src);
    if ((await placeVerified(job.root, f, src, await sha256File(src), st.size)) === 'placed') placed++;
  }
  job.progress(`packages and repodata: ${placed} new of ${files.length} files`);
  const repomd = await fs.readFile(path.join(job.releaseRepo, TOP[0]), 'utf8');
  const previous = await fs.readFile(path.join(job.root, TOP[0]), 'utf8').catch(() => '');
  const revision = Math.max(revisionOf(previous) + 1, Math.floor(job.now.getTime() / 1000));
  if (!/<revision>\d+<\/revision>/.test(repomd)) throw new XcpError(`${path.join(job.releaseRepo, TOP[0])} has no <revision>`, 'verification');
  const stamped = repomd.replace(/<revision>\d+<\/revision>/, `<revision>${revision}</revision>`);
  const work = path.join(job.root, `.sign-${process.pid}`);
  await fs.rm(work, { recursive: true, force: true });
  await fs.mkdir(work);
  try {
    await fs.writeFile(path.join(work, 'repomd.xml'), stamped);
    await job.key.detachSign(path.join(work, 'repomd.xml'), path.join(work, 'repomd.xml.asc'), undefined);
    await replaceFile(job.root, TOP[1], await fs.readFile(path.join(work, 'repomd.xml.asc')));
    await replaceFile(job.root, TOP[0], stamped);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  return [...files, ...TOP];
}

export async function yumChannelState(root: string): Promise<ChannelIndexState | undefined> {
  const repomd = await fs.readFile(path.join(root, TOP[0]), 'utf8').catch(() => undefined);
  if (repomd === undefined) return undefined;
  const revision = revisionOf(repomd);
  return { date: revision ? new Date(revision * 1000).toUTCString() : undefined };
}
