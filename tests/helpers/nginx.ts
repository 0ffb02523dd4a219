import { spawn, ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Nginx {
  port: number;
  /** nginx's own directory: its configuration and access.log. */
  dir: string;
  url(prefix: string): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1', () => {
        sock.end();
        resolve(true);
      });
      sock.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nginx did not listen on 127.0.0.1:${port}`);
}

/** Starts a real nginx on 127.0.0.1 serving each directory of `locations` at /<prefix>/. */
export async function startNginx(locations: Record<string, string>): Promise<Nginx> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xcpbuild-nginx-'));
  mkdirSync(path.join(dir, 'tmp'));
  const port = await freePort();
  const locs = Object.entries(locations)
    .map(([prefix, root]) => `    location /${prefix}/ { alias ${root}/; autoindex on; }`)
    .join('\n');
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 64; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
${locs}
  }
}
`,
  );
  const proc: ChildProcess = spawn('nginx', ['-c', path.join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  await waitForPort(port, 10000);
  return {
    port,
    dir,
    url: (prefix) => `http://127.0.0.1:${port}/${prefix}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGQUIT');
      }),
  };
}
