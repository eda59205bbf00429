/**
 * Issue 14 item 5, "scenarios that catch mistakes": every bad-input case of the list exits
 * with code 2 and prints one `error:` line per problem (all layout problems at once, not the first
 * and a count); `gpus: auto` fills in a fixed layout's GPU count; small powers print in kW; the node and fabric in effect are printed with where they came from.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { cli } from '../cli/in-process.js';
import { packageRoot, loadScenario } from '../../src/io/load.js';

const tiny = join(packageRoot, 'scenarios', 'tiny.yaml');
const errorLines = (stderr: string) => stderr.trimEnd().split('\n');

describe('bad input from issue 14: exit 2, one line per problem', () => {
  it.each([
    ['a duration without a unit', ['evaluate', tiny, '--set', 'training.checkpointInterval=30'], [/training\.checkpointInterval: 30 has no unit/]],
    ['a capacity without a unit', ['evaluate', tiny, '--set', 'cluster.gpu={"name":"x","peakFlops":{"bf16":"989 TFLOP/s"},"hbm":{"capacity":80,"bandwidth":"3.35 TB/s"}}'], [/cluster\.gpu/]],
    ['a horizon without a unit', ['failures', tiny, '--horizon', '54'], [/--horizon: "54" has no unit/]],
    [
      'three layout problems, all listed',
      ['evaluate', tiny, '--set', 'plan.tp=3'],
      [/plan\.tp: tp \(3\) must divide heads \(4\)$/, /plan\.tp: tp \(3\) must divide kvHeads \(4\)/, /plan\.dp: tp\(3\)·cp\(1\)·pp\(2\)·dp\(2\) = 12 ≠ 8 GPUs$/],
    ],
    [
      'three schema problems in one file, all listed (one line per field)',
      ['evaluate', tiny, '--set', 'cluster.pue=x', '--set', 'plan.microBatch=-1', '--set', 'training.checkpointInterval=30'],
      [/cluster\.pue: expected a number, got "x"$/, /plan\.microBatch: must be at least 1, got -1$/, /training\.checkpointInterval: 30 has no unit/],
    ],
    ['gpus: auto without a fixed dp', ['evaluate', tiny, '--set', 'cluster.gpus=auto', '--set', 'plan.dp=auto'], [/cluster\.gpus: gpus: auto needs a fixed layout: give plan\.dp/]],
    ['no sequence length anywhere', ['evaluate', tiny, '--set', 'model={"layers":4,"hidden":256,"ffnHidden":1024,"heads":4,"vocab":1000,"ffnType":"swiglu"}', '--set', 'plan.seqLen=null'], [/plan\.seqLen/]],
  ])('%s', async (_name, args, patterns) => {
    const r = await cli(args as string[]);
    expect(r.status).toBe(2);
    const lines = errorLines(r.stderr);
    expect(lines.length).toBeGreaterThanOrEqual(patterns.length);
    for (const line of lines) expect(line).toMatch(/^error: /);
    patterns.forEach((p, i) => expect(lines[i]).toMatch(p));
    if (patterns.length > 1) expect(lines).toHaveLength(patterns.length);
  });
});

describe('scenarios that fill in and say', () => {
  it('gpus: auto with a fixed layout: tp·cp·pp·dp', async () => {
    const r = await cli(['evaluate', tiny, '--json', '--set', 'cluster.gpus=auto', '--set', 'plan.dp=4', '--set', 'plan.globalBatch=16']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).layout.gpus).toBe(2 * 2 * 4);
  });
  it('a small cluster prints kW, never 0.0 MW; the node and fabric in effect are named', async () => {
    const r = await cli(['evaluate', tiny, '--engine', 'analytic']);
    expect(r.stdout).toMatch(/ at \d+\.\d kW · /);
    expect(r.stdout).not.toMatch(/0\.0 MW/);
    expect(r.stdout).toMatch(/^System {3}node dgx-h100 · 8 GPUs per node · fabric dgx-superpod-h100-ndr$/m);
  });
  it("a node and fabric taken from the GPU profile's defaults say so", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clusterplan-defaults-'));
    const file = join(dir, 'no-node.yaml');
    writeFileSync(file, readFileSync(tiny, 'utf8').replace(/^ {2}(node|fabric):.*$/gm, ''));
    const r = await cli(['evaluate', file, '--engine', 'analytic']);
    rmSync(dir, { recursive: true, force: true });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/cluster\.node \S+ \(bundled, the cluster\.gpu defaultNode\)/);
    expect(r.stdout).toMatch(/cluster\.fabric \S+ \(bundled, the cluster\.gpu defaultFabric\)/);
  });
  it('--gpus scales the global batch (per-replica batch kept) and the spare pool, and says so; --set values are kept', async () => {
    const file = join(packageRoot, 'scenarios', 'llama3-70b.yaml');
    const base = loadScenario(file);
    const big = loadScenario(file, { gpus: 4 * base.cluster.gpus });
    expect(big.plan.globalBatchSequences).toBe(4 * base.plan.globalBatchSequences);
    expect(big.plan.numMicroBatches).toBe(base.plan.numMicroBatches);
    expect(big.cluster.spareNodes).toBe(Math.ceil(4 * base.cluster.spareNodes));
    expect(big.notes?.[0]).toMatch(/^--gpus 4,096 \(the file has 1,024\): dp re-derived; global batch scaled ×4 to [\d,]+ sequences \(batch per DP replica kept\); spare nodes \d+ → \d+ \(scaled, rounded up\)$/);
    const kept = loadScenario(file, { gpus: 4 * base.cluster.gpus, sets: ['plan.globalBatch.sequences=1024', 'cluster.spareNodes=3'] });
    expect([kept.plan.globalBatchSequences, kept.cluster.spareNodes]).toEqual([1024, 3]);
  });
});

describe('--set reaches into a list: a programme stage by index or by name', () => {
  const programme = join(packageRoot, 'scenarios', 'llama3-405b-programme.yaml');
  it("sets one stage by index and another by name; the other stages' plans and steps are untouched", async () => {
    const base = await cli(['evaluate', programme, '--json']);
    const r = await cli(['evaluate', programme, '--json', '--set', 'stages.0.tokens=1B', '--set', 'stages.anneal.tokens=80M']);
    expect(r.status).toBe(0);
    const before = JSON.parse(base.stdout).stages;
    const after = JSON.parse(r.stdout).stages;
    expect(after[0].stage.tokens).toBe(1e9);
    expect(after.find((s: { stage: { name: string } }) => s.stage.name === 'anneal').stage.tokens).toBe(80e6);
    expect(before[0].stage.tokens).toBe(252e6);
    // Stage 1's step is untouched (its failures share one timeline with stage 0, so they move).
    expect(after[1].step).toEqual(before[1].step);
    expect(after[1].stage).toEqual(before[1].stage);
  });
  it('an index out of range or an unknown name is a clear error naming the list', async () => {
    const r = await cli(['evaluate', programme, '--set', 'stages.99.tokens=1B']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^error: --set: cannot set "stages\.99\.tokens=1B": stages has no entry "99" \(an index 0–12 or an entry's name\)/);
    const n = await cli(['evaluate', programme, '--set', 'stages.nope.tokens=1B']);
    expect(n.stderr).toMatch(/stages has no entry "nope"/);
  });
});
