/**
 * What container runtimes and log tools put around an access-log line, peeled one layer at a time:
 *
 * - **docker-json**: Docker's json-file driver, `{"log":"<line>\n","stream":"stdout","time":"…"}`
 *   (istio/istio#13848). A `log` without the closing `\n` is a partial record (Docker splits lines
 *   over 16 KiB); the next record continues it.
 * - **cri**: containerd / CRI-O files under /var/log/pods,
 *   `2020-11-22T20:04:54.223002528Z stdout F <line>`; tag `P` marks a partial line.
 * - **timestamp**: `kubectl logs --timestamps` / `docker logs -t`, an RFC 3339 time and a space
 *   before the line (istio/istio#29109).
 * - **compose**: `docker compose logs`, `<service>   | ` before the line (often followed by a
 *   timestamp layer when `-t` was given; corpus envoy-with-details.docker-compose.log).
 *
 * The wrapper's own time is not used: `startMs` is always Envoy's `%START_TIME%`.
 */
import { isPlainObject, type JsonParse } from './json.js';
import { ISO_TIME, matchTime } from './time.js';

export type WrapperKind = 'docker-json' | 'cri' | 'timestamp' | 'compose';

export interface Peeled {
  readonly kind: WrapperKind;
  /** The text inside the wrapper (Docker's trailing newline removed). */
  readonly inner: string;
  /** The runtime split this line; the next record of the same kind continues it. */
  readonly partial: boolean;
}

function peelDocker(json: JsonParse | null): Peeled | null {
  if (json === null || !json.ok || !isPlainObject(json.value)) return null;
  const { log, stream, time } = json.value;
  if (typeof log !== 'string' || (typeof stream !== 'string' && typeof time !== 'string')) return null;
  const partial = !log.endsWith('\n');
  const inner = partial ? log : log.slice(0, log.endsWith('\r\n') ? -2 : -1);
  return { kind: 'docker-json', inner, partial };
}

function peelTimestamp(line: string): Peeled | null {
  const c = line.charCodeAt(0);
  if (c < 48 || c > 57) return null;
  const m = matchTime(ISO_TIME, line, 0);
  if (m === null || line.charCodeAt(m.end) !== 32) return null;
  const rest = line.slice(m.end + 1);
  if ((rest.startsWith('stdout ') || rest.startsWith('stderr ')) && (rest[7] === 'F' || rest[7] === 'P')
    && (rest.length === 8 || rest[8] === ' ')) {
    return { kind: 'cri', inner: rest.slice(9), partial: rest[7] === 'P' };
  }
  return { kind: 'timestamp', inner: rest, partial: false };
}

function isServiceNameChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95;
}

function peelCompose(line: string): Peeled | null {
  let q = 0;
  while (q < line.length && q < 256 && isServiceNameChar(line.charCodeAt(q))) q++;
  if (q === 0) return null;
  while (q < line.length && line.charCodeAt(q) === 32) q++;
  if (line[q] !== '|') return null;
  q++;
  if (line[q] === ' ') q++;
  return { kind: 'compose', inner: line.slice(q), partial: false };
}

/**
 * Peels the outermost wrapper off `line`, or returns null when there is none. `json` is the line
 * already run through `JSON.parse` when it starts with `{` (so it is parsed once), else null.
 */
export function peelWrapper(line: string, json: JsonParse | null): Peeled | null {
  if (json !== null) return peelDocker(json);
  return peelTimestamp(line) ?? peelCompose(line);
}

/** Whether `line` looks like a record of wrapper `kind` (to decide if it can continue a partial one). */
export function looksLikeWrapper(line: string, kind: WrapperKind): boolean {
  if (kind === 'docker-json') return line.startsWith('{') && line.includes('"log"');
  if (kind === 'cri') return peelTimestamp(line)?.kind === 'cri';
  return false;
}
