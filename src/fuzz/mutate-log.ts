/**
 * Access-log inputs: mutated real lines, custom Envoy format strings with odd operators and the
 * lines they would produce, container-runtime wrappers (Docker JSON, CRI with partial records,
 * kubectl timestamps, compose prefixes), JSON lines with wrong types and deep nesting, and
 * text built to make a backtracking matcher explode.
 */
import type { Rng } from './random.js';

const SPECIAL_CHARS = [' ', '"', '-', '%', '[', ']', '{', '}', ':', ',', '\\', '\t', '\r', '\0', '\x7f', 'é', '\u2028', '\ufffd', '\ud800', '0', '9', 'Z', 'T', '.', '|', '(', ')', '/'];
const TOKENS = [
  '" "', '"', ' - ', ' ', '{', '}', '[', ']', '\\"', '\\n', '%', '%%', 'UC', 'UF,URX', '503', '0', '-',
  '2024-05-01T10:00:12.345Z', '2024-05-01T10:00:12.400000000Z stdout P ', 'stdout F ', '{"log":"', '","stream":"stdout"}',
  'upstream_reset_before_response_started{connection_termination}', 'via_upstream', 'tcp://', 'outbound|80||a;',
  '10.0.0.1:45720', '[::1]:80', '"-"', 'HTTP/1.1', 'envoy-1 | ', '\u00a0', '𝔘',
];

/** One mutation of a text line. */
function mutateLine(line: string, rng: Rng): { line: string; what: string } {
  const at = rng.below(line.length + 1);
  switch (rng.below(10)) {
    case 0: {
      const c = rng.pick(SPECIAL_CHARS);
      return { line: line.slice(0, at) + c + line.slice(at + 1), what: `replace char ${at} with ${JSON.stringify(c)}` };
    }
    case 1: {
      const t = rng.pick(TOKENS);
      return { line: line.slice(0, at) + t + line.slice(at), what: `insert ${JSON.stringify(t)} at ${at}` };
    }
    case 2: {
      const n = rng.smallSize(40);
      return { line: line.slice(0, at) + line.slice(at + n), what: `delete ${n} chars at ${at}` };
    }
    case 3: {
      // A run of one piece, to make a backtracking split explode and to make long lines.
      const piece = rng.chance(0.5) ? rng.pick(TOKENS) : line.slice(at, at + rng.smallSize(12)) || ' ';
      const times = rng.smallSize(rng.chance(0.1) ? 40_000 : 2_000);
      return { line: line.slice(0, at) + piece.repeat(times) + line.slice(at), what: `repeat ${JSON.stringify(piece.slice(0, 20))} ${times} times at ${at}` };
    }
    case 4:
      return { line: line.slice(0, at), what: `truncate at ${at}` };
    case 5: {
      const parts = line.split(' ');
      if (parts.length < 2) return { line, what: 'swap (no fields)' };
      const i = rng.below(parts.length), j = rng.below(parts.length);
      [parts[i], parts[j]] = [parts[j]!, parts[i]!];
      return { line: parts.join(' '), what: `swap fields ${i} and ${j}` };
    }
    case 6: {
      const parts = line.split(' ');
      const i = rng.below(parts.length);
      parts[i] = rng.pick(['-', '', '"-"', '""', 'x'.repeat(rng.smallSize(5000)), '9'.repeat(rng.smallSize(40)), '-1', '1e9', 'NaN', 'ABCDEFGHIJ']);
      return { line: parts.join(' '), what: `replace field ${i}` };
    }
    case 7: {
      const c = line.charCodeAt(at) || 32;
      return { line: line.slice(0, at) + String.fromCharCode(c ^ (1 << rng.below(7))) + line.slice(at + 1), what: `flip a bit of char ${at}` };
    }
    case 8:
      return { line: line + rng.pick(TOKENS), what: 'append a token' };
    default: {
      const digits = line.replace(/\d/g, () => String(rng.below(10)));
      return { line: digits, what: 'randomise digits' };
    }
  }
}

/** JSON lines: wrong types, odd keys, deep nesting, broken syntax. */
function mutateJson(line: string, rng: Rng): { line: string; what: string } {
  let obj: Record<string, unknown>;
  try {
    const v = JSON.parse(line) as unknown;
    obj = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
  } catch {
    return mutateLine(line, rng);
  }
  const keys = Object.keys(obj);
  const key = keys.length > 0 && rng.chance(0.7) ? rng.pick(keys) : rng.pick(['start_time', 'response_code', 'response_flags', '__proto__', 'constructor', 'log', 'stream', 'time', 'duration', 'upstream_host']);
  const depth = rng.smallSize(rng.chance(0.1) ? 5_000 : 50);
  const values: unknown[] = [
    null, true, 0, -1, 1.5, 1e21, Number.MAX_SAFE_INTEGER + 2, '', '-', 'UC,UF', '503', '2024-05-01T10:00:12.345Z', '2024-13-45T99:99:99Z',
    [], {}, ['a', 1], { nested: { a: 1 } }, 'x'.repeat(rng.smallSize(10_000)),
  ];
  let value: unknown = rng.pick(values);
  const deep = rng.chance(0.15);
  if (deep) {
    const open = rng.chance(0.5) ? '[' : '{"a":';
    const close = open === '[' ? ']' : '}';
    const text = JSON.stringify({ ...obj, [key]: '__DEEP__' }).replace('"__DEEP__"', open.repeat(depth) + '1' + close.repeat(depth));
    return { line: text, what: `nest ${key} ${depth} deep` };
  }
  if (key === '__proto__') {
    const text = JSON.stringify(obj).replace(/^\{/, `{"__proto__":${JSON.stringify(value)}${keys.length ? ',' : ''}`);
    return { line: text, what: '__proto__ key' };
  }
  if (rng.chance(0.2)) value = String(value);
  const text = JSON.stringify({ ...obj, [key]: value });
  if (rng.chance(0.15)) {
    const cut = rng.below(text.length);
    return { line: text.slice(0, cut), what: `${key} = ${JSON.stringify(value)?.slice(0, 30)}, then cut at ${cut}` };
  }
  return { line: text, what: `${key} = ${JSON.stringify(value)?.slice(0, 30)}` };
}

/** Puts a line in the wrappers container runtimes add; sometimes split as a runtime splits long lines. */
export function wrapLine(line: string, rng: Rng): { lines: string[]; what: string } {
  const kind = rng.pick(['docker', 'cri', 'timestamp', 'compose', 'nested'] as const);
  const ts = '2024-05-01T10:00:12.400000000Z';
  const splitAt = rng.chance(0.4) ? rng.below(line.length + 1) : -1;
  switch (kind) {
    case 'docker': {
      const rec = (log: string) => JSON.stringify({ log, stream: 'stdout', time: ts });
      if (splitAt >= 0) return { lines: [rec(line.slice(0, splitAt)), rec(line.slice(splitAt) + '\n')], what: `docker-json split at ${splitAt}` };
      return { lines: [rec(line + (rng.chance(0.9) ? '\n' : ''))], what: 'docker-json' };
    }
    case 'cri':
      if (splitAt >= 0) return { lines: [`${ts} stdout P ${line.slice(0, splitAt)}`, `${ts} stdout F ${line.slice(splitAt)}`], what: `cri split at ${splitAt}` };
      return { lines: [`${ts} ${rng.pick(['stdout', 'stderr'])} ${rng.pick(['F', 'P'])} ${line}`], what: 'cri' };
    case 'timestamp':
      return { lines: [`${rng.pick([ts, '2024-05-01T10:00:12Z', '2024-05-01T10:00:12.4+02:00'])} ${line}`], what: 'kubectl timestamp' };
    case 'compose':
      return { lines: [`${rng.pick(['envoy-1', 'gw', 'a.b_c-d'])}${' '.repeat(rng.int(0, 9))}| ${line}`], what: 'compose' };
    default: {
      const inner = JSON.stringify({ log: `${ts} stdout F ${line}\n`, stream: 'stdout', time: ts });
      return { lines: [`svc | ${ts} ${inner}`], what: 'compose > timestamp > docker-json > cri' };
    }
  }
}

// ---- custom format strings --------------------------------------------------------------------

const OPERATORS = [
  '%START_TIME%', '%START_TIME(%s)%', '%START_TIME(%s.%3f)%', '%START_TIME(%s%3f)%', '%START_TIME(%Y/%m/%d %H:%M:%S)%',
  '%START_TIME(%b %e %T %Y)%', '%START_TIME(%FT%E*S%Ez)%', '%START_TIME(%j %p %l)%', '%START_TIME(%Q)%', '%START_TIME(%)%',
  '%START_TIME(%1f%9f%f)%', '%START_TIME(%Z %a %A %h)%', '%START_TIME(%%)%', '%START_TIME(%E4Y-%m-%d)%', '%START_TIME_LOCAL%',
  '%RESPONSE_CODE%', '%RESPONSE_FLAGS%', '%RESPONSE_FLAGS_LONG%', '%RESPONSE_CODE_DETAILS%', '%CONNECTION_TERMINATION_DETAILS%',
  '%BYTES_RECEIVED%', '%BYTES_SENT%', '%DURATION%', '%UPSTREAM_HOST%', '%UPSTREAM_CLUSTER%', '%UPSTREAM_LOCAL_ADDRESS%',
  '%DOWNSTREAM_REMOTE_ADDRESS%', '%DOWNSTREAM_LOCAL_ADDRESS%', '%REQUESTED_SERVER_NAME%', '%ROUTE_NAME%', '%PROTOCOL%',
  '%REQ(:METHOD)%', '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%', '%REQ(:PATH):10%', '%REQ(X-REQUEST-ID)%', '%REQ(USER-AGENT)%',
  '%REQ(:AUTHORITY)%', '%REQ(HOST)%', '%REQ(X-FORWARDED-FOR)%', '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%', '%REQ()%',
  '%DYNAMIC_METADATA(istio.mixer:status)%', '%FILTER_STATE(a:b):5%', '%UNKNOWN_OPERATOR%', '%REQ(X)Y)%', '%REQ(A%B)%',
  '%UPSTREAM_TRANSPORT_FAILURE_REASON%', '%HOSTNAME%', '%REQ(:METHOD):0%', '%REQ(', '%RESP(X):%', '%%', '%', '%A', '%1%',
];
const LITERALS = [' ', ' ', ' ', '"', '" "', '[', '] ', ' - ', ':', '|', ' | ', ',', '\t', '\\"', '=', ' "', '" ', '""', '%', ' %% ', 'é', ''];

/** A random Envoy format string: operators and literals, sometimes with nothing between two operators. */
export function randomFormat(rng: Rng): string {
  const n = rng.int(1, rng.chance(0.05) ? 200 : 14);
  let s = rng.chance(0.3) ? '[%START_TIME%] ' : '';
  for (let i = 0; i < n; i++) {
    s += rng.pick(OPERATORS);
    if (rng.chance(0.9)) s += rng.pick(LITERALS);
  }
  if (rng.chance(0.3)) s += rng.pick(['\n', '\\n', '\r\n', ' ', '\n\n', '\\n\n']);
  return s;
}

/** A value an operator could have printed. */
function valueFor(op: string, rng: Rng): string {
  if (op.startsWith('%START_TIME')) {
    return rng.pick(['2024-05-01T10:00:12.345Z', '1714557612', '1714557612.345', '1714557612345', '2024/05/01 10:00:12', 'May  1 10:00:12 2024', '-', '2024-05-01T10:00:12+02:00']);
  }
  if (op.includes('CODE%') || op.includes('BYTES') || op.includes('DURATION') || op.includes('SERVICE-TIME')) return rng.pick(['503', '0', '-', '200', '99999999999999999', '12a']);
  if (op.includes('FLAGS_LONG')) return rng.pick(['UpstreamConnectionTermination', '-', 'NoHealthyUpstream,UpstreamRetryLimitExceeded', 'weird']);
  if (op.includes('FLAGS')) return rng.pick(['UC', '-', 'UF,URX', 'via_upstream', 'UT']);
  if (op.includes('ADDRESS') || op.includes('HOST%')) return rng.pick(['10.0.0.1:45720', '[2001:db8::1]:80', 'tcp://10.0.0.9:80', '-']);
  return rng.pick(['-', 'GET', '/api/items/4', 'curl/8.4.0 (x86_64)', '6d67d674-2122-4a2d-b172-0be70c674371', 'a b', 'outbound|80||svc;', '']);
}

/** Lines rendered from a format string with plausible values (so matching goes deep), some mutated. */
export function linesForFormat(format: string, rng: Rng, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(format.replace(/\\n$|\n$/, '').replace(/%[A-Z_]+(\([^)]*\))?(:\d+)?%/g, (op) => valueFor(op, rng)));
  return out;
}

export interface LogText {
  readonly text: string;
  readonly format: string | null;
  readonly mutations: string[];
}

/** A whole log text: lines from a seed (or a custom format), mutated, wrapped, joined. */
export function makeLogText(seedLines: readonly string[], rng: Rng): LogText {
  const mutations: string[] = [];
  let format: string | null = null;
  let lines: string[];
  if (rng.chance(0.3)) {
    format = randomFormat(rng);
    lines = linesForFormat(format, rng, rng.int(1, 12));
    mutations.push(`custom format ${JSON.stringify(format.slice(0, 120))}`);
  } else {
    const start = rng.below(seedLines.length);
    lines = seedLines.slice(start, start + rng.int(1, 24));
    if (lines.length === 0) lines = [''];
  }
  const k = rng.int(0, Math.min(6, lines.length * 2));
  for (let i = 0; i < k; i++) {
    const j = rng.below(lines.length);
    const l = lines[j]!;
    const m = l.startsWith('{') && rng.chance(0.7) ? mutateJson(l, rng) : mutateLine(l, rng);
    lines[j] = m.line;
    mutations.push(`line ${j + 1}: ${m.what}`);
  }
  if (rng.chance(0.3)) {
    const wrapped: string[] = [];
    for (const l of lines) {
      if (rng.chance(0.7)) {
        const w = wrapLine(l, rng);
        wrapped.push(...w.lines);
        mutations.push(`wrap: ${w.what}`);
      } else wrapped.push(l);
    }
    lines = wrapped;
  }
  const eol = rng.pick(['\n', '\n', '\r\n', '\n\n', '\r']);
  let text = lines.join(eol);
  if (rng.chance(0.7)) text += eol;
  if (rng.chance(0.05)) { text = '\ufeff' + text; mutations.push('byte-order mark'); }
  return { text, format, mutations };
}
