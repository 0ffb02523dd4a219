import { promises as fs } from 'node:fs';
import path from 'node:path';
import { XcpError } from '../../errors';
import { run } from '../../util/proc';
import { confine } from '../../util/fsutil';
import { deb822Value } from '../../util/text';
import { parseDeb822 } from './deb822';
import { ChannelJob, ChannelRefreshJob, ChannelIndexState, placeVerified, replaceFile, releaseDate } from '../channel-files';
import { keyringName } from './apt-repo';

/** An index file a Release lists: its path below dists/<suite>/, sha256 and size. */
interface IndexFile {
  name: string;
  sha256: string;
  size: number;
}

/** The SHA256 section of a Release file. */
export function releaseIndexes(release: string): IndexFile[] {
  const section = /^SHA256:\n((?: .+\n?)+)/m.exec(release)?.[1] ?? '';
  return section
    .split('\n')
    .filter(Boolean)
    .map((l) => l.trim().split(/\s+/))
    .map(([sha256, size, name]) => ({ sha256, size: Number(size), name }));
}

const byHashPath = (index: IndexFile) => path.posix.join(path.posix.dirname(index.name), 'by-hash', 'SHA256', index.sha256);

/**
 * Publishes a release's apt repository to a channel root, in the order a following
 * client needs: the pool (shared by the channel's releases), then the indexes under
 * by-hash/SHA256/, then the named indexes, Release and Release.gpg, and InRelease
 * last. A client holding the previous InRelease still finds every index it names by
 * hash and every package those list. Returns the files this publication needs.
 */
export async function publishAptChannel(job: ChannelJob): Promise<string[]> {
  const sourceDist = path.join(job.releaseRepo, 'dists', job.recipe.repository.codename);
  const indexes = releaseIndexes(await fs.readFile(path.join(sourceDist, 'Release'), 'utf8'));
  if (!indexes.length) throw new XcpError(`${sourceDist}/Release lists no index files`, 'verification');
  const dist = `dists/${job.channel}`;
  const pool = await placePool(job, sourceDist, indexes);
  for (const index of indexes) await placeVerified(job.root, `${dist}/${byHashPath(index)}`, path.join(sourceDist, index.name), index.sha256, index.size);
  for (const index of indexes) await replaceFile(job.root, `${dist}/${index.name}`, await fs.readFile(path.join(job.root, dist, byHashPath(index))));
  const keyrings = await placeKeyrings(job);
  await signChannelRelease(job, stampValidity(await channelRelease(job), job.now, job.validSeconds));
  return [...pool, ...indexes.flatMap((i) => [`${dist}/${byHashPath(i)}`, `${dist}/${i.name}`]), ...['Release', 'Release.gpg', 'InRelease'].map((f) => `${dist}/${f}`), ...keyrings];
}

/** The release's packages into the channel's pool, each checked against the release's Packages. */
async function placePool(job: ChannelJob, sourceDist: string, indexes: IndexFile[]): Promise<string[]> {
  const files: string[] = [];
  let placed = 0;
  for (const index of indexes.filter((i) => path.posix.basename(i.name) === 'Packages')) {
    const stanzas = parseDeb822(await fs.readFile(path.join(sourceDist, index.name), 'utf8'));
    for (const st of stanzas) {
      const src = confine(job.releaseRepo, st.Filename ?? '', `Filename of ${st.Package}`);
      if ((await placeVerified(job.root, st.Filename, src, st.SHA256, Number(st.Size))) === 'placed') placed++;
      files.push(st.Filename);
    }
  }
  job.progress(`pool: ${placed} new of ${files.length} packages`);
  return files;
}

async function placeKeyrings(job: ChannelJob): Promise<string[]> {
  const names = [keyringName(job.recipe), keyringName(job.recipe).replace(/\.gpg$/, '.asc')];
  for (const n of names) await replaceFile(job.root, n, await fs.readFile(path.join(job.releaseRepo, n)));
  return names;
}

/** The channel's Release: Suite is the channel, the codename stays the recipe's, indexes acquired by hash. */
async function channelRelease(job: ChannelJob): Promise<string> {
  const repo = job.recipe.repository;
  const fields: Record<string, string> = {
    Origin: repo.origin,
    Label: repo.label,
    Suite: job.channel,
    Codename: repo.codename,
    Architectures: job.recipe.target.architecture,
    Components: repo.components[0],
    Description: repo.description,
    'Acquire-By-Hash': 'yes',
  };
  const options = ['MD5', 'SHA1', 'SHA512'].flatMap((h) => ['-o', `APT::FTPArchive::Release::${h}=false`]);
  const res = await run(job.log, 'apt-ftparchive', [...options, ...Object.entries(fields).flatMap(([k, v]) => ['-o', `APT::FTPArchive::Release::${k}=${deb822Value(k, v)}`]), 'release', '.'], {
    cwd: path.join(job.root, 'dists', job.channel),
    purpose: 'apt-ftparchive release (channel)',
    errorLines: /^(E|W):/,
  });
  return res.stdout;
}

/** Sets a Release's Date to `now` and Valid-Until to `now + seconds`, replacing what was there and changing nothing else. */
export function stampValidity(release: string, now: Date, seconds: number): string {
  const lines = release.split('\n').filter((l) => !/^(Date|Valid-Until):/.test(l));
  const at = lines.findIndex((l) => /^(Architectures|Components|Description|Acquire-By-Hash|SHA256|MD5Sum|SHA1|SHA512):/.test(l));
  const stamp = [`Date: ${releaseDate(now)}`, `Valid-Until: ${releaseDate(new Date(now.getTime() + seconds * 1000))}`];
  lines.splice(at < 0 ? lines.length : at, 0, ...stamp);
  return lines.join('\n');
}

/** Release and Release.gpg, then InRelease: the clearsigned file a client reads first is replaced last. */
async function signChannelRelease(job: ChannelJob | ChannelRefreshJob, release: string): Promise<void> {
  const dist = `dists/${job.channel}`;
  const work = path.join(job.root, dist, `.sign-${process.pid}`);
  await fs.rm(work, { recursive: true, force: true });
  await fs.mkdir(work);
  try {
    await fs.writeFile(path.join(work, 'Release'), release);
    await job.key.clearsign(path.join(work, 'Release'), path.join(work, 'InRelease'), undefined);
    await job.key.detachSign(path.join(work, 'Release'), path.join(work, 'Release.gpg'), undefined);
    for (const f of ['Release', 'Release.gpg', 'InRelease']) await replaceFile(job.root, `${dist}/${f}`, await fs.readFile(path.join(work, f)));
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** Re-signs the channel's Release with a new Date and Valid-Until; every index stays as it is. */
export async function refreshAptChannel(job: ChannelRefreshJob): Promise<void> {
  const file = path.join(job.root, 'dists', job.channel, 'Release');
  const release = await fs.readFile(file, 'utf8').catch(() => {
    throw new XcpError(`${file} is missing: nothing was published to channel ${job.channel} yet`, 'invalidInput');
  });
  await signChannelRelease(job, stampValidity(release, job.now, job.validSeconds));
}

export async function aptChannelState(root: string, channel: string): Promise<ChannelIndexState | undefined> {
  const release = await fs.readFile(path.join(root, 'dists', channel, 'Release'), 'utf8').catch(() => undefined);
  if (release === undefined) return undefined;
  const [fields] = parseDeb822(release);
  return { date: fields?.Date, validUntil: fields?.['Valid-Until'] };
}
