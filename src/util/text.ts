import { XcpError } from '../errors';

/** C0 and C1 control characters, DEL, and the Unicode line and paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const CONTROL_GLOBAL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

export function hasControlChars(s: string): boolean {
  return CONTROL.test(s);
}

/**
 * Text from untrusted input made safe to print on a terminal or in a log: control
 * characters are shown as escapes (\n, \x1b, \u2028) and long values are cut.
 */
export function printable(s: string, max = 80): string {
  const escaped = withoutCredentials(s).replace(CONTROL_GLOBAL, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    if (named[c]) return named[c];
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return escaped.length > max ? `${escaped.slice(0, max)}… (${s.length} characters)` : escaped;
}

/** URL credentials (scheme://user:password@host) are never echoed: not in a message, not in a log. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi;

export function withoutCredentials(s: string): string {
  return s.replace(URL_USERINFO, '$1***@');
}

/** True if a URL carries user information (credentials) before its host. */
export function hasUrlCredentials(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url);
}

/** POSIX shell single quoting: the value comes back as exactly one word, never interpreted. */
export function shellQuote(s: string): string {
  if (s.includes('\0')) throw new XcpError(`cannot pass a NUL byte to a shell: ${printable(s)}`, 'invalidInput');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The value of a single-line deb822 field (Release, .sources, control files). A line
 * break would start a new field, so anything with control characters is refused here
 * even though the schema already refused it: defence in depth at the place of writing.
 */
export function deb822Value(field: string, value: string): string {
  if (hasControlChars(value)) {
    throw new XcpError(`refusing to write the ${field} field: its value has control characters (${printable(value)})`, 'invalidInput');
  }
  return value.trim();
}

/** A word that goes on a kernel or Xen command line: no spaces, quotes or shell metacharacters. */
export function cmdlineWords(field: string, value: string): string {
  if (value !== '' && !/^[A-Za-z0-9_.,:=+/@%-]+( [A-Za-z0-9_.,:=+/@%-]+)*$/.test(value)) {
    throw new XcpError(`refusing to write ${field}: "${printable(value)}" is not a list of kernel options`, 'invalidInput');
  }
  return value;
}

/**
 * A value on one line of an RPM spec file. rpm expands macros everywhere, so % is
 * doubled; a line break would start a new tag or section, so control characters are refused.
 */
export function specValue(field: string, value: string): string {
  if (hasControlChars(value)) throw new XcpError(`refusing to write ${field} into a spec file: it has control characters (${printable(value)})`, 'invalidInput');
  return value.trim().replace(/%/g, '%%');
}

/** Wraps each line to `width` columns at spaces (a word longer than that stays whole). */
export function wrap(text: string, width: number): string {
  return text
    .split('\n')
    .map((line) => {
      const out: string[] = [];
      let cur = '';
      for (const word of line.split(' ')) {
        if (cur && (cur + ' ' + word).length > width) {
          out.push(cur);
          cur = word;
        } else cur = cur ? `${cur} ${word}` : word;
      }
      out.push(cur);
      return out.join('\n');
    })
    .join('\n');
}

/** Paragraphs in an RPM spec (%description): % doubled, no line may start a section. */
export function specText(value: string): string {
  if (/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/.test(value)) {
    throw new XcpError(`refusing to write text with control characters into a spec file: ${printable(value)}`, 'invalidInput');
  }
  return wrap(value.trim(), 79).replace(/%/g, '%%');
}
