import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../analysis/analyze.js';
import type { Connection } from '../flows/index.js';
import { renderFlowsTable } from './flows-table.js';
import { LAB } from './testing/real.js';

async function connections(scenario: string): Promise<Connection[]> {
  const out: Connection[] = [];
  await analyzeCapture(join(LAB, scenario, 'client-any.pcap'), { onConnection: (c) => out.push(c) });
  return out.sort((a, b) => a.id - b.id);
}

/** Every escape sequence whole: ESC [ digits m, nothing cut off either side. */
const BROKEN_ESCAPE = /\x1b(?!\[\d+m)|(?<!\x1b)\[\d+m/;

describe('the flows table', () => {
  it('gives each connection one line with its IPv6 addresses whole, whatever their length', async () => {
    const conns = await connections('rst-after-idle-v6');
    const lines = renderFlowsTable(conns, false).trimEnd().split('\n');
    expect(lines).toHaveLength(conns.length + 1);
    conns.forEach((c, k) => {
      expect(lines[k + 1]).toContain(`${c.client} → ${c.server}`);
      expect(lines[k + 1]).toMatch(new RegExp(`^${c.id} `));
      expect(lines[k + 1]).toContain(` ${c.history} `);
    });
    // Columns line up: each row's state starts where the header's does.
    const at = lines[0]!.indexOf('state');
    for (const l of lines.slice(1)) expect(l.slice(at, at + 4)).toMatch(/^(RSTR|SF  |RSTO|S0  |REJ )/);
  });

  it('colours whole cells only: no escape code is split or counted as width', async () => {
    const conns = await connections('busy');
    const plain = renderFlowsTable(conns, false);
    const coloured = renderFlowsTable(conns, true);
    expect(coloured).toMatch(/\x1b\[33mRSTR\x1b\[39m/);
    expect(coloured).not.toMatch(BROKEN_ESCAPE);
    // Without its escapes the coloured table is the plain one, character for character.
    expect(coloured.replace(/\x1b\[\d+m/g, '')).toBe(plain);
  });
});
