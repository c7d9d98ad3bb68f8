/** Bad Envoy admin input: one line naming the file, line and byte offset. */
export class EnvoyInputError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly byteOffset: number | null,
    readonly reason: string,
  ) {
    super(`${file}${line !== null ? `: line ${line}` : ''}${byteOffset !== null ? ` (byte ${byteOffset})` : ''}: ${reason}`);
    this.name = 'EnvoyInputError';
  }

  oneLine(): string {
    return this.message;
  }
}

/** Line (1-based) and byte offset of a character index. */
export function placeOf(text: string, index: number): { line: number; byte: number } {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return { line, byte: Buffer.byteLength(text.slice(0, index), 'utf8') };
}

/**
 * Where a JSON text first goes wrong, and why: Node 20's JSON.parse does not always say where.
 * A linear scan over the grammar (RFC 8259), run only after JSON.parse has failed.
 */
export function firstJsonError(text: string): { index: number; reason: string } {
  let i = 0;
  const n = text.length;
  const ws = () => { while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++; };
  const fail = (reason: string): never => { throw { index: i, reason }; };
  const end = () => (i >= n ? fail('truncated JSON (the document ends before it is complete)') : undefined);
  const str = () => {
    i++;
    for (;;) {
      end();
      const c = text.charCodeAt(i);
      if (c === 0x22) { i++; return; }
      if (c === 0x5c) { i += 2; continue; }
      if (c < 0x20) fail('invalid JSON: a control character inside a string');
      i++;
    }
  };
  const value = (depth: number): void => {
    ws(); end();
    const c = text[i];
    if (c === '{') {
      i++; ws(); end();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws(); end();
        if (text[i] !== '"') fail('invalid JSON: expected a property name in double quotes');
        str(); ws(); end();
        if (text[i] !== ':') fail('invalid JSON: expected ":" after a property name');
        i++; value(depth + 1); ws(); end();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail('invalid JSON: expected "," or "}" in an object');
      }
    }
    if (c === '[') {
      i++; ws(); end();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value(depth + 1); ws(); end();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail('invalid JSON: expected "," or "]" in an array');
      }
    }
    if (c === '"') return str();
    const lit = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 64));
    if (!lit) fail(`invalid JSON: unexpected ${JSON.stringify(c)}`);
    i += lit![0].length;
  };
  try {
    value(0); ws();
    if (i < n) fail('invalid JSON: more text after the document');
  } catch (e) {
    if (typeof e === 'object' && e !== null && 'index' in e) return e as { index: number; reason: string };
    throw e;
  }
  return { index: n, reason: 'invalid JSON' };
}

/** JSON.parse failed: the error placed at the line and byte where the text first goes wrong. */
export function jsonError(text: string, file: string, _err: Error): EnvoyInputError {
  const e = firstJsonError(text);
  const p = placeOf(text, e.index);
  return new EnvoyInputError(file, p.line, p.byte, e.reason);
}
