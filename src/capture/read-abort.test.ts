import { getEventListeners } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CaptureScript } from '../writer/index.js';
import { nextOrAbort, readCapture } from './read.js';

/*
 * `flowdoc watch` reads with an abort signal (SIGINT ends the stream) for as long as it runs. Before,
 * every read raced one long-lived "stopped" promise: each race hung a reaction on it holding that
 * chunk, so the whole stream stayed in memory (the soak's RSS grew ~300 MiB per hour of capture
 * time). These pin down the replacement: one listener per wait, gone when the chunk comes.
 */

function iteratorOf<T>(values: T[]): AsyncIterator<T> {
  let n = 0;
  return { next: () => Promise.resolve(n < values.length ? { done: false, value: values[n++]! } : { done: true, value: undefined }) };
}

describe('reading a live stream with a stop signal', () => {
  it('hands on every chunk in order and leaves no listener on the signal between chunks', async () => {
    const signal = new AbortController().signal;
    const it = iteratorOf(['a', 'b', 'c']);
    const seen: string[] = [];
    for (;;) {
      const r = await nextOrAbort(it, signal);
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
      if (r === null || r.done) break;
      seen.push(r.value);
    }
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('ends a wait that no chunk would ever end as soon as the signal aborts', async () => {
    const stop = new AbortController();
    const never: AsyncIterator<string> = { next: () => new Promise(() => {}) };
    const waiting = nextOrAbort(never, stop.signal);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(1);
    stop.abort();
    expect(await waiting).toBeNull();
    expect(await nextOrAbort(never, stop.signal)).toBeNull();
  });

  it('passes a read error on and lets go of the signal', async () => {
    const signal = new AbortController().signal;
    const failing: AsyncIterator<string> = { next: () => Promise.reject(new Error('EIO')) };
    await expect(nextOrAbort(failing, signal)).rejects.toThrow('EIO');
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('reads a whole capture from a stream under a signal and leaves nothing attached to it', async () => {
    const cap = new CaptureScript({ start: '2024-01-01T00:00:00Z' });
    for (let i = 0; i < 50; i++) {
      const c = cap.tcp({ client: `10.0.0.${1 + i}:40000`, server: '10.0.1.1:80' });
      c.handshake();
      c.clientSends('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      c.fin('client');
    }
    const bytes = cap.toPcap();
    const stdin = new PassThrough();
    // Small chunks: many reads, as a live pipe gives them.
    for (let at = 0; at < bytes.length; at += 512) stdin.write(bytes.subarray(at, at + 512));
    stdin.end();
    const signal = new AbortController().signal;
    let packets = 0;
    const summary = await readCapture('-', () => { packets++; }, { stdin, signal });
    expect(summary.error).toBeNull();
    expect(packets).toBe(cap.frames.length);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});
