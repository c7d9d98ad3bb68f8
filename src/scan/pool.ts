import { Worker } from 'node:worker_threads';
import { failedRow } from './row.js';
import type { TaskMessage, WorkerMessage } from './serve.js';
import type { ScanTask } from './task.js';
import type { CaptureRow } from './types.js';

/** How to start a worker thread: the compiled `worker.js` beside this file unless told otherwise (tests run it from sources). */
export interface WorkerSpec {
  readonly url: URL;
  readonly workerData?: unknown;
}

export function defaultWorkerSpec(): WorkerSpec {
  return { url: new URL('./worker.js', import.meta.url) };
}

export interface PoolHooks {
  /** A task's row, in completion order (the caller restores path order). */
  onRow(index: number, row: CaptureRow): void;
  /** Raw bytes read so far of a task still running. */
  onProgress?(index: number, bytes: number): void;
}

/**
 * Runs tasks on `jobs` worker threads, each taking the next task when it finishes one. A worker
 * that dies (an uncaught error, running out of memory, exiting) costs only the task it held:
 * that task's row reports `worker-crashed`, a new worker takes its place, and the scan goes on.
 */
export function runPool(tasks: readonly ScanTask[], jobs: number, spec: WorkerSpec, hooks: PoolHooks): Promise<void> {
  return new Promise((resolve) => {
    if (tasks.length === 0) { resolve(); return; }
    let next = 0;
    let done = 0;
    const complete = (index: number, row: CaptureRow) => {
      hooks.onRow(index, row);
      if (++done === tasks.length) resolve();
    };
    const start = () => {
      const worker = new Worker(spec.url, spec.workerData === undefined ? {} : { workerData: spec.workerData });
      let current: number | null = null;
      let over = false;
      const give = () => {
        if (next >= tasks.length) {
          over = true;
          void worker.terminate();
          return;
        }
        current = next++;
        const m: TaskMessage = { type: 'task', id: current, task: tasks[current]! };
        worker.postMessage(m);
      };
      worker.on('message', (m: WorkerMessage) => {
        if (m.id !== current) return;
        if (m.type === 'progress') hooks.onProgress?.(m.id, m.bytes);
        else {
          current = null;
          complete(m.id, m.row);
          give();
        }
      });
      const died = (why: string) => {
        if (over) return;
        over = true;
        if (current !== null) {
          const t = tasks[current]!;
          const index = current;
          current = null;
          complete(index, failedRow(t.path, t.bytes, 'worker-crashed', `the worker analysing it died: ${why}`, t.files));
        }
        if (next < tasks.length) start();
      };
      worker.on('error', (e) => died(e.message));
      worker.on('exit', (code) => died(`it exited with code ${code}`));
      give();
    };
    for (let i = 0; i < Math.min(Math.max(1, jobs), tasks.length); i++) start();
  });
}
