/** A point in time as the script clock keeps it: integer µs since the epoch plus 0–999 ns. */
export interface ScriptTime {
  micros: number;
  nanos: number;
}

const ISO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)$/;

/**
 * `'2024-05-01T10:00:00Z'`, with up to 9 fractional digits (Date.parse keeps only 3, so the
 * fraction is read here) and a required zone; or a number of µs since the epoch.
 */
export function parseTime(t: string | number): ScriptTime {
  if (typeof t === 'number') {
    if (!Number.isFinite(t)) throw new Error(`not a time: ${t}`);
    const micros = Math.floor(t);
    return { micros, nanos: Math.round((t - micros) * 1000) % 1000 };
  }
  const m = ISO.exec(t);
  if (m === null) throw new Error(`not an ISO 8601 time with a zone (e.g. 2024-05-01T10:00:00Z): ${JSON.stringify(t)}`);
  const ms = Date.parse(m[1] + m[3]);
  if (Number.isNaN(ms)) throw new Error(`not a valid date: ${JSON.stringify(t)}`);
  const fracNs = Number((m[2] ?? '').padEnd(9, '0'));
  return { micros: ms * 1000 + Math.floor(fracNs / 1000), nanos: fracNs % 1000 };
}
