/** The search, merge, size and scaling commands: the JSON keys the issue names, sharding through files, bad flags. */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';

const root = resolve(__dirname, '../..');
function cli(args: string[]) {
  // bin/clusterplan runs the built bundle (npm test builds first), or the sources when dist/ is stale.
  const r = spawnSync(join(root, 'bin', 'clusterplan'), args, { cwd: root, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('search and merge commands', () => {
  it('print the issue’s JSON keys, and shards merged through files equal the single run byte for byte', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clusterplan-search-'));
    const base = ['search', 'scenarios/tiny.yaml', '--json', '--no-timing', '--trials', '3', '--top', '3'];
    const single = cli(base);
    expect(single.status).toBe(0);
    const j = JSON.parse(single.stdout);
    expect(Object.keys(j.candidates)).toEqual(expect.arrayContaining(['enumerated', 'pruned', 'evaluated']));
    expect(j).toHaveProperty('seconds', null);
    expect(Object.keys(j.top[0].plan).sort()).toEqual(['cp', 'dp', 'ep', 'etp', 'microBatch', 'pp', 'precision', 'recompute', 'schedule', 'tp', 'vpp', 'zeroStage']);
    expect(Object.keys(j.top[0].results).sort()).toEqual(['costUsd', 'expectedDays', 'gpuHours', 'idealDays', 'memoryPerGpuBytes', 'mfu', 'p90Days', 'stepSeconds']);
    expect(typeof j.top[0].why).toBe('string');
    const files = [0, 1].map((i) => {
      const r = cli([...base, '--shard', `${i}/2`]);
      expect(r.status).toBe(0);
      const f = join(dir, `s${i}.json`);
      writeFileSync(f, r.stdout);
      return f;
    });
    const merged = cli(['merge', ...files]);
    expect(merged.status).toBe(0);
    expect(merged.stdout).toBe(single.stdout);
  }, 120_000);

  it('refuse bad flags with one line and exit code 2', () => {
    for (const [args, pattern] of [
      [['search', 'scenarios/tiny.yaml', '--fix', 'warp=9'], /^error: --fix: expects key=value/],
      [['search', 'scenarios/tiny.yaml', '--shard', '3/2'], /^error: --shard: expects i\/n/],
      [['size', 'scenarios/tiny.yaml'], /^error: --deadline: give exactly one of --deadline/],
      [['scaling', '--compute', 'lots'], /^error: --compute: expects FLOPs/],
    ] as const) {
      const r = cli([...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    }
  }, 120_000);
});
