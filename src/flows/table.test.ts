import { describe, expect, it } from 'vitest';
import { connectionsOf } from '../../test/support/analyze.js';
import { CaptureScript, sniExtension, tlsClientHello } from '../writer/index.js';

const clientHello = (sni: string): Uint8Array => tlsClientHello({ extensions: [sniExtension(sni)] });

const START = '2024-05-01T10:00:00Z';
const GET = (path: string, id?: string) => `GET ${path} HTTP/1.1\r\nHost: api.internal\r\nUser-Agent: test/1.0\r\n${id ? `x-request-id: ${id}\r\n` : ''}\r\n`;
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

describe('the connection table', () => {
  it('rebuilds an orderly connection: SF, Zeek history, counters, frames of the handshake', async () => {
    const cap = new CaptureScript({ start: START });
    const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80', serverTtl: 61 });
    c.handshake();
    c.clientSends(GET('/a'));
    c.serverSends(OK);
    c.fin('client');
    c.fin('server');
    const { connections } = await connectionsOf(cap.toPcap());
    expect(connections).toHaveLength(1);
    const k = connections[0]!;
    expect(k).toMatchObject({
      client: '10.0.0.1:40000', server: '10.0.0.2:80', state: 'SF', partial: false, roleSource: 'syn',
      synFrame: 1, synAckFrame: 2, endReason: 'closed', ipVersion: 4,
    });
    expect(k.history).toBe('ShADadFf');
    expect(k.clientStats.ttl).toBe(64);
    expect(k.serverStats.ttl).toBe(61);
    expect(k.clientStats.payloadBytes).toBe(GET('/a').length);
    expect(k.serverStats.payloadBytes).toBe(OK.length);
    expect(k.clientStats.firstFin).not.toBeNull();
    expect(k.app.map((m) => m.kind)).toEqual(['http-request', 'http-response']);
    expect(k.app[0]).toMatchObject({ method: 'GET', path: '/a', host: 'api.internal', userAgent: 'test/1.0', frame: 4 });
  });

  it('labels a rejected connection attempt REJ and an unanswered one S0', async () => {
    const cap = new CaptureScript({ start: START });
    const rej = cap.tcp({ client: '10.0.0.1:40001', server: '10.0.0.2:81' });
    rej.syn();
    rej.rst('server', { ack: true });
    const s0 = cap.tcp({ client: '10.0.0.1:40002', server: '10.0.0.2:82' });
    s0.syn();
    const { connections } = await connectionsOf(cap.toPcap());
    expect(connections.map((k) => k.state)).toEqual(['REJ', 'S0']);
  });

  it('counts keepalive probes and their ACKs per side, with Wireshark\'s rule', async () => {
    const cap = new CaptureScript({ start: START });
    const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80' });
    c.handshake();
    c.clientSends(GET('/a'));
    c.serverSends(OK);
    for (let i = 0; i < 5; i++) {
      cap.idle(60);
      c.keepalive('client', { ack: true });
    }
    const { connections } = await connectionsOf(cap.toPcap());
    const k = connections[0]!;
    expect(k.clientStats.keepaliveProbes).toBe(5);
    expect(k.serverStats.keepaliveAcks).toBe(5);
    expect(k.clientStats.keepaliveIdleSeconds).toBeCloseTo(60, 3);
    expect(k.clientStats.retransmissions).toBe(0);
    expect(k.history).toContain('K');
  });

  it('keeps every idle gap at least the threshold, and the longest gap with the frame before it', async () => {
    const cap = new CaptureScript({ start: START });
    const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80' });
    c.handshake();
    c.clientSends(GET('/a'));
    const [, last] = c.serverSends(OK);
    cap.idle(30);
    c.clientSends(GET('/b'));
    c.serverSends(OK);
    cap.idle(5);
    c.clientSends(GET('/c'));
    const { connections } = await connectionsOf(cap.toPcap(), { idleThresholdSeconds: 10 });
    const k = connections[0]!;
    expect(k.idleGaps).toHaveLength(1);
    expect(k.idleGaps[0]).toMatchObject({ fromFrame: last, endedBy: 'client', clientProbes: 0 });
    expect(k.idleGaps[0]!.seconds).toBeCloseTo(30, 3);
    expect(k.maxIdleSeconds).toBeCloseTo(30, 3);
    expect(k.maxIdleAfterFrame).toBe(last);
    expect(k.longestSurvivedIdle?.seconds).toBeCloseTo(30, 3);
  });

  it('starts a new connection when a SYN with a new ISN reuses a closed tuple (port reuse)', async () => {
    const cap = new CaptureScript({ start: START });
    const a = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80', clientIsn: 1000 });
    a.handshake();
    a.fin('client');
    a.fin('server');
    cap.idle(2);
    const b = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80', clientIsn: 900_000 });
    b.handshake();
    b.clientSends(GET('/again'));
    const { connections } = await connectionsOf(cap.toPcap());
    expect(connections.map((k) => [k.state, k.synFrame])).toEqual([['SF', 1], ['S1', 8]]);
  });

  it('treats a retransmitted SYN as the same connection', async () => {
    const cap = new CaptureScript({ start: START });
    const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80', clientIsn: 5 });
    c.segment('client', { flags: 'S', seq: 5, delivered: false });
    cap.idle(1);
    c.handshake();
    const { connections } = await connectionsOf(cap.toPcap());
    expect(connections).toHaveLength(1);
  });

  it('marks a connection whose handshake was not captured partial and guesses roles by port', async () => {
    const cap = new CaptureScript({ start: START });
    const c = cap.tcp({ client: '10.0.0.1:51234', server: '10.0.0.2:443' });
    c.serverSends('x'.repeat(100)); // the server speaks first in the capture
    c.clientSends('y'.repeat(10));
    const { connections } = await connectionsOf(cap.toPcap());
    expect(connections[0]).toMatchObject({ client: '10.0.0.1:51234', server: '10.0.0.2:443', partial: true, roleSource: 'port-heuristic', state: 'OTH' });
    expect(connections[0]!.history.startsWith('^')).toBe(true);
  });

  it('counts retransmissions and segments missing from the capture', async () => {
    const cap = new CaptureScript({ start: START });
    const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80' });
    c.handshake();
    c.clientSends('a'.repeat(100), { ack: false });
    c.retransmit('client');
    c.clientSends('b'.repeat(100), { captured: false });
    c.clientSends('c'.repeat(100));
    const { connections } = await connectionsOf(cap.toPcap());
    const k = connections[0]!;
    expect(k.clientStats.retransmissions).toBe(1);
    expect(k.clientStats.segmentsNotCaptured).toBe(1);
    expect(k.history).toContain('T');
    expect(k.history).toContain('G');
    expect(k.anomalyCounts['previous-segment-not-captured']).toBe(1);
  });

  it('records zero windows', async () => {
    const cap = new CaptureScript({ start: START });
    const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80' });
    c.handshake();
    c.ack('server', { window: 0 });
    const { connections } = await connectionsOf(cap.toPcap());
    expect(connections[0]!.serverStats.zeroWindows).toBe(1);
    expect(connections[0]!.history).toContain('w');
  });

  it('parses an HTTP request split over segments and pipelined requests in one segment', async () => {
    const cap = new CaptureScript({ start: START });
    const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80' });
    c.handshake();
    const split = GET('/split', 'id-1');
    c.clientSends(split, { segmentSize: 9 });
    c.clientSends('POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /q HTTP/1.1\r\nx-request-id: id-2\r\n\r\n');
    const { connections } = await connectionsOf(cap.toPcap());
    const reqs = connections[0]!.app.filter((m) => m.kind === 'http-request');
    expect(reqs.map((m) => [m.method, m.path, m.requestId])).toEqual([['GET', '/split', 'id-1'], ['POST', '/p', undefined], ['GET', '/q', 'id-2']]);
    expect(reqs[0]!.frame).toBe(4); // where the request started
  });

  it('reads the SNI of a TLS ClientHello and notices encrypted application data', async () => {
    const cap = new CaptureScript({ start: START });
    const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:443' });
    c.handshake();
    c.clientSends(clientHello('api.example.com'));
    c.serverSends(new Uint8Array([0x16, 0x03, 0x03, 0x00, 0x02, 0x02, 0x00]));
    c.clientSends(new Uint8Array([0x17, 0x03, 0x03, 0x00, 0x03, 1, 2, 3]));
    const { connections } = await connectionsOf(cap.toPcap());
    expect(connections[0]!.sni).toBe('api.example.com');
    expect(connections[0]!.app.map((m) => m.kind)).toEqual(['tls-client-hello', 'tls-application-data']);
  });

  it('keeps one connection per tuple whatever the VLAN of each direction (routed SPAN captures)', async () => {
    const cap = new CaptureScript({ start: START });
    const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80' });
    c.syn({ link: { vlans: [{ id: 81 }] } });
    c.synAck({ link: { vlans: [{ id: 80 }] } });
    const { connections } = await connectionsOf(cap.toPcap());
    expect(connections).toHaveLength(1);
    expect(connections[0]!.vlan).toEqual([81]);
  });

  it('skips the second copy of a packet an -i any capture saw on two interfaces', async () => {
    const cap = new CaptureScript({ start: START, stepMicros: 10 });
    const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80' });
    c.syn({ link: { ifIndex: 3 } });
    // the same SYN again on the bridge: same bytes, another interface
    const dup = cap.frames[0]!;
    cap.nonIp(dup.ethertype, dup.payload, { ...dup.link, ifIndex: 4 });
    c.synAck({ link: { ifIndex: 3 } });
    const { connections, result } = await connectionsOf(cap.toPcap({ linkType: 276 }));
    expect(connections).toHaveLength(1);
    expect(result.summary.duplicatesSkipped).toBe(1);
    expect(connections[0]!.clientStats.packets).toBe(1);
  });

  it('evicts the longest-idle connections past --max-connections and says how many', async () => {
    const cap = new CaptureScript({ start: START });
    for (let i = 0; i < 30; i++) {
      const c = cap.tcp({ client: `10.0.1.${i}:40000`, server: '10.0.0.2:80' });
      c.handshake();
    }
    const { connections, result } = await connectionsOf(cap.toPcap(), { maxConnections: 10 });
    expect(connections).toHaveLength(30);
    expect(result.summary.evicted).toBeGreaterThan(0);
    expect(connections.filter((k) => k.endReason === 'evicted')).toHaveLength(result.summary.evicted);
    expect(result.summary.peakLiveConnections).toBeLessThanOrEqual(11);
    expect(result.warnings.join()).toMatch(/evicted/);
  });

  it('hands closed connections on after the linger so memory holds only live ones', async () => {
    const cap = new CaptureScript({ start: START });
    for (let i = 0; i < 20; i++) {
      const c = cap.tcp({ client: `10.0.1.${i}:40000`, server: '10.0.0.2:80' });
      c.handshake();
      c.fin('client');
      c.fin('server');
      cap.idle(11);
    }
    const { result } = await connectionsOf(cap.toPcap());
    expect(result.summary.connections).toBe(20);
    expect(result.summary.peakLiveConnections).toBeLessThanOrEqual(2);
  });
});

