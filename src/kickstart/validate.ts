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

export function validateKickstart(text: string, expect: { vg: string; packages: string[] }): KickstartProblem[] {
  const problems: KickstartProblem[] = [];
  const add = (line: number, message: string) => problems.push({ line, message });
  const seen = new Map<string, number[]>();
  let section: string | undefined;
  let sectionLine = 0;
  const packages: string[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const n = i + 1;
    const line = raw.trim();
    if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(raw)) add(n, 'control characters');
    if (!line || line.startsWith('#')) return;
    if (line.startsWith('%include ')) {
      if (section) add(n, '%include inside a section');
      else if (!/^%include \/tmp\/[A-Za-z0-9._-]+$/.test(line)) add(n, `%include: expected a file in /tmp written by %pre, found ${line.slice(9)}`);
      else seen.set('%include', [...(seen.get('%include') ?? []), n]);
      return;
    }
    if (line.startsWith('%')) {
      const name = line.split(/\s+/)[0];
      if (name === '%end') {
        if (!section) add(n, '%end without a section');
        section = undefined;
      } else if (['%packages', '%post', '%pre'].includes(name)) {
        if (section) add(n, `${name} inside ${section} (opened on line ${sectionLine}, no %end)`);
        section = name;
        sectionLine = n;
      } else add(n, `unknown section ${name}`);
      return;
    }
    if (section === '%packages') {
      if (!/^(@[A-Za-z0-9_-]+|[A-Za-z0-9_][A-Za-z0-9+._:-]*)$/.test(line)) add(n, `not a package or group: ${line}`);
      packages.push(line);
      return;
    }
    if (section) return; // %post/%pre bodies are scripts, written by the template
    const w = words(line);
    if (!w) {
      const first = line.split(/\s+/)[0];
      seen.set(first, [...(seen.get(first) ?? []), n]);
      return add(n, `quotes or shell characters out of place: ${line}`);
    }
    const [cmd, ...args] = w;
    const spec = COMMANDS[cmd];
    if (!spec) return add(n, `unknown command ${cmd}`);
    seen.set(cmd, [...(seen.get(cmd) ?? []), n]);
    const opts = spec === 'args' ? (cmd === 'part' ? PART_OPTIONS : undefined) : spec;
    const positional: string[] = [];
    for (const a of args) {
      if (!a.startsWith('--') || !opts) {
        positional.push(a);
        continue;
      }
      const [name, ...rest] = a.split('=');
      const kind = opts[name];
      if (!kind) add(n, `${cmd}: unknown option ${name}`);
      else if (kind === 'flag' && rest.length) add(n, `${cmd}: ${name} takes no value`);
      else if (kind === 'value' && !rest.join('=')) add(n, `${cmd}: ${name} needs a value`);
    }
    if (cmd === 'sshkey' && !(positional.length === 1 && /^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)|sk-\S+) [A-Za-z0-9+/=]+( .*)?$/.test(positional[0]))) add(n, 'sshkey: expected one quoted OpenSSH public key');
    if (cmd === 'rootpw') {
      if (args.includes('--iscrypted') && !(positional.length === 1 && /^\$(1|5|6|y|gy|7|2b)\$[./A-Za-z0-9$=,]+$/.test(positional[0]))) add(n, 'rootpw --iscrypted: expected one crypt(3) hash');
      if (!args.includes('--iscrypted') && !args.includes('--lock')) add(n, 'rootpw: a plaintext password is never written (use --iscrypted or --lock)');
    }
    if (cmd === 'volgroup' && positional[0] !== expect.vg) add(n, `volgroup: expected the VM volume group ${expect.vg}, found ${positional[0] ?? 'none'}`);
    if (cmd === 'timezone' && !(positional.length === 1 && /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(positional[0]))) add(n, 'timezone: expected one time zone name');
  });
  if (section) add(sectionLine, `${section} is not closed with %end`);
  for (const cmd of ['text', 'lang', 'keyboard', 'timezone', 'network', 'zerombr', 'clearpart', 'volgroup', 'bootloader', 'rootpw', 'repo', '%include']) {
    if (!seen.has(cmd)) add(0, `missing command ${cmd}`);
  }
  for (const [cmd, at] of seen) if (at.length > 1 && !['part', 'sshkey', 'repo', 'network'].includes(cmd)) add(at[1], `${cmd} given twice (first on line ${at[0]})`);
  if (!seen.has('poweroff') && !seen.has('reboot')) add(0, 'missing poweroff or reboot');
  const locked = /rootpw --lock/.test(text);
  if (locked && !seen.has('sshkey')) add(seen.get('rootpw')?.[0] ?? 0, 'no credentials: rootpw --lock and no sshkey (there is no default password)');
  for (const p of expect.packages) if (!packages.includes(p)) add(0, `%packages lacks ${p}`);
  return problems.sort((a, b) => a.line - b.line);
}
