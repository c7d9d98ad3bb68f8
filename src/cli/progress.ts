import type { Io } from './io.js';
import { formatBytes } from '../shared/format.js';

export { formatBytes };

/**
 * A one-line progress meter on stderr, drawn only when stderr is a terminal and at most ~10
 * times a second; silent otherwise so pipes and CI logs stay clean.
 */
export class Progress {
  private lastDraw = 0;
  private drawn = false;
  private readonly started = Date.now();

  constructor(private readonly io: Io, private readonly label: string, private readonly totalBytes: number | null) {}

  get enabled(): boolean {
    return this.io.stderrIsTty;
  }

  update(bytes: number, extra = ''): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const secs = Math.max((now - this.started) / 1000, 0.001);
    const rate = bytes / secs;
    let line = `${this.label}: ${formatBytes(bytes)}`;
    if (this.totalBytes) {
      const pct = Math.min(100, (bytes / this.totalBytes) * 100);
      const eta = rate > 0 ? (this.totalBytes - bytes) / rate : 0;
      line += ` / ${formatBytes(this.totalBytes)} (${pct.toFixed(0)}%), ${formatBytes(rate)}/s, ETA ${eta.toFixed(0)} s`;
    } else {
      line += `, ${formatBytes(rate)}/s`;
    }
    if (extra) line += `, ${extra}`;
    this.io.stderr(`\r\x1b[2K${line}`);
    this.drawn = true;
  }

  done(): void {
    if (this.drawn) this.io.stderr('\r\x1b[2K');
    this.drawn = false;
  }
}

