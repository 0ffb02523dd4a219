import http from 'node:http';
import { AddressInfo } from 'node:net';
import { randomBytes, createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ContentStore } from '../../src/cache/store';
import { downloadAll } from '../../src/cache/download';
import { BuildLog } from '../../src/util/log';
import { tempDir, removeDir } from '../helpers/tmp';

/**
 * A real HTTP server on 127.0.0.1 that misbehaves on purpose: it answers 503,
 * cuts connections mid-body, and honours Range requests, like a flaky mirror.
 */
const body = randomBytes(512 * 1024);
const sha = createHash('sha256').update(body).digest('hex');
let server: http.Server;
let base: string;
let dir: string;
const requests: { path: string; range?: string }[] = [];
let script: ('503' | 'cut' | 'ok')[] = [];

beforeAll(async () => {
  dir = tempDir('download');
  server = http.createServer((req, res) => {
    requests.push({ path: req.url ?? '', range: req.headers.range });
    if (req.url === '/missing.deb') {
      res.writeHead(404).end();
      return;
    }
    const action = script.shift() ?? 'ok';
    if (action === '503') {
      res.writeHead(503).end();
      return;
    }
    const m = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const part = body.subarray(start);
    res.writeHead(m ? 206 : 200, { 'Content-Length': part.length, ...(m ? { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}) });
    if (action === 'cut') {
      res.write(part.subarray(0, 100 * 1024), () => res.destroy());
      return;
    }
    res.end(part);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  removeDir(dir);
});

beforeEach(() => {
  requests.length = 0;
});

const fast = { minBytesPerSecond: 0, rateWindowSeconds: 60, concurrency: 2, attempts: 4, backoffMs: 10, idleTimeoutMs: 5000 };
const log = new BuildLog(undefined, false);

test('a 503 and a cut connection are retried, and the download resumes with a Range request', async () => {
  const store = await ContentStore.open(path.join(dir, 'cache1'));
  script = ['503', 'cut', 'ok'];
  const result = await downloadAll(store, [{ url: `${base}/file.deb`, sha256: sha, size: body.length, label: 'file' }], log, fast);
  expect(result.downloaded).toBe(1);
  expect(requests.slice(0, 2).map((r) => r.range)).toEqual([undefined, undefined]);
  expect(requests).toHaveLength(3);
  const resumedAt = Number(/^bytes=(\d+)-$/.exec(requests[2].range ?? '')?.[1]);
  expect(resumedAt).toBeGreaterThan(0);
  expect(resumedAt).toBeLessThanOrEqual(100 * 1024);
  expect(readFileSync(store.pathOf(sha))).toEqual(body);
});

test('a file whose content does not match the lock is rejected and never enters the cache', async () => {
  const store = await ContentStore.open(path.join(dir, 'cache2'));
  script = [];
  const wrong = '0'.repeat(64);
  await expect(downloadAll(store, [{ url: `${base}/file.deb`, sha256: wrong, size: body.length, label: 'file' }], log, fast)).rejects.toThrow(/could not download 1 file\(s\) after 4 attempts: file: sha256 mismatch/);
  expect(await store.has(wrong, body.length)).toBe(false);
  expect(requests).toHaveLength(4);
});

test('a 404 is not retried: the mirror no longer has the file', async () => {
  const store = await ContentStore.open(path.join(dir, 'cache3'));
  await expect(downloadAll(store, [{ url: `${base}/missing.deb`, sha256: sha, size: 1, label: 'gone 1.0' }], log, fast)).rejects.toThrow(/gone 1\.0: HTTP 404: the mirror no longer has this file/);
  expect(requests).toHaveLength(1);
});

test('a partial file left by an interrupted run is continued, not restarted', async () => {
  const store = await ContentStore.open(path.join(dir, 'cache4'));
  // A partial file of a run that was killed (its PID no longer exists).
  writeFileSync(path.join(store.partialDir, `${sha}.999999999-deadbeef`), body.subarray(0, 300 * 1024));
  script = [];
  await downloadAll(store, [{ url: `${base}/file.deb`, sha256: sha, size: body.length, label: 'file' }], log, fast);
  expect(requests.map((r) => r.range)).toEqual(['bytes=307200-']);
  expect(await store.has(sha, body.length, true)).toBe(true);
});

test('an unreachable mirror fails with a one-line cause after the retries', async () => {
  const store = await ContentStore.open(path.join(dir, 'cache5'));
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  await expect(downloadAll(store, [{ url: `http://127.0.0.1:${port}/x.deb`, sha256: sha, size: 1, label: 'x 1' }], log, fast)).rejects.toThrow(/could not download 1 file\(s\) after 4 attempts: x 1: ECONNREFUSED/);
});
