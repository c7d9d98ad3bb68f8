/**
 * Real inputs for the report tests, when this machine has them: the nDPI corpus capture with
 * four real stale-reuse RSTs (in ../shared beside the repository) and the lab's captures with
 * their Istio logs (`captures/<scenario>/`, produced by `lab/run.sh`).
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is src/report/testing/real.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const RTSP = resolve(REPO_ROOT, '../shared/corpus/real/nDPI/tests/cfgs/default/pcap/rtsp.pcap');
export const HAVE_RTSP = existsSync(RTSP);
export const LAB = resolve(REPO_ROOT, 'captures');

/** Lab scenarios with a client capture and both sidecars' logs. */
export function labScenarios(): { name: string; pcap: string; logs: { hop: string; file: string }[] }[] {
  if (!existsSync(LAB)) return [];
  return readdirSync(LAB, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => resolve(LAB, d.name))
    .filter((dir) => ['client-any.pcap', 'client.log', 'server.log'].every((f) => existsSync(resolve(dir, f))))
    .map((dir) => ({
      name: dir.slice(LAB.length + 1),
      pcap: resolve(dir, 'client-any.pcap'),
      logs: [{ hop: 'client-sidecar', file: resolve(dir, 'client.log') }, { hop: 'server-sidecar', file: resolve(dir, 'server.log') }],
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** A note on stderr when a test group is skipped for want of an input. */
export function skipNote(what: string, why: string): void {
  console.warn(`[flowdoc report tests] skipping ${what}: ${why}`);
}
