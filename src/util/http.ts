/**
 * One small HTTP request with retries (3 attempts, backoff; a 404 is final): for an
 * archive's repomd.xml or a signing key, not for package files (cache/download.ts).
 * Returns the response, or the last cause as one short line.
 */
export async function fetchWithRetries(url: string, method: 'GET' | 'HEAD', attempts = 3): Promise<{ ok: true; res: Response } | { ok: false; cause: string }> {
  let cause = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const res = await fetch(url, { method, signal: AbortSignal.timeout(30000) });
      if (res.ok) return { ok: true, res };
      cause = `HTTP ${res.status}`;
      if (res.status === 404) break;
    } catch (err) {
      const c = (err as { cause?: { code?: string; message?: string } }).cause;
      cause = c?.code ?? c?.message ?? (err as Error).message;
    }
    if (attempt < attempts) await new Promise((r) => setTimeout(r, 500 * attempt));
  }
  return { ok: false, cause };
}
