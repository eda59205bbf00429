/** Layout of one trial's result row: what the run engine books per trial, read back by the summary. */
import type { RunModel } from './run-model.js';

/** Field offsets in a trial row (seconds, counts or flags, as named). */
export const TrialField = {
  /** Wall-clock seconds of the trial (the window or cap when it did not finish). */
  wall: 0,
  /** 1 when the token budget was reached. */
  finished: 1,
  /** Seconds of work kept. */
  useful: 2,
  /** Seconds of work lost to faults and done again. */
  recompute: 3,
  /** Seconds paused for checkpoints. */
  checkpoint: 4,
  restart: 5,
  detect: 6,
  maintenance: 7,
  /** Seconds waiting for repaired nodes when the spare pool ran short. */
  wait: 8,
  duringRunning: 9,
  duringCheckpoint: 10,
  duringRecovery: 11,
  nodesReplaced: 12,
  peakNodesOut: 13,
  waitEpisodes: 14,
  /** Checkpoints committed. */
  checkpoints: 15,
  /** Seconds of restarts spent restoring state (part of restart). */
  restore: 16,
  /** Node-seconds of spare nodes standing in for nodes out for repair (what rented spares bill). */
  spareNodeSeconds: 17,
  /** Elastic continue: seconds of outage equivalent to running shrunk until repair. */
  degraded: 18,
  /** Interruptions of component c are at components + c. */
  components: 19,
} as const;

/** Number of fields in a trial row. */
export function rowWidth(model: RunModel): number {
  return TrialField.components + model.components.length;
}
