import path from 'node:path';
import { Session } from './session';
import { generateKey } from '../signing/gpg';
import { exists } from '../util/fsutil';
import { BuildLog } from '../util/log';
import { checkedPath } from '../util/env';

export interface GenkeyOpts {
  dir: string;
  name: string;
  uid: string;
  force: boolean;
  ifMissing: boolean;
}

export async function genkeyCommand(session: Session, opts: GenkeyOpts): Promise<void> {
  const dir = checkedPath(opts.dir, '--dir');
  const secret = path.join(dir, `${opts.name}.key.asc`);
  if (opts.ifMissing && (await exists(secret))) {
    if (session.json) session.emit({ ok: true, created: false, secret, public: path.join(dir, `${opts.name}.pub.asc`) });
    else console.log(`signing key exists: ${secret}`);
    return;
  }
  const log = new BuildLog(undefined, session.opts().verbose);
  const key = await generateKey(log, dir, opts.name, opts.uid, opts.force);
  if (session.json) session.emit({ ok: true, created: true, ...key });
  else console.log(`secret key: ${key.secret}\npublic key: ${key.public}\nfingerprint: ${key.fingerprint}`);
}
