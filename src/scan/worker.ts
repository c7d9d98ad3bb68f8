/** Entry point of a scan worker thread: analyses the captures the main thread hands it. */
import { parentPort } from 'node:worker_threads';
import { serveTasks } from './serve.js';

if (parentPort) serveTasks(parentPort);
