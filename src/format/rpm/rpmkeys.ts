import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BuildLog } from '../../util/log';
import { run } from '../../util/proc';
import { XcpError } from '../../errors';
import { scratchDir } from '../../util/scratch';

/**
 * Checks each RPM's digests and signature against exactly the given keys, in a
 * throwaway rpm database (the host's keys never count). Returns one line per file
 * that is unsigned, signed by another key, or damaged.
 */
export async function checkRpmSignatures(log: BuildLog, files: { path: string; label: string }[], keys: string[]): Promise<string[]> {
  if (!files.length) return [];
  const root = await scratchDir('rpmkeys');
  const db = ['--root', root, '--define', '_dbpath /var/lib/rpm'];
  try {
    for (const key of keys) await run(log, 'rpmkeys', [...db, '--import', key], { purpose: `importing ${path.basename(key)} into a private rpm keyring`, failAs: 'invalidInput' });
    const problems: string[] = [];
    // One rpmkeys per batch: it prints one line per file and fails if any fails.
    for (let i = 0; i < files.length; i += 200) {
      const batch = files.slice(i, i + 200);
      const res = await run(log, 'rpmkeys', [...db, '--checksig', ...batch.map((f) => f.path)], { allowFailure: true, logStdout: false });
      const lines = new Map<string, string>();
      for (const l of res.stdout.split('\n')) {
        const m = /^(.*?): (.*)$/.exec(l);
        if (m) lines.set(m[1], m[2]);
      }
      for (const f of batch) {
        const verdict = lines.get(f.path) ?? 'no answer from rpmkeys';
        if (/signatures OK/.test(verdict) && !/NOT OK|NOKEY/.test(verdict)) continue;
        const why = /NOKEY/.test(verdict) ? 'signed by a key the recipe does not trust' : /signatures/i.test(verdict) ? `bad signature (${verdict.trim()})` : /digests OK/.test(verdict) ? 'not signed' : `damaged (${verdict.trim()})`;
        problems.push(`${f.label}: ${why}`);
      }
    }
    return problems;
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

/** An armored copy of a keyring (armored or binary), as dnf's gpgkey= and rpmkeys --import want it. */
export async function armoredKey(log: BuildLog, keyring: string, output: string): Promise<void> {
  const text = await fs.readFile(keyring);
  if (text.subarray(0, 40).toString('latin1').includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')) {
    await fs.writeFile(output, text, { mode: 0o644 });
    return;
  }
  const home = await scratchDir('gpg');
  try {
    await run(log, 'gpg', ['--homedir', home, '--batch', '--import', keyring], { purpose: `reading the keyring ${keyring}`, failAs: 'invalidInput' });
    const res = await run(log, 'gpg', ['--homedir', home, '--batch', '--armor', '--export-options', 'export-minimal', '--export'], { purpose: 'exporting an armored key', logStdout: false });
    if (!res.stdout.includes('BEGIN PGP PUBLIC KEY BLOCK')) throw new XcpError(`${keyring} holds no public key`, 'invalidInput');
    await fs.writeFile(output, res.stdout, { mode: 0o644 });
  } finally {
    await run(log, 'gpgconf', ['--homedir', home, '--kill', 'all'], { allowFailure: true });
    await fs.rm(home, { recursive: true, force: true });
  }
}
