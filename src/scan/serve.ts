import type { MessagePort } from 'node:worker_threads';
import type { CaptureRow } from './types.js';
import { runTask, type RunTaskOptions, type ScanTask } from './task.js';

/** Main thread → worker. */
export interface TaskMessage {
  readonly type: 'task';
  readonly id: number;
  readonly task: ScanTask;
}

/** Worker → main thread: bytes read so far of the task, or its finished row. */
export type WorkerMessage =
  | { readonly type: 'progress'; readonly id: number; readonly bytes: number }
  | { readonly type: 'row'; readonly id: number; readonly row: CaptureRow };

/** Progress messages per task at most this often. */
const PROGRESS_EVERY_MS = 200;

/**
 * The worker's loop: one task at a time, a row back for each (never an exception: `runTask`
 * turns a failed analysis into an error row), progress in between.
 */
export function serveTasks(port: MessagePort | { on(e: 'message', f: (m: TaskMessage) => void): void; postMessage(m: WorkerMessage): void }, options: Pick<RunTaskOptions, 'analyze'> = {}): void {
  port.on('message', (m: TaskMessage) => {
    if (m.type !== 'task') return;
    let last = 0;
    const onProgress = (bytes: number) => {
      const now = Date.now();
      if (now - last < PROGRESS_EVERY_MS) return;
      last = now;
      port.postMessage({ type: 'progress', id: m.id, bytes });
    };
    void runTask(m.task, { ...options, onProgress }).then((row) => port.postMessage({ type: 'row', id: m.id, row }));
  });
}
