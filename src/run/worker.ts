/**
 * Worker-thread entry for Monte Carlo trials: receives (model, seed, trial range), returns the
 * trial rows. Trials draw from deriveSeed(seed, trial), so where a trial runs cannot change it.
 */
import { parentPort } from 'node:worker_threads';
import { runTrialRange } from './trial-runner.js';
import { runProgrammeRange, type ProgrammeModel } from './programme-engine.js';
import type { RunModel } from './run-model.js';

/** A batch of trials [start, end) of one model (a run's, or a programme's). */
export interface WorkerRequest {
  id: number;
  model: RunModel | ProgrammeModel;
  seed: string | number;
  start: number;
  end: number;
}

export type WorkerResponse = { id: number; start: number; end: number; rows: Float64Array } | { id: number; error: string };

const port = parentPort;
if (port) {
  port.on('message', (req: WorkerRequest) => {
    try {
      const m = req.model;
      const rows = 'stages' in m ? runProgrammeRange(m, req.seed, req.start, req.end) : runTrialRange(m, req.seed, req.start, req.end);
      const res: WorkerResponse = { id: req.id, start: req.start, end: req.end, rows };
      port.postMessage(res, [rows.buffer as ArrayBuffer]);
    } catch (e) {
      const res: WorkerResponse = { id: req.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
      port.postMessage(res);
    }
  });
}
