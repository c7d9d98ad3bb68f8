/**
 * A small glob for quoted patterns (the shell expands unquoted ones itself): `*` and `?` within
 * one path segment, `**` for any number of directories, `[abc]` / `[!a-z]` classes and `{a,b}`
 * alternatives. Patterns use `/` as the separator.
 */

const MAGIC = /[*?[{]/;

/** True when the argument holds glob characters. */
export function hasGlob(arg: string): boolean {
  return MAGIC.test(arg);
}

/**
 * Splits a pattern into the directory to walk (the segments before the first one with glob
 * characters) and the pattern relative to it: `logs/2024-*\/**\/*.pcap` → [`logs`, `2024-*\/**\/*.pcap`].
 */
export function globBase(pattern: string): { base: string; rest: string } {
  const segments = pattern.split('/');
  const i = segments.findIndex((s) => MAGIC.test(s));
  if (i === -1) return { base: pattern, rest: '' };
  const baseSegments = segments.slice(0, i);
  const base = baseSegments.length === 0 ? '.' : baseSegments.join('/') || '/';
  return { base, rest: segments.slice(i).join('/') };
}

/** Compiles a pattern (relative, `/`-separated) into a RegExp over relative paths. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  let i = 0;
  let braces = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        // `**/` matches zero or more directories; a trailing `**` matches everything below.
        if (pattern[i + 2] === '/') { re += '(?:[^/]*/)*'; i += 3; continue; }
        re += '.*'; i += 2; continue;
      }
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close === -1) { re += '\\['; } else {
        let body = pattern.slice(i + 1, close);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else if (c === '{') {
      braces++; re += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--; re += ')';
    } else if (c === ',' && braces > 0) {
      re += '|';
    } else {
      re += c.replace(/[.+^$()|\\]/g, '\\$&');
    }
    i++;
  }
  return new RegExp(`^${re}$`);
}
