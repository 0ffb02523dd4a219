/** Parsing and writing of deb822 control data (Packages, Release, control files). */

export type Stanza = Record<string, string>;

/** Parses deb822 text into stanzas; continuation lines are kept with their newlines. */
export function parseDeb822(text: string): Stanza[] {
  const stanzas: Stanza[] = [];
  let current: Stanza = {};
  let lastKey: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (Object.keys(current).length) stanzas.push(current);
      current = {};
      lastKey = undefined;
      continue;
    }
    if (line.startsWith('#')) continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && lastKey) {
      current[lastKey] += `\n${line}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    lastKey = line.slice(0, colon);
    current[lastKey] = line.slice(colon + 1).trim();
  }
  if (Object.keys(current).length) stanzas.push(current);
  return stanzas;
}

export function formatDeb822(stanza: Stanza): string {
  return (
    Object.entries(stanza)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n') + '\n'
  );
}

/** The source package name of a binary stanza (`Source: foo (1.2)` → foo; absent → the binary name). */
export function sourceName(stanza: Stanza): string {
  return (stanza.Source ?? stanza.Package).split(' ')[0];
}

/** Formats a multi-line description as a control field value (synopsis + indented long text). */
export function controlDescription(summary: string, long: string): string {
  const paragraphs = long.trim().split(/\n\s*\n/);
  const body = paragraphs
    .map((p) =>
      p
        .split('\n')
        .map((l) => ` ${l.trim()}`)
        .join('\n'),
    )
    .join('\n .\n');
  return `${summary}\n${body}`;
}
