import { spawn } from 'node:child_process';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';

export type Firmware = 'bios' | 'uefi';

export const ovmf = { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' };

export interface QemuRun {
  firmware: Firmware;
  /** Writable copy of the OVMF variables (UEFI only). */
  varsFile?: string;
  disks: { file: string; format: 'qcow2' | 'raw'; readonly?: boolean }[];
  cdrom?: string;
  bootFromCdrom: boolean;
  serialLog: string;
  timeoutMs: number;
  /** Stops the run early once the serial output matches. */
  stopWhen?: RegExp;
  /** Called with each line of serial output (ANSI escapes removed) as it arrives. */
  onLine?: (line: string) => void;
}

export interface QemuResult {
  exitCode: number | null;
  timedOut: boolean;
  stoppedEarly: boolean;
  seconds: number;
  /** Serial output with ANSI escapes and carriage returns removed. */
  text: string;
}

/**
 * The emulated CPU. SMAP hidden: Xen's PV dom0 dies at once under TCG with it. RDTSCP
 * hidden: PVH guests hang on it. AVX hidden: with AVX, dom0's user space under TCG saw
 * corrupted vector state (malloc "unsorted double linked list corrupted", libxc failing
 * to XZ-decompress a kernel it decompresses fine on the next try), so glibc is kept on
 * its SSE code paths.
 */
export const CPU = 'max,-smap,-rdtscp,-avx,-avx2,-fma,-f16c,-pcid,-invpcid';

/**
 * QEMU under TCG (never KVM: it hangs on these machines).
 */
export function qemuArgs(run: QemuRun): string[] {
  const args = ['-machine', 'q35', '-cpu', CPU, '-m', '2048', '-smp', '2', '-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-no-reboot', '-nic', 'user,model=virtio-net-pci'];
  if (run.firmware === 'uefi') {
    args.push('-drive', `if=pflash,format=raw,readonly=on,file=${ovmf.code}`, '-drive', `if=pflash,format=raw,file=${run.varsFile}`);
  }
  for (const d of run.disks) args.push('-drive', `file=${d.file},if=virtio,format=${d.format}${d.readonly ? ',readonly=on' : ''}`);
  if (run.cdrom) args.push('-cdrom', run.cdrom);
  args.push('-boot', run.bootFromCdrom ? 'd' : 'c');
  return args;
}

export function cleanSerial(text: string): string {
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\x1b[()][A-Z0-9]/g, '').replace(/\r/g, '');
}

export async function runQemu(run: QemuRun): Promise<QemuResult> {
  await fs.mkdir(path.dirname(run.serialLog), { recursive: true });
  const log = createWriteStream(run.serialLog);
  const started = Date.now();
  // Tied to this process: QEMU dies with the boot test, however the test ends.
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'qemu-system-x86_64', ...qemuArgs(run)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  let pending = '';
  let timedOut = false;
  let stoppedEarly = false;
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    const s = chunk.toString('utf8');
    text += s;
    if (run.onLine) {
      pending += s;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) run.onLine(cleanSerial(l));
    }
    if (run.stopWhen && !stoppedEarly && run.stopWhen.test(cleanSerial(text.slice(-20000)))) {
      stoppedEarly = true;
      setTimeout(() => child.kill('SIGTERM'), 1000);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, run.timeoutMs);
  const exitCode = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  clearTimeout(timer);
  await new Promise<void>((resolve) => log.end(resolve));
  return { exitCode, timedOut, stoppedEarly, seconds: (Date.now() - started) / 1000, text: cleanSerial(text) };
}
