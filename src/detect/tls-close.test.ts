import { describe, expect, it } from 'vitest';
import { analyzeBytes } from '../../test/support/analyze.js';
import { clientHello } from '../fuzz/seeds.js';
import { computeRemedies } from '../report/index.js';
import { CaptureScript, type TcpConversation } from '../writer/index.js';

const START = '2024-05-01T10:00:00Z';

/** A TLS record of `type` whose body is `len` opaque bytes (encrypted, as on the wire). */
function record(type: number, len: number): Uint8Array {
  return Uint8Array.from([type, 3, 3, len >> 8, len & 0xff, ...new Array<number>(len).fill(0x5a)]);
}
const ALERT_TLS12 = record(21, 26); // close_notify under AES-GCM: 8-byte nonce + 2 + 16-byte tag = 31 bytes on the wire
const ALERT_TLS13 = record(23, 19); // TLS 1.3 hides it as application data: 2 + inner type + 16-byte tag
const REQUEST = record(23, 180); // an encrypted HTTP request

/** A TLS session that did one exchange; then the server closes it after `serverIdle` seconds. */
function tlsSession(cap: CaptureScript, serverIdle: number): { c: TcpConversation; fin: number } {
  const c = cap.tcp({ client: '10.0.0.1:51607', server: '10.9.9.9:443', serverTtl: 64 });
  c.handshake();
  c.clientSends(clientHello('api.example'));
  c.serverSends(record(22, 1200));
  c.clientSends(REQUEST);
  c.serverSends(record(23, 377));
  cap.idle(serverIdle);
  const [fin] = c.fin('server');
  return { c, fin: fin! };
}

describe('a TLS alert after the server\'s FIN', () => {
  it.each([
    ['a TLS 1.2 Alert record (close_notify)', ALERT_TLS12],
    ['a TLS 1.3 encrypted alert (one 19-byte application_data record)', ALERT_TLS13],
    ['two alerts in one segment', Uint8Array.from([...ALERT_TLS12, ...ALERT_TLS12])],
  ])('is the end of the session, not a request on a closed connection: %s', async (_name, alert) => {
    const cap = new CaptureScript({ start: START });
    const { c } = tlsSession(cap, 0.00002);
    cap.idle(0.0001);
    c.clientSends(alert, { ack: false });
    c.rst('server', { ttl: 64 });
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents).toEqual([]);
  });

  it('still finds reuse-after-fin when the client sends a request record after the FIN', async () => {
    const cap = new CaptureScript({ start: START });
    const { c, fin } = tlsSession(cap, 4);
    cap.idle(0.5);
    const [req] = c.clientSends(REQUEST, { ack: false });
    const [rst] = c.rst('server', { ttl: 64 });
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents.map((i) => [i.kind, i.frames.serverFin, i.frames.request, i.frames.rst])).toEqual([['reuse-after-fin', fin, req, rst]]);
  });

  it('a request that begins with an alert and goes on with data is still a request', async () => {
    const cap = new CaptureScript({ start: START });
    const { c } = tlsSession(cap, 4);
    cap.idle(0.5);
    c.clientSends(Uint8Array.from([...ALERT_TLS12, ...REQUEST]), { ack: false });
    c.rst('server', { ttl: 64 });
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents.map((i) => i.kind)).toEqual(['reuse-after-fin']);
  });
});

describe('the fix when the server closes at once', () => {
  it('asks to raise the server\'s keep-alive timeout instead of a client idle timeout of "?" s', async () => {
    const cap = new CaptureScript({ start: START });
    const { c } = tlsSession(cap, 0.00002);
    cap.idle(0.0001);
    c.clientSends(REQUEST, { ack: false });
    c.rst('server', { ttl: 64 });
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents.map((i) => i.kind)).toEqual(['reuse-after-fin']);
    const [rem] = computeRemedies(r);
    expect(rem!.headline).not.toMatch(/\?/);
    expect(rem!.headline).toMatch(/: raise the server's keep-alive timeout: it closed an idle connection after \d+ µs, too soon/);
  });
});
