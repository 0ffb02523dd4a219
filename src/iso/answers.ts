import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { templateDir } from '../util/templates';
import { XcpError } from '../errors';

export interface AnswerCheck {
  ok: boolean;
  errors: string[];
  summary: string;
}

/**
 * Validates an answer file by running the installer's own validator
 * (templates/installer/answers.sh), so the build host and the installer can
 * never disagree about what is valid.
 */
export async function checkAnswerFile(file: string, mode: 'automated' | 'interactive'): Promise<AnswerCheck> {
  const res = spawnSync('bash', [path.join(templateDir('installer'), 'answers.sh'), 'check', file, mode], { encoding: 'utf8' });
  if (res.error) throw new XcpError(`cannot run the answer-file validator: ${res.error.message}`, 'build');
  if (res.status === 2) throw new XcpError(res.stderr.trim() || `cannot check ${file}`, 'invalidInput');
  const errors = res.stderr.split('\n').filter((l) => l.trim());
  return { ok: res.status === 0, errors, summary: res.stdout.trim() };
}
