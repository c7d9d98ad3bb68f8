/**
 * Tells Envoy admin outputs apart by their content (never by file name): a JSON config dump
 * (`configs[]` with typed sections), a JSON array of clusters (istioctl proxy-config cluster -o
 * json), `/stats` and `/clusters` in text or JSON. Anything else is an error naming what was expected.
 */
import { configFromJson, parseJson, type EnvoyConfig } from './config.js';
import { clustersFromJson, clustersFromText, countersJsonKind, countersKind, statsFromJson, statsFromText, type CounterSnapshot, type Obj } from './counters.js';
import { EnvoyInputError } from './errors.js';

export type EnvoyInput =
  | { readonly kind: 'config'; readonly config: EnvoyConfig }
  | { readonly kind: 'counters'; readonly snapshot: CounterSnapshot };

const EXPECTED = 'expected a /config_dump or istioctl proxy-config … -o json document, /stats (text or ?format=json) or /clusters (text or ?format=json)';

export function readEnvoyText(text: string, file: string): EnvoyInput {
  const start = text.search(/\S/);
  if (start < 0) throw new EnvoyInputError(file, null, null, 'empty input');
  const c = text[start];
  if (c === '{' || c === '[') {
    const doc = parseJson(text, file);
    const counters = countersJsonKind(doc);
    if (counters === 'stats') return { kind: 'counters', snapshot: statsFromJson(doc as Obj, text, file) };
    if (counters === 'clusters') return { kind: 'counters', snapshot: clustersFromJson(doc as Obj, text, file) };
    const config = configFromJson(doc, file);
    if (config) return { kind: 'config', config };
    throw new EnvoyInputError(file, 1, start, `JSON that is not Envoy admin output flowdoc reads: ${EXPECTED}`);
  }
  const lineEnd = text.indexOf('\n', start);
  const first = text.slice(start, lineEnd < 0 ? text.length : lineEnd).replace(/\r$/, '');
  const kind = countersKind(first);
  if (kind === 'stats') return { kind: 'counters', snapshot: statsFromText(text, file) };
  if (kind === 'clusters') return { kind: 'counters', snapshot: clustersFromText(text, file) };
  const line = text.slice(0, start).split('\n').length;
  const byte = Buffer.byteLength(text.slice(0, start));
  if (kind === 'prometheus') throw new EnvoyInputError(file, line, byte, 'Prometheus exposition (/stats/prometheus) is not read: fetch /stats or /stats?format=json');
  throw new EnvoyInputError(file, line, byte, `not Envoy admin output flowdoc reads: ${EXPECTED}`);
}
