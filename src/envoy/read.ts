/**
 * Tells Envoy admin outputs apart by their content (never by file name): a JSON config dump
 * (`configs[]` with typed sections), a JSON array of clusters (istioctl proxy-config cluster -o
 * json). Anything else is an error naming what was expected.
 */
import { configFromJson, parseJson, type EnvoyConfig } from './config.js';
import { EnvoyInputError } from './errors.js';

export type EnvoyInput = { readonly kind: 'config'; readonly config: EnvoyConfig };

export function readEnvoyText(text: string, file: string): EnvoyInput {
  const start = text.search(/\S/);
  if (start < 0) throw new EnvoyInputError(file, null, null, 'empty input');
  const c = text[start];
  if (c === '{' || c === '[') {
    const doc = parseJson(text, file);
    const config = configFromJson(doc, file);
    if (config) return { kind: 'config', config };
    throw new EnvoyInputError(file, 1, start, 'JSON that is neither an Envoy config dump (an object with "configs": [...]) nor a list of clusters (istioctl proxy-config cluster -o json)');
  }
  const line = text.slice(0, start).split('\n').length;
  throw new EnvoyInputError(file, line, Buffer.byteLength(text.slice(0, start)), 'not Envoy admin output flowdoc reads: expected a /config_dump or istioctl proxy-config … -o json document');
}
