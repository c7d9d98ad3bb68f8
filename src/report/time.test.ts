import { describe, expect, it } from 'vitest';
import { fmtDuration, isoToMicros, microsToIso, msToIso, timeOfDay } from './time.js';

describe('report times', () => {
  it('reads ISO times to µs, keeping µs digits and dropping finer ones', () => {
    expect(isoToMicros('2024-05-01T10:00:00.123456789Z')).toBe(Date.UTC(2024, 4, 1, 10) * 1000 + 123456);
    expect(isoToMicros('2024-05-01T10:00:00Z')).toBe(Date.UTC(2024, 4, 1, 10) * 1000);
    expect(isoToMicros('2024-05-01 10:00:00')).toBeNull();
    expect(isoToMicros(null)).toBeNull();
    expect(microsToIso(Date.UTC(2024, 4, 1, 10) * 1000 + 42)).toBe('2024-05-01T10:00:00.000042Z');
  });

  it('never throws on a time outside Date\'s range (a damaged capture or log)', () => {
    expect(microsToIso(4294967295 * 1e12)).toMatch(/µs since the epoch$/);
    expect(msToIso(1e20)).toMatch(/ms since the epoch$/);
    expect(microsToIso(Number.NaN)).toMatch(/since the epoch/);
  });

  it('formats durations for people, from µs to minutes', () => {
    expect([900, 58.04, 7.005, 0.0123, 0.00005, -2].map(fmtDuration)).toEqual(['900 s', '58.0 s', '7.005 s', '12.3 ms', '50 µs', '−2.000 s']);
    expect(timeOfDay('2024-05-01T10:00:00.123456Z')).toBe('10:00:00.123456');
  });
});
