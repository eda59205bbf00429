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

function main(): void {
  for (const r of benchStep()) {
    console.log(`${r.name}: ${(r.seconds * 1000).toFixed(1)} ms, ${r.events.toLocaleString('en-US')} events, ${r.ops.toLocaleString('en-US')} ops`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
