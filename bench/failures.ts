/**
 * Monte Carlo failure budgeting of the llama3-405b scenario: trials per second of the run
 * engine in this thread (whole token budget, ~70 days and ~600 interruptions per trial), and the
 * wall time of 10,000 trials on worker threads (target: under 5 s on a 2-core machine), and the
 * cost per interruption at a hostile 1.13 failures per GPU-hour with nodes out for a day, over a
 * short and an 8x longer window (issue 11: the ratio stays near 1 when cost is linear).
 *
 * Run directly: npx tsx bench/failures.ts
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { loadScenario, packageRoot } from '../src/io/load.js';
import { FailureProfileSchema } from '../src/schema/failures.js';
import { evaluate } from '../src/run/evaluate.js';
import { runInputsFromScenario } from '../src/run/inputs.js';
import { simulateRun } from '../src/run/monte-carlo.js';
import { simulateRunParallel } from '../src/run/parallel.js';

export interface FailureBenchResult {
  name: string;
  /** In-process trials per second (warm). */
  trialsPerSecond: number;
  trials: number;
  seconds: number;
  /** 10,000 trials on `workers` threads, including worker start-up. */
  parallel: { trials: number; workers: number; seconds: number; trialsPerSecond: number };
  /** Mean interruptions per trial (the work each trial does). */
  interruptionsPerTrial: number;
  /** 1.13 failures per GPU-hour: microseconds per interruption over 0.5 h and 4 h windows, and their ratio. */
  highRate: { shortMicroseconds: number; longMicroseconds: number; ratio: number };
}

/** Times the failure engine on scenarios/llama3-405b.yaml. */
export async function benchFailures(trials = 4000, parallelTrials = 10_000, workers = Math.min(2, availableParallelism())): Promise<FailureBenchResult> {
  const sc = loadScenario(join(packageRoot, 'scenarios', 'llama3-405b.yaml'));
  const inputs = runInputsFromScenario(sc, evaluate(sc));
  simulateRun(inputs, { trials: 500, seed: 'warm-up' });
  const t0 = performance.now();
  const s = simulateRun(inputs, { trials, seed: 1 });
  const seconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await simulateRunParallel(inputs, { trials: parallelTrials, seed: 1, workers });
  const pSeconds = (performance.now() - t1) / 1000;
  const hostile = {
    ...inputs,
    failures: FailureProfileSchema.parse({
      name: 'hostile',
      components: [{ name: 'GPU', rate: 1.13, per: 'gpu-hour', scope: 'gpu', detect: '1 min', replaceNode: true }],
      recovery: { relaunch: '60 s', init: '150 s', referenceGpus: 16384, initExponent: 0.5, repair: '1 day' },
    }),
  };
  const perInterruption = (hours: number) => {
    const t = performance.now();
    const h = simulateRun(hostile, { trials: 2, seed: 1, horizonSeconds: hours * 3600 });
    return ((performance.now() - t) * 1000) / (2 * h.interruptions.total.mean);
  };
  perInterruption(0.25);
  const shortMicroseconds = perInterruption(0.5);
  const longMicroseconds = perInterruption(4);
  return {
    name: 'failures: llama3-405b whole run, Monte Carlo trials',
    trialsPerSecond: trials / seconds,
    trials,
    seconds,
    parallel: { trials: parallelTrials, workers, seconds: pSeconds, trialsPerSecond: parallelTrials / pSeconds },
    interruptionsPerTrial: s.interruptions.total.mean,
    highRate: { shortMicroseconds, longMicroseconds, ratio: longMicroseconds / shortMicroseconds },
  };
}

async function main(): Promise<void> {
  const r = await benchFailures();
  console.log(`${r.name}: ${r.trials} trials in ${r.seconds.toFixed(2)} s = ${r.trialsPerSecond.toFixed(0)} trials/s (one thread, ~${r.interruptionsPerTrial.toFixed(0)} interruptions each)`);
  console.log(`  ${r.parallel.trials} trials on ${r.parallel.workers} workers: ${r.parallel.seconds.toFixed(2)} s (${r.parallel.trialsPerSecond.toFixed(0)} trials/s, worker start-up included)`);
  console.log(`  1.13 failures per GPU-hour: ${r.highRate.shortMicroseconds.toFixed(2)} µs per interruption over 0.5 h, ${r.highRate.longMicroseconds.toFixed(2)} µs over 4 h (ratio ${r.highRate.ratio.toFixed(2)})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
