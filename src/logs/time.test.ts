import { describe, expect, it } from 'vitest';
import { compileTimeFormat, ISO_TIME, matchTime, parseIsoTimestamp, type TimeFormat } from './time.js';

function compiled(fmt: string): TimeFormat {
  const tf = compileTimeFormat(fmt);
  if (tf === null) throw new Error(`does not compile: ${fmt}`);
  return tf;
}

describe('START_TIME parsing', () => {
  it('reads Envoy’s default rendering to the millisecond, UTC', () => {
    // Istio access-log task page line (anchors §1.8 #4).
    expect(parseIsoTimestamp('2020-11-25T21:26:18.409Z')).toBe(1606339578409);
  });

  it('reads an ISO time with an offset, and one without as UTC', () => {
    expect(parseIsoTimestamp('2024-07-20T09:05:54.173+02:00')).toBe(1721459154173);
    expect(parseIsoTimestamp('2024-07-20T09:05:54.173+0200')).toBe(1721459154173);
    expect(parseIsoTimestamp('2024-07-20T07:05:54.173')).toBe(1721459154173);
  });

  it('keeps milliseconds from a nanosecond fraction (CRI timestamps)', () => {
    expect(parseIsoTimestamp('2020-11-22T20:04:54.223002528Z')).toBe(1606075494223);
  });

  it('rejects impossible dates and trailing text', () => {
    expect(parseIsoTimestamp('2020-02-30T00:00:00Z')).toBeNull();
    expect(parseIsoTimestamp('2020-13-01T00:00:00Z')).toBeNull();
    expect(parseIsoTimestamp('2020-11-25T21:26:18.409Z junk')).toBeNull();
    expect(parseIsoTimestamp('-')).toBeNull();
  });

  it('reads a custom format with spaces and stops where the timestamp ends', () => {
    const tf = compiled('%Y/%m/%d %H:%M:%S');
    const m = matchTime(tf, '2020/11/25 21:26:18 "GET /', 0);
    expect(m).toEqual({ end: 19, ms: 1606339578000 });
  });

  it('reads %s epoch seconds, and leaves %3f its digits in %s%3f', () => {
    expect(matchTime(compiled('%s'), '1606339578 x', 0)).toEqual({ end: 10, ms: 1606339578000 });
    expect(matchTime(compiled('%s%3f'), '1606339578409 x', 0)).toEqual({ end: 13, ms: 1606339578409 });
    expect(matchTime(compiled('%s.%6f'), '1606339578.409123]', 0)).toEqual({ end: 17, ms: 1606339578409 });
  });

  it('reads %3f, %6f and %9f fractions', () => {
    const base = '%Y-%m-%dT%H:%M:%S.';
    expect(matchTime(compiled(base + '%3f'), '2020-11-25T21:26:18.409', 0)?.ms).toBe(1606339578409);
    expect(matchTime(compiled(base + '%6f'), '2020-11-25T21:26:18.409777', 0)?.ms).toBe(1606339578409);
    expect(matchTime(compiled(base + '%9f'), '2020-11-25T21:26:18.409777888', 0)?.ms).toBe(1606339578409);
    expect(matchTime(compiled(base + '%9f'), '2020-11-25T21:26:18.409', 0)).toBeNull();
  });

  it('reads month names, %z offsets, %E3S and %T', () => {
    expect(matchTime(compiled('%d/%b/%Y:%H:%M:%S %z'), '25/Nov/2020:22:26:18 +0100', 0)?.ms).toBe(1606339578000);
    expect(matchTime(compiled('%FT%T.%3fZ'), '2020-11-25T21:26:18.409Z', 0)?.ms).toBe(1606339578409);
    expect(matchTime(compiled('%Y-%m-%dT%H:%M:%E3SZ'), '2020-11-25T21:26:18.409Z', 0)?.ms).toBe(1606339578409);
  });

  it('gives no instant for a time of day without a date', () => {
    expect(matchTime(compiled('%H:%M:%S'), '21:26:18', 0)).toEqual({ end: 8, ms: null });
  });

  it('does not compile specifiers it cannot read back', () => {
    expect(compileTimeFormat('%c')).toBeNull();
    expect(compileTimeFormat('%Q')).toBeNull();
    expect(compileTimeFormat('')).toBeNull();
  });

  it('matches the ISO rendering at an offset inside a line', () => {
    expect(matchTime(ISO_TIME, '[2020-11-25T21:26:18.409Z] "GET', 1)).toEqual({ end: 25, ms: 1606339578409 });
  });
});
