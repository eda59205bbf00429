/**
 * Wall time of the discrete-event step simulation (desStep, op costs excluded) for every bundled
 * scenario. Target (issue 3): llama3-405b on 16,384 GPUs (PP16, interleaved, 16 micro-batches)
 * under 200 ms.
 *
 * Run directly: npx tsx bench/step.ts
 */
import { pathToFileURL } from 'node:url';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario, packageRoot } from '../src/io/load.js';
import { stepCosts } from '../src/step/costs.js';
import { desStep } from '../src/step/des.js';
import { resolvePlan, type Scenario } from '../src/plan/resolve.js';
import { estimateMemory } from '../src/plan/memory.js';
import { analyticStep } from '../src/step/analytic.js';
import type { Plan } from '../src/schema/plan.js';

export interface StepBenchRow {
  name: string;
  /** Median wall time of one step simulation, seconds. */
  seconds: number;
  events: number;
  ops: number;
}

/** Times desStep on each bundled scenario: median of `repeats` runs after two warm-up runs. */
export function benchStep(repeats = 5): StepBenchRow[] {
  const dir = join(packageRoot, 'scenarios');
  const rows: StepBenchRow[] = [];
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const sc = loadScenario(join(dir, file));
    const costs = stepCosts(sc);
    desStep(sc, costs);
    desStep(sc, costs);
    const times: number[] = [];
    let events = 0;
    let ops = 0;
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      const r = desStep(sc, costs);
      times.push((performance.now() - t0) / 1000);
      events = r.detail.events;
      ops = r.detail.ops.length;
    }
    times.sort((a, b) => a - b);
    const p = sc.plan;
    rows.push({
      name: `step DES: ${sc.name} (${sc.cluster.gpus.toLocaleString('en-US')} GPUs, pp ${p.pp}${p.vpp > 1 ? ` vpp ${p.vpp}` : ''}, ${p.numMicroBatches} micro-batches)`,
      seconds: times[Math.floor(times.length / 2)],
      events,
      ops,
    });
  }
  return rows;
}

export interface SweepBenchRow {
  name: string;
  candidates: number;
  feasibleLayouts: number;
  seconds: number;
  candidatesPerSecond: number;
}

/**
 * The closed-form path a layout search takes (resolvePlan -> estimateMemory -> stepCosts ->
 * analyticStep) over a grid of llama3-405b layouts on its 16,384 GPUs: tp x cp x pp x vpp x
 * microBatch x recompute x zeroStage. Candidates that fail resolvePlan count too (a search meets them).
 */
export function benchSweep(repeats = 7): SweepBenchRow {
  const sc = loadScenario(join(packageRoot, 'scenarios', 'llama3-405b.yaml'));
  const base = sc.plan;
  const grid: Plan[] = [];
  for (const tp of [1, 2, 4, 8])
    for (const cp of [1, 2, 4])
      for (const pp of [1, 2, 4, 8, 16, 32])
        for (const vpp of [1, 2, 4])
          for (const microBatch of [1, 2])
            for (const recompute of ['none', 'selective', 'full'] as const)
              for (const zeroStage of [1, 3]) {
                grid.push({ ...base, globalBatch: { sequences: base.globalBatchSequences }, dp: undefined, tp, cp, pp, vpp, microBatch, recompute, zeroStage, schedule: vpp > 1 ? 'interleaved-1f1b' : '1f1b', layersPerStage: 'auto' } as unknown as Plan);
              }
  let feasible = 0;
  const once = () => {
    feasible = 0;
    for (const p of grid) {
      const r = resolvePlan(p, sc.model, sc.cluster.gpus);
      if (!r.plan) continue;
      feasible++;
      const cand: Scenario = { ...sc, plan: r.plan };
      estimateMemory(sc.model, r.plan, sc.gpu);
      analyticStep(cand, stepCosts(cand));
    }
  };
  for (let i = 0; i < 3; i++) once();
  // CPU time of this process (user + system): the machine is shared, and wall time measures the neighbours.
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const c0 = process.cpuUsage();
    once();
    const c = process.cpuUsage(c0);
    times.push((c.user + c.system) / 1e6);
  }
  times.sort((a, b) => a - b);
  const seconds = times[Math.floor(times.length / 2)];
  return { name: `closed-form sweep (CPU time): llama3-405b, ${grid.length} candidates`, candidates: grid.length, feasibleLayouts: feasible, seconds, candidatesPerSecond: grid.length / seconds };
}

function main(): void {
  const sw = benchSweep();
  console.log(`${sw.name}: ${sw.feasibleLayouts} resolve, ${(sw.seconds * 1000).toFixed(0)} ms, ${Math.round(sw.candidatesPerSecond).toLocaleString('en-US')} candidates/s (${Math.round(sw.feasibleLayouts / sw.seconds).toLocaleString('en-US')} evaluated/s)`);
  if (process.argv.includes('--sweep')) return;
  for (const r of benchStep()) {
    console.log(`${r.name}: ${(r.seconds * 1000).toFixed(1)} ms, ${r.events.toLocaleString('en-US')} events, ${r.ops.toLocaleString('en-US')} ops`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
