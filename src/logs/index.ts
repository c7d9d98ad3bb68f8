export type { LogEntry } from './entry.js';
