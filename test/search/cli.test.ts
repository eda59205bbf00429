/** The search, merge, size and scaling commands: the JSON keys the issue names, sharding through files, bad flags. */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
// In-process: the same parse, commands and rendering as bin/clusterplan, without a process per
// call (a spawn proves nothing more here; test/cli/bin.test.ts spawns the built binary).
import { cli } from '../cli/in-process.js';

describe('search and merge commands', () => {
  it('print the issue’s JSON keys, and shards merged through files equal the single run byte for byte', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clusterplan-search-'));
    const base = ['search', 'scenarios/tiny.yaml', '--json', '--no-timing', '--trials', '3', '--top', '3'];
    const single = await cli(base);
    expect(single.status).toBe(0);
    const j = JSON.parse(single.stdout);
    expect(Object.keys(j.candidates)).toEqual(expect.arrayContaining(['enumerated', 'pruned', 'evaluated']));
    expect(j).toHaveProperty('seconds', null);
    expect(Object.keys(j.top[0].plan).sort()).toEqual(['cp', 'dp', 'ep', 'etp', 'microBatch', 'pp', 'precision', 'recompute', 'schedule', 'tp', 'vpp', 'zeroStage']);
    expect(Object.keys(j.top[0].results).sort()).toEqual(['costUsd', 'expectedDays', 'gpuHours', 'idealDays', 'memoryPerGpuBytes', 'mfu', 'p90Days', 'stepSeconds']);
    expect(typeof j.top[0].why).toBe('string');
    const files: string[] = [];
    for (const i of [0, 1]) {
      const r = await cli([...base, '--shard', `${i}/2`]);
      expect(r.status).toBe(0);
      const f = join(dir, `s${i}.json`);
      writeFileSync(f, r.stdout);
      files.push(f);
    }
    const merged = await cli(['merge', ...files]);
    expect(merged.status).toBe(0);
    expect(merged.stdout).toBe(single.stdout);
  }, 120_000);

  it('--global-batch adds plan.globalBatch (sequences) to each plan, the batches searched, and a CSV column', async () => {
    const r = await cli(['search', 'scenarios/tiny.yaml', '--json', '--no-timing', '--trials', '2', '--top', '3', '--global-batch', '4..16']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.globalBatches).toEqual([4, 8, 16]);
    for (const e of j.top) expect([4, 8, 16]).toContain(e.plan.globalBatch);
    const csv = await cli(['search', 'scenarios/tiny.yaml', '--csv', '--trials', '2', '--top', '3', '--global-batch', '8,16']);
    expect(csv.stdout.split('\n')[0]).toMatch(/,precision,globalBatch,stepSeconds,/);
  }, 60_000);

  it('refuse bad flags with one line and exit code 2', async () => {
    for (const [args, pattern] of [
      [['search', 'scenarios/tiny.yaml', '--fix', 'warp=9'], /^error: --fix: expects key=value/],
      [['search', 'scenarios/tiny.yaml', '--shard', '3/2'], /^error: --shard: expects i\/n/],
      [['search', 'scenarios/tiny.yaml', '--global-batch', '4..2'], /^error: --global-batch: expects A..B with A ≤ B/],
      [['search', 'scenarios/tiny.yaml', '--global-batch', '8k'], /^error: --global-batch: expects a global batch in sequences/],
      [['size', 'scenarios/tiny.yaml'], /^error: --deadline: give exactly one of --deadline/],
      [['scaling', '--compute', 'lots'], /^error: --compute: expects FLOPs/],
    ] as const) {
      const r = await cli([...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    }
  }, 120_000);
});
