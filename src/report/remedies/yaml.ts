/**
 * A small YAML emitter for the remedy snippets (block style, two-space indent). It only has to
 * write what remedies build — plain objects, arrays, strings, numbers, booleans — and it quotes
 * every string that YAML could read as something else, so the output always parses back to the
 * same values. `commented(value, text)` adds a trailing `# text` to the value's line.
 */

export type YamlValue = string | number | boolean | null | YamlCommented | readonly YamlValue[] | { readonly [k: string]: YamlValue };

export interface YamlCommented {
  readonly $value: YamlValue;
  readonly $comment: string;
}

export function commented(value: YamlValue, comment: string): YamlCommented {
  return { $value: value, $comment: comment };
}

function isCommented(v: YamlValue): v is YamlCommented {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && '$comment' in v && '$value' in v;
}

const RESERVED = /^(?:true|false|yes|no|on|off|y|n|null|~)$/i;
const PLAIN = /^[A-Za-z][A-Za-z0-9_./-]*$/;

/** A scalar as YAML: plain when unambiguous, else double-quoted (JSON escapes are valid YAML). */
export function yamlScalar(v: string | number | boolean | null): string {
  if (v === null) return 'null';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`not a finite number: ${v}`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return PLAIN.test(v) && !RESERVED.test(v) ? v : JSON.stringify(v);
}

/** A comment safe on one line: no line breaks or other control characters. */
export function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
}

function key(k: string): string {
  return PLAIN.test(k) && !RESERVED.test(k) ? k : JSON.stringify(k);
}

function isScalar(v: YamlValue): v is string | number | boolean | null {
  return v === null || typeof v !== 'object';
}

function isEmpty(v: YamlValue): boolean {
  return Array.isArray(v) ? v.length === 0 : typeof v === 'object' && v !== null && !isCommented(v) && Object.keys(v).length === 0;
}

function emit(v: YamlValue, indent: number, out: string[]): void {
  const pad = ' '.repeat(indent);
  if (Array.isArray(v)) {
    for (const item of v as readonly YamlValue[]) {
      const inner: string[] = [];
      const [value, comment] = isCommented(item) ? [item.$value, item.$comment] : [item, ''];
      if (isScalar(value) || isEmpty(value)) {
        out.push(`${pad}- ${isScalar(value) ? yamlScalar(value) : Array.isArray(value) ? '[]' : '{}'}${comment ? ` # ${oneLine(comment)}` : ''}`);
        continue;
      }
      emit(value, indent + 2, inner);
      // The first line of the nested block goes on the dash line.
      out.push(`${pad}- ${inner[0].slice(indent + 2)}${comment ? ` # ${oneLine(comment)}` : ''}`, ...inner.slice(1));
    }
    return;
  }
  for (const [k, raw] of Object.entries(v as { readonly [k: string]: YamlValue })) {
    const [value, comment] = isCommented(raw) ? [raw.$value, raw.$comment] : [raw, ''];
    const tail = comment ? ` # ${oneLine(comment)}` : '';
    if (isScalar(value)) out.push(`${pad}${key(k)}: ${yamlScalar(value)}${tail}`);
    else if (isEmpty(value)) out.push(`${pad}${key(k)}: ${Array.isArray(value) ? '[]' : '{}'}${tail}`);
    else {
      out.push(`${pad}${key(k)}:${tail}`);
      emit(value, indent + 2, out);
    }
  }
}

/** Words of `s` in lines of at most `width` characters (a longer word gets a line of its own). */
function wrapWords(s: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of s.split(' ').filter(Boolean)) {
    if (line && line.length + 1 + w.length > width) { lines.push(line); line = w; } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines;
}

/** One YAML document; `header` paragraphs become `# …` comments above it, wrapped at 88 columns. */
export function toYaml(doc: { readonly [k: string]: YamlValue }, header: readonly string[] = []): string {
  const out = header.flatMap((h) => wrapWords(oneLine(h), 86).map((l) => `# ${l}`));
  emit(doc, 0, out);
  return out.join('\n') + '\n';
}
