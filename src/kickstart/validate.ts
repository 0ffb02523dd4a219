/**
 * A validator of the kickstart commands xcpbuild emits (pykickstart is not in Debian):
 * every command and option must be one of those below with a well-formed value,
 * sections must be closed, and the answers must be complete and safe (credentials
 * without a plaintext password, one disk, the VM volume group, pinned packages).
 * Pure: it reads text and returns every problem with its line.
 */
type OptionKind = 'flag' | 'value';
const COMMANDS: Record<string, Record<string, OptionKind> | 'args'> = {
  text: {},
  lang: 'args',
  keyboard: 'args',
  timezone: { '--utc': 'flag' },
  network: { '--device': 'value', '--bridgeslaves': 'value', '--bootproto': 'value', '--activate': 'flag', '--hostname': 'value', '--ip': 'value', '--netmask': 'value', '--gateway': 'value', '--nameserver': 'value', '--onboot': 'value' },
  firewall: { '--enabled': 'flag', '--disabled': 'flag', '--service': 'value' },
  selinux: { '--enforcing': 'flag', '--permissive': 'flag', '--disabled': 'flag' },
  firstboot: { '--disable': 'flag', '--enable': 'flag' },
  ignoredisk: { '--only-use': 'value' },
  zerombr: {},
  clearpart: { '--all': 'flag', '--initlabel': 'flag', '--drives': 'value', '--disklabel': 'value' },
  reqpart: { '--add-boot': 'flag' },
  part: 'args',
  volgroup: 'args',
  bootloader: { '--location': 'value', '--boot-drive': 'value', '--append': 'value' },
  rootpw: { '--iscrypted': 'flag', '--lock': 'flag' },
  sshkey: { '--username': 'value' },
  repo: { '--name': 'value', '--baseurl': 'value', '--install': 'flag' },
  poweroff: {},
  reboot: {},
};
const PART_OPTIONS: Record<string, OptionKind> = { '--fstype': 'value', '--size': 'value', '--grow': 'flag', '--ondisk': 'value' };

export interface KickstartProblem {
  line: number;
  message: string;
}

/** Splits a command line into words: double quotes group a word; backslashes, single quotes and backticks are refused. */
export function words(line: string): string[] | undefined {
  if (/[\\'`]/.test(line)) return undefined;
  const out: string[] = [];
  const re = /(--[a-z-]+=)?"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) {
    if (m[3] !== undefined) {
      if (m[3].includes('"')) return undefined;
      out.push(m[3]);
    } else out.push(`${m[1] ?? ''}${m[2]}`);
  }
  return out;
}

interface Expect {
  vg: string;
  packages: string[];
}

/** What a scan of the kickstart found so far. */
class Scan {
  readonly problems: KickstartProblem[] = [];
  readonly seen = new Map<string, number[]>();
  readonly packages: string[] = [];
  section: string | undefined;
  sectionLine = 0;

  add(line: number, message: string): void {
    this.problems.push({ line, message });
  }

  saw(cmd: string, line: number): void {
    this.seen.set(cmd, [...(this.seen.get(cmd) ?? []), line]);
  }
}

export function validateKickstart(text: string, expect: Expect): KickstartProblem[] {
  const scan = new Scan();
  text.split('\n').forEach((raw, i) => scanLine(scan, raw, i + 1, expect));
  checkWhole(scan, text, expect);
  return scan.problems.sort((a, b) => a.line - b.line);
}

function scanLine(scan: Scan, raw: string, n: number, expect: Expect): void {
  const line = raw.trim();
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(raw)) scan.add(n, 'control characters');
  if (!line || line.startsWith('#')) return;
  if (line.startsWith('%')) return directive(scan, line, n);
  if (scan.section === '%packages') {
    if (!/^(@[A-Za-z0-9_-]+|[A-Za-z0-9_][A-Za-z0-9+._:-]*)$/.test(line)) scan.add(n, `not a package or group: ${line}`);
    scan.packages.push(line);
    return;
  }
  if (scan.section) return; // %post/%pre bodies are scripts, written by the template
  command(scan, line, n, expect);
}

/** %include, and the sections %packages, %pre, %post with their %end. */
function directive(scan: Scan, line: string, n: number): void {
  if (line.startsWith('%include ')) {
    if (scan.section) scan.add(n, '%include inside a section');
    else if (!/^%include \/tmp\/[A-Za-z0-9._-]+$/.test(line)) scan.add(n, `%include: expected a file in /tmp written by %pre, found ${line.slice(9)}`);
    else scan.saw('%include', n);
    return;
  }
  const name = line.split(/\s+/)[0];
  if (name === '%end') {
    if (!scan.section) scan.add(n, '%end without a section');
    scan.section = undefined;
  } else if (['%packages', '%post', '%pre'].includes(name)) {
    if (scan.section) scan.add(n, `${name} inside ${scan.section} (opened on line ${scan.sectionLine}, no %end)`);
    scan.section = name;
    scan.sectionLine = n;
  } else scan.add(n, `unknown section ${name}`);
}

/** One command line: known command, known options, and the values xcpbuild insists on. */
function command(scan: Scan, line: string, n: number, expect: Expect): void {
  const w = words(line);
  if (!w) {
    scan.saw(line.split(/\s+/)[0], n);
    return scan.add(n, `quotes or shell characters out of place: ${line}`);
  }
  const [cmd, ...args] = w;
  const spec = COMMANDS[cmd];
  if (!spec) return scan.add(n, `unknown command ${cmd}`);
  scan.saw(cmd, n);
  const opts = spec === 'args' ? (cmd === 'part' ? PART_OPTIONS : undefined) : spec;
  const positional: string[] = [];
  for (const a of args) {
    if (!a.startsWith('--') || !opts) {
      positional.push(a);
      continue;
    }
    const [name, ...rest] = a.split('=');
    const kind = opts[name];
    if (!kind) scan.add(n, `${cmd}: unknown option ${name}`);
    else if (kind === 'flag' && rest.length) scan.add(n, `${cmd}: ${name} takes no value`);
    else if (kind === 'value' && !rest.join('=')) scan.add(n, `${cmd}: ${name} needs a value`);
  }
  checkValues(scan, { cmd, args, positional, n }, expect);
}

function checkValues(scan: Scan, c: { cmd: string; args: string[]; positional: string[]; n: number }, expect: Expect): void {
  const { cmd, args, positional, n } = c;
  if (cmd === 'sshkey' && !(positional.length === 1 && /^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)|sk-\S+) [A-Za-z0-9+/=]+( .*)?$/.test(positional[0]))) scan.add(n, 'sshkey: expected one quoted OpenSSH public key');
  if (cmd === 'rootpw') {
    if (args.includes('--iscrypted') && !(positional.length === 1 && /^\$(1|5|6|y|gy|7|2b)\$[./A-Za-z0-9$=,]+$/.test(positional[0]))) scan.add(n, 'rootpw --iscrypted: expected one crypt(3) hash');
    if (!args.includes('--iscrypted') && !args.includes('--lock')) scan.add(n, 'rootpw: a plaintext password is never written (use --iscrypted or --lock)');
  }
  if (cmd === 'volgroup' && positional[0] !== expect.vg) scan.add(n, `volgroup: expected the VM volume group ${expect.vg}, found ${positional[0] ?? 'none'}`);
  if (cmd === 'timezone' && !(positional.length === 1 && /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(positional[0]))) scan.add(n, 'timezone: expected one time zone name');
}

/** What the whole file must have: the commands an unattended install needs, once each, credentials, the packages. */
function checkWhole(scan: Scan, text: string, expect: Expect): void {
  const { seen } = scan;
  if (scan.section) scan.add(scan.sectionLine, `${scan.section} is not closed with %end`);
  for (const cmd of ['text', 'lang', 'keyboard', 'timezone', 'network', 'zerombr', 'clearpart', 'volgroup', 'bootloader', 'rootpw', 'repo', '%include']) {
    if (!seen.has(cmd)) scan.add(0, `missing command ${cmd}`);
  }
  for (const [cmd, at] of seen) if (at.length > 1 && !['part', 'sshkey', 'repo', 'network'].includes(cmd)) scan.add(at[1], `${cmd} given twice (first on line ${at[0]})`);
  if (!seen.has('poweroff') && !seen.has('reboot')) scan.add(0, 'missing poweroff or reboot');
  const locked = /rootpw --lock/.test(text);
  if (locked && !seen.has('sshkey')) scan.add(seen.get('rootpw')?.[0] ?? 0, 'no credentials: rootpw --lock and no sshkey (there is no default password)');
  for (const p of expect.packages) if (!scan.packages.includes(p)) scan.add(0, `%packages lacks ${p}`);
}
