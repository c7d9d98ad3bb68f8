import { describe, expect, it } from 'vitest';
import { formatEndpoint, parseEndpoint, parseIp } from './address.js';

describe('addresses', () => {
  it('parses dotted IPv4', () => {
    expect(parseIp('10.0.0.1')).toEqual({ family: 4, bytes: Uint8Array.of(10, 0, 0, 1), text: '10.0.0.1' });
  });

  it('parses compressed IPv6', () => {
    const ip = parseIp('2001:db8::1');
    expect(ip.family).toBe(6);
    expect([...ip.bytes]).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect([...parseIp('::').bytes]).toEqual(new Array(16).fill(0));
    expect([...parseIp('fe80::1:2').bytes.subarray(12)]).toEqual([0, 1, 0, 2]);
  });

  it('parses IPv4-mapped IPv6 with a dotted tail', () => {
    expect([...parseIp('::ffff:192.0.2.7').bytes]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7]);
  });

  it('rejects what is not an address', () => {
    for (const bad of ['10.0.0', '10.0.0.256', '1::2::3', '12345::', 'host', '1:2:3:4:5:6:7:8:9']) expect(() => parseIp(bad)).toThrow(/not an IPv4 or IPv6/);
  });

  it('parses ip:port and [ipv6]:port endpoints and formats them back', () => {
    const v4 = parseEndpoint('10.0.0.1:40000');
    expect(v4.port).toBe(40000);
    expect(formatEndpoint(v4)).toBe('10.0.0.1:40000');
    const v6 = parseEndpoint('[2001:db8::1]:443');
    expect(v6.ip.family).toBe(6);
    expect(formatEndpoint(v6)).toBe('[2001:db8::1]:443');
  });

  it('rejects endpoints without a port, with a port above 65535, or IPv6 without brackets', () => {
    expect(() => parseEndpoint('10.0.0.1')).toThrow(/not an endpoint/);
    expect(() => parseEndpoint('10.0.0.1:70000')).toThrow(/port out of range/);
    expect(() => parseEndpoint('2001:db8::1:443')).toThrow(/not an endpoint/);
    expect(() => parseEndpoint('[10.0.0.1]:80')).toThrow(/brackets are for IPv6/);
  });
});
