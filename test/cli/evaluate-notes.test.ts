import { describe, it, expect } from 'vitest';
import { cli } from './in-process.js';

// Issue 14: evaluate's summary hid "the spare pool ran empty in 100 % of trials" (it was only in
// --json), so a goodput near zero printed with no reason beside it.
describe('evaluate prints what the failure Monte Carlo noticed', () => {
  it('an empty spare pool is a Note line under the Failures line, as in --json', async () => {
    const args = ['evaluate', 'scenarios/mixtral-8x22b.yaml', '--set', 'cluster.spareNodes=0'];
    const text = await cli(args);
    expect(text.status).toBe(0);
    const json = JSON.parse((await cli([...args, '--json'])).stdout) as { failures: { notes: string[] } };
    const spare = json.failures.notes.find((n) => n.startsWith('the spare pool (0 nodes) ran empty'));
    expect(spare).toBeDefined();
    const lines = text.stdout.split('\n');
    const failuresAt = lines.findIndex((l) => l.startsWith('Failures '));
    expect(failuresAt).toBeGreaterThanOrEqual(0);
    expect(lines.slice(failuresAt)).toContain(`Note     failures: ${spare}`);
  });
});
