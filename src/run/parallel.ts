/**
 * Monte Carlo over worker threads. Trials are cut into fixed chunks handed to idle workers;
 * each chunk's rows go back to their trial positions, so the merged array (and every statistic
 * taken from it in trial order) is byte-identical for any number of workers.
 *
 * The worker module is resolved next to this one (worker-boot.ts): worker.js from the compiled
 * dist/, worker.ts from sources, in which case the worker loads tsx first.
 */
import type { Worker } from 'node:worker_threads';
import { invariant } from '../errors.js';
import type { Seed } from '../sim/index.js';
import type { RunModel } from './run-model.js';
import { rowWidth } from './trial-row.js';
import { programmeRowWidth, type ProgrammeModel } from './programme-engine.js';
import type { WorkerRequest, WorkerResponse } from './worker.js';
import type { RunInputs } from './inputs.js';
import { planRun, type SimulateOptions } from './plan-run.js';
import { driveFlow, simulateTrials, type TrialRows } from './monte-carlo.js';
import { summarize, type FailureSummary } from './summary.js';
import { startSiblingWorker } from './worker-boot.js';

/** Trials per message: small enough for a smooth progress bar and load balance, large enough to amortise messaging. */
const CHUNK = 250;

/** Most worker threads a pool starts (the CLI checks its flag against this). */
export const MAX_WORKERS = 64;

/** A pool of worker threads running trial chunks. Call close() when done. */
export class TrialPool {
  private readonly workers: Worker[] = [];
  private nextId = 0;

  constructor(readonly size: number) {
    invariant(Number.isInteger(size) && size >= 1 && size <= MAX_WORKERS, `workers must be a whole number from 1 to ${MAX_WORKERS}, got ${size}`);
    for (let i = 0; i < size; i++) this.workers.push(startSiblingWorker(import.meta.url, 'worker', 'run'));
  }

  /** Runs trials [start, end) of `model` (a run's, or a programme's); resolves to their rows in trial order. */
  run(model: RunModel | ProgrammeModel, seed: Seed, start: number, end: number, onDone: (trials: number) => void = () => {}): Promise<Float64Array> {
    const width = 'stages' in model ? programmeRowWidth(model) : rowWidth(model);
    const n = end;
    const out = new Float64Array((end - start) * width);
    let next = start;
    let pending = 0;
    return new Promise((resolve, reject) => {
      let failed = false;
      const cleanups: (() => void)[] = [];
      const finish = (err?: Error) => {
        for (const c of cleanups) c();
        if (err) reject(err);
        else resolve(out);
      };
      const dispatch = (w: Worker) => {
        if (next >= n) return;
        const from = next;
        const to = Math.min(n, from + CHUNK);
        next = to;
        pending++;
        const req: WorkerRequest = { id: this.nextId++, model, seed, start: from, end: to };
        w.postMessage(req);
      };
      for (const w of this.workers) {
        const onMessage = (res: WorkerResponse) => {
          if (failed) return;
          pending--;
          if ('error' in res) {
            failed = true;
            finish(new Error(`worker failed: ${res.error}`));
            return;
          }
          out.set(res.rows, (res.start - start) * width);
          onDone(res.end - res.start);
          dispatch(w);
          if (pending === 0 && next >= n) finish();
        };
        const onError = (e: Error) => {
          if (failed) return;
          failed = true;
          finish(e);
        };
        const onExit = (code: number) => onError(new Error(`a trial worker exited (code ${code}) with trials pending`));
        w.on('message', onMessage);
        w.on('error', onError);
        w.on('exit', onExit);
        cleanups.push(() => {
          w.off('message', onMessage);
          w.off('error', onError);
          w.off('exit', onExit);
        });
      }
      if (start >= end) return finish();
      for (const w of this.workers) dispatch(w);
    });
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** simulateTrials spread over `workers` threads (in-process for one): the same rows for any worker count. */
export async function simulateTrialsParallel(inputs: RunInputs, options: SimulateOptions & { workers?: number } = {}): Promise<TrialRows> {
  const workers = options.workers ?? 1;
  if (workers === 1) return simulateTrials(inputs, options);
  const plan = planRun(inputs, options);
  const pool = new TrialPool(workers);
  try {
    return await driveFlow(plan, options, (b, onDone) => pool.run(b.model, b.seed, b.start, b.end, onDone));
  } finally {
    await pool.close();
  }
}

/**
 * simulateRun spread over `workers` threads (in-process for one). The summary is the same, byte
 * for byte, for any worker count.
 */
export async function simulateRunParallel(inputs: RunInputs, options: SimulateOptions & { workers?: number } = {}): Promise<FailureSummary> {
  invariant(options.shard === undefined, 'a shard is not a whole summary: use simulateTrialsParallel and failureShard');
  const r = await simulateTrialsParallel(inputs, options);
  return summarize(r.context, r.rows);
}
