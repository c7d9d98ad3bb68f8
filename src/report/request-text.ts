/**
 * How a request reads in sentences and tables when the capture's snap length may have cut it:
 * one wording for the incident summaries and every report format.
 */
import type { Truncation } from '../flows/index.js';

/**
 * `GET /api/items/4`; cut by the snap length: `GET /api/v1/items/w1/4…` (the path is a prefix),
 * `GET /api/items/4 …` (cut after the path), `GET (path not captured)`.
 */
export function httpRequestText(method: string | undefined, path: string | undefined, truncated: Truncation | undefined): string {
  const m = method ?? '?';
  if (!truncated) return `${m} ${path ?? ''}`.trim();
  if (path === undefined || path === '?' || path === '') return `${m} (path not captured)`;
  return truncated.cutIn === 'path' || truncated.cutIn === ':path' ? `${m} ${path}…` : `${m} ${path} …`;
}

/** `cut by the snap length: 30 of 167 payload bytes captured`. */
export function truncationText(t: Truncation): string {
  return `cut by the snap length: ${t.capturedBytes} of ${t.wireBytes} payload bytes captured`;
}
