import { describe, expect, it } from 'vitest';
import type { ScriptFrame } from './frame.js';
import { CaptureScript } from './script.js';

/** The TCP/IP fields of a scripted frame, read back at fixed offsets (conversations add no IP options). */
function tcp(f: ScriptFrame) {
  const p = f.payload;
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const version = p[0] >> 4;
  const t = version === 4 ? (p[0] & 0x0f) * 4 : 40;
  const dataOffset = (p[t + 12] >> 4) * 4;
  const flagBits = p[t + 13];
  return {
    version,
    ttl: version === 4 ? p[8] : p[7],
    ipId: version === 4 ? dv.getUint16(4) : 0,
    srcPort: dv.getUint16(t),
    dstPort: dv.getUint16(t + 2),
    seq: dv.getUint32(t + 4),
    ack: dv.getUint32(t + 8),
    flags: [...'FSRPAUEC'].filter((_, i) => flagBits & (1 << i)).join(''),
    window: dv.getUint16(t + 14),
    options: p.subarray(t + 20, t + dataOffset),
    payload: new TextDecoder().decode(p.subarray(t + dataOffset)),
  };
}

/** TSval/TSecr of a segment carrying NOP NOP TS (or the SYN layout MSS SACK-OK TS …). */
function timestamps(options: Uint8Array): [number, number] {
  for (let i = 0; i < options.length; ) {
    if (options[i] === 8) {
      const dv = new DataView(options.buffer, options.byteOffset + i + 2, 8);
      return [dv.getUint32(0), dv.getUint32(4)];
    }
    i += options[i] <= 1 ? 1 : options[i + 1];
  }
  throw new Error('no timestamps option');
}

function setup(extra: { clientTtl?: number; serverTtl?: number } = {}) {
  const cap = new CaptureScript({ start: '2024-05-01T10:00:00Z' });
  const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80', clientIsn: 1000, serverIsn: 5000, ...extra });
  const at = (n: number) => tcp(cap.frames[n - 1]);
  return { cap, c, at };
}

const REQUEST = 'GET /a HTTP/1.1\r\nHost: api\r\nx-request-id: r1\r\n\r\n';

describe('TcpConversation bookkeeping', () => {
  it('opens with SYN, SYN-ACK, ACK, the SYN taking one sequence number', () => {
    const { c, at } = setup();
    expect(c.handshake()).toEqual([1, 2, 3]);
    expect(at(1)).toMatchObject({ flags: 'S', seq: 1000, ack: 0, srcPort: 40000, dstPort: 80 });
    expect(at(2)).toMatchObject({ flags: 'SA', seq: 5000, ack: 1001, srcPort: 80, dstPort: 40000 });
    expect(at(3)).toMatchObject({ flags: 'A', seq: 1001, ack: 5001 });
  });

  it('offers Linux SYN options: MSS 1460, SACK-permitted, timestamps, NOP, window scale 7', () => {
    const { c, at } = setup();
    c.handshake();
    const o = at(1).options;
    expect([...o.subarray(0, 6)]).toEqual([2, 4, 0x05, 0xb4, 4, 2]);
    expect([...o.subarray(16)]).toEqual([1, 3, 3, 7]);
    expect(at(1).window).toBe(64240);
    expect(at(2).window).toBe(65160);
    // After the handshake the window field is scaled down by 2^7.
    expect(at(3).window).toBe(Math.floor(64240 / 128));
  });

  it('advances seq by the data sent and has the peer acknowledge exactly what it received', () => {
    const { c, at } = setup();
    c.handshake();
    expect(c.clientSends(REQUEST)).toEqual([4, 5]);
    expect(at(4)).toMatchObject({ flags: 'PA', seq: 1001, ack: 5001, payload: REQUEST });
    expect(at(5)).toMatchObject({ flags: 'A', seq: 5001, ack: 1001 + REQUEST.length });
    expect(c.serverSends('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')).toEqual([6, 7]);
    expect(at(6)).toMatchObject({ flags: 'PA', seq: 5001, ack: 1001 + REQUEST.length });
    expect(at(7).ack).toBe(5001 + 38);
    expect(c.nextSeq('client')).toBe(1001 + REQUEST.length);
    expect(c.ackNumber('server')).toBe(1001 + REQUEST.length);
  });

  it('splits data into MSS-sized segments with PSH only on the last', () => {
    const { c, at } = setup();
    c.handshake();
    expect(c.serverSends('x'.repeat(3000))).toEqual([4, 5, 6, 7]);
    expect([at(4), at(5), at(6)].map((s) => [s.flags, s.seq, s.payload.length])).toEqual([
      ['A', 5001, 1460],
      ['A', 6461, 1460],
      ['PA', 7921, 80],
    ]);
    expect(at(7)).toMatchObject({ flags: 'A', ack: 8001 });
  });

  it('closes in order: each FIN takes one sequence number and is acknowledged', () => {
    const { c, at } = setup();
    c.handshake();
    expect(c.fin('server')).toEqual([4, 5]);
    expect(c.fin('client')).toEqual([6, 7]);
    expect(at(4)).toMatchObject({ flags: 'FA', seq: 5001, ack: 1001 });
    expect(at(5)).toMatchObject({ flags: 'A', seq: 1001, ack: 5002 });
    expect(at(6)).toMatchObject({ flags: 'FA', seq: 1001, ack: 5002 });
    expect(at(7)).toMatchObject({ flags: 'A', seq: 5002, ack: 1002 });
  });

  it('sends a keepalive probe at next − 1 without data, answered by an ACK of next', () => {
    const { c, at } = setup();
    c.handshake();
    c.clientSends(REQUEST);
    expect(c.keepalive('client')).toEqual([6, 7]);
    const next = 1001 + REQUEST.length;
    expect(at(6)).toMatchObject({ flags: 'A', seq: next - 1, payload: '' });
    expect(at(7)).toMatchObject({ flags: 'A', ack: next });
    // The probe moves nothing.
    expect(c.nextSeq('client')).toBe(next);
  });

  it('sends a Windows-style keepalive with one garbage byte, and none answered when the peer is gone', () => {
    const { c, at } = setup();
    c.handshake();
    expect(c.keepalive('server', { withByte: true, ack: false })).toEqual([4]);
    expect(at(4)).toMatchObject({ seq: 5000, payload: '\0' });
    expect(c.ackNumber('client')).toBe(5001);
  });

  it('emits no ACK with ack: false, and retransmits the unacknowledged segment unchanged', () => {
    const { c, at } = setup();
    c.handshake();
    expect(c.clientSends('GET /b HTTP/1.1\r\n\r\n', { ack: false })).toEqual([4]);
    expect(c.retransmit('client')).toEqual([5]);
    expect(c.retransmit('client', { ack: true })).toEqual([6, 7]);
    for (const n of [5, 6]) expect(at(n)).toMatchObject({ flags: 'PA', seq: 1001, payload: 'GET /b HTTP/1.1\r\n\r\n' });
    expect(at(7).ack).toBe(1001 + 19);
    expect(() => c.retransmit('client')).toThrow(/no unacknowledged data/);
  });

  it('sends a RST from the server address with a forged TTL at the server next sequence number', () => {
    const { c, at } = setup({ serverTtl: 61 });
    c.handshake();
    c.clientSends(REQUEST, { ack: false });
    expect(c.rst('server', { ttl: 250 })).toEqual([5]);
    expect(at(5)).toMatchObject({ flags: 'R', seq: 5001, ack: 0, ttl: 250, srcPort: 80, window: 0 });
    expect(at(5).options.length).toBe(0);
    expect(c.rst('client', { ack: true })).toEqual([6]);
    expect(at(6)).toMatchObject({ flags: 'RA', seq: 1001 + REQUEST.length, ack: 5001, ttl: 64 });
  });

  it('uses each direction its own TTL, with per-packet overrides', () => {
    const { c, at } = setup({ clientTtl: 64, serverTtl: 61 });
    c.handshake();
    c.clientSends('a', { ttl: 3 });
    expect([1, 2, 3, 4, 5].map((n) => at(n).ttl)).toEqual([64, 61, 64, 3, 61]);
  });

  it('defaults both TTLs to 64 and counts IP ids up per direction', () => {
    const { c, at } = setup();
    c.handshake();
    expect([at(1).ttl, at(2).ttl]).toEqual([64, 64]);
    expect(at(3).ipId).toBe((at(1).ipId + 1) & 0xffff);
  });

  it('echoes the peer TSval as TSecr', () => {
    const { c, at } = setup();
    c.handshake();
    const [synAckVal] = timestamps(at(2).options);
    const [synVal] = timestamps(at(1).options);
    expect(timestamps(at(2).options)[1]).toBe(synVal);
    expect(timestamps(at(3).options)[1]).toBe(synAckVal);
    expect(at(3).options.length).toBe(12);
  });

  it('leaves options out when timestamps, SACK and window scaling are off', () => {
    const cap = new CaptureScript();
    const c = cap.tcp({ client: '10.0.0.1:1', server: '10.0.0.2:2', tcpOptions: { timestamps: false, sackPermitted: false, wscale: null, mss: 536 } });
    c.handshake();
    expect([...tcp(cap.frames[0]).options]).toEqual([2, 4, 2, 24]);
    expect(tcp(cap.frames[2]).options.length).toBe(0);
    expect(tcp(cap.frames[2]).window).toBe(64240);
  });

  it('speaks IPv6 between [v6]:port endpoints with the hop limit as TTL and MSS 1440', () => {
    const cap = new CaptureScript();
    const c = cap.tcp({ client: '[2001:db8::1]:40000', server: '[2001:db8::2]:443', serverTtl: 58 });
    c.handshake();
    const syn = tcp(cap.frames[0]);
    expect(syn.version).toBe(6);
    expect([...syn.options.subarray(0, 4)]).toEqual([2, 4, 0x05, 0xa0]);
    expect(tcp(cap.frames[1]).ttl).toBe(58);
    expect(c.endpoint('server')).toBe('[2001:db8::2]:443');
  });

  it('refuses a client and server of different IP families', () => {
    expect(() => new CaptureScript().tcp({ client: '10.0.0.1:1', server: '[::1]:2' })).toThrow(/different IP families/);
  });
});

describe('TcpConversation odd cases', () => {
  it('behaves as a partial connection without a handshake: data starts at ISN + 1', () => {
    const { c, at } = setup();
    expect(c.serverSends('late')).toEqual([1, 2]);
    expect(at(1)).toMatchObject({ seq: 5001, ack: 1001 });
  });

  it('advertises a zero window after setWindow(side, 0), or for one segment', () => {
    const { c, at } = setup();
    c.handshake();
    c.setWindow('client', 0);
    c.serverSends('a');
    expect(at(5).window).toBe(0);
    c.ack('server', { window: 7 });
    expect(at(6).window).toBe(7);
  });

  it('leaves a gap when a segment was not captured, while the peer still acknowledges it', () => {
    const { c, at } = setup();
    c.handshake();
    expect(c.clientSends('lost-', { captured: false, ack: false })).toEqual([]);
    expect(c.clientSends('seen')).toEqual([4, 5]);
    expect(at(4).seq).toBe(1006);
    expect(at(5).ack).toBe(1010);
  });

  it('holds out-of-order data until the hole is filled, then acknowledges past both', () => {
    const { c, at } = setup();
    c.handshake();
    c.segment('client', { flags: 'PA', seq: 1006, payload: 'world' });
    c.ack('server');
    expect(at(5).ack).toBe(1001);
    c.segment('client', { flags: 'PA', seq: 1001, payload: 'hello' });
    c.ack('server');
    expect(at(7).ack).toBe(1011);
  });

  it('sends duplicate ACKs for a segment lost after the vantage point, until it is retransmitted', () => {
    const { c, at } = setup();
    c.handshake();
    c.clientSends('lost', { delivered: false });
    expect(at(5).ack).toBe(1001);
    c.retransmit('client', { ack: true });
    expect(at(7).ack).toBe(1005);
  });

  it('emits exactly the raw segment asked for, with options, urgent pointer and a wrong checksum', () => {
    const { c, at, cap } = setup();
    expect(c.segment('client', { flags: 'SE', seq: 7, options: [{ kind: 'mss', value: 1200 }], checksum: 0x1234, ttl: 9, urgent: 0, window: 1 })).toEqual([1]);
    expect(at(1)).toMatchObject({ flags: 'SE', seq: 7, ack: 0, ttl: 9, window: 1 });
    const p = cap.frames[0].payload;
    expect((p[36] << 8) | p[37]).toBe(0x1234);
    // A raw SYN restarts the client's sequence space.
    expect(c.isn('client')).toBe(7);
    expect(c.nextSeq('client')).toBe(8);
  });

  it('reuses a port pair with a new ISN as a new conversation', () => {
    const cap = new CaptureScript();
    cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80', clientIsn: 1 }).handshake();
    const again = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80', clientIsn: 900_000 });
    expect(again.syn()).toEqual([4]);
    expect(tcp(cap.frames[3])).toMatchObject({ flags: 'S', seq: 900_000, srcPort: 40000 });
  });

  it('wraps sequence numbers modulo 2^32', () => {
    const { cap } = setup();
    const c = cap.tcp({ client: '10.0.0.1:1', server: '10.0.0.2:2', clientIsn: 0xfffffffe, serverIsn: 1 });
    c.handshake();
    c.clientSends('abcd');
    expect(tcp(cap.frames[3]).seq).toBe(0xffffffff);
    expect(tcp(cap.frames[4]).ack).toBe(3);
  });

  it('puts conversation-wide link details (VLAN tags) on every frame, overridable per call', () => {
    const cap = new CaptureScript();
    const c = cap.tcp({ client: '10.0.0.1:1', server: '10.0.0.2:2', link: { vlans: [{ id: 42 }] } });
    c.syn();
    c.synAck({ link: { vlans: [] } });
    expect(cap.frames[0].link?.vlans).toEqual([{ id: 42 }]);
    expect(cap.frames[1].link?.vlans).toEqual([]);
  });
});
