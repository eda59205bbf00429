/**
 * Monte Carlo failure budgeting of the llama3-405b scenario: trials per second of the run
 * engine in this thread (whole token budget, ~70 days and ~600 interruptions per trial), and the
 * wall time of 10,000 trials on worker threads (target: under 5 s on a 2-core machine).
 *
 * Run directly: npx tsx bench/failures.ts
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { loadScenario, packageRoot } from '../src/io/load.js';
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
  return {
    name: 'failures: llama3-405b whole run, Monte Carlo trials',
    trialsPerSecond: trials / seconds,
    trials,
    seconds,
    parallel: { trials: parallelTrials, workers, seconds: pSeconds, trialsPerSecond: parallelTrials / pSeconds },
    interruptionsPerTrial: s.interruptions.total.mean,
  };
}

async function main(): Promise<void> {
  const r = await benchFailures();
  console.log(`${r.name}: ${r.trials} trials in ${r.seconds.toFixed(2)} s = ${r.trialsPerSecond.toFixed(0)} trials/s (one thread, ~${r.interruptionsPerTrial.toFixed(0)} interruptions each)`);
  console.log(`  ${r.parallel.trials} trials on ${r.parallel.workers} workers: ${r.parallel.seconds.toFixed(2)} s (${r.parallel.trialsPerSecond.toFixed(0)} trials/s, worker start-up included)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
