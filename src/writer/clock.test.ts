import { describe, expect, it } from 'vitest';
import { parseTime } from './clock.js';

describe('script time', () => {
  it('reads ISO 8601 with a Z zone as µs since the epoch', () => {
    expect(parseTime('2024-05-01T10:00:00Z')).toEqual({ micros: 1_714_557_600_000_000, nanos: 0 });
  });

  it('keeps all nine fractional digits that Date.parse would drop', () => {
    expect(parseTime('2024-05-01T10:00:00.123456789Z')).toEqual({ micros: 1_714_557_600_123_456, nanos: 789 });
    expect(parseTime('2024-05-01T10:00:00.5Z')).toEqual({ micros: 1_714_557_600_500_000, nanos: 0 });
  });

  it('honours a numeric zone offset', () => {
    expect(parseTime('2024-05-01T12:00:00+02:00').micros).toBe(1_714_557_600_000_000);
  });

  it('takes a number as µs since the epoch', () => {
    expect(parseTime(1_714_557_600_000_001)).toEqual({ micros: 1_714_557_600_000_001, nanos: 0 });
  });

  it('rejects times without a zone, or nonsense', () => {
    expect(() => parseTime('2024-05-01T10:00:00')).toThrow(/with a zone/);
    expect(() => parseTime('yesterday')).toThrow(/ISO 8601/);
    expect(() => parseTime(Number.NaN)).toThrow(/not a time/);
  });
});
