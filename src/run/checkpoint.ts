/** Checkpoint and restart physics: save and restore times, restart cost, Young/Daly intervals. */
import { UserError } from '../errors.js';
import type { RunInputs } from './inputs.js';

/** Derived save and restore costs, in seconds. */
export interface CheckpointCosts {
  bytes: number;
  /** A full blocking save: data over the slower of aggregate and per-node bandwidth, plus the fixed overhead. */
  writeSeconds: number;
  /** Job pause per save: the blocking write, or the async device-to-host snapshot. */
  pauseSeconds: number;
  /** Async: the storage write that continues behind training. */
  backgroundSeconds: number;
  loadSeconds: number;
}

export interface RestartCosts {
  seconds: number;
  relaunchSeconds: number;
  initSeconds: number;
  loadSeconds: number;
}

/** Save and restore times from checkpoint size and storage bandwidth. */
export function checkpointCosts(inputs: RunInputs): CheckpointCosts {
  const fmt = inputs.failures.checkpoint;
  const st = inputs.storage;
  const transfer = (bytes: number, aggregate: number) => Math.max(bytes / aggregate, st.perNodeBytesPerSecond ? bytes / inputs.nodes / st.perNodeBytesPerSecond : 0);
  const dataSeconds = transfer(inputs.checkpointBytes, st.writeBytesPerSecond);
  const writeSeconds = dataSeconds + fmt.saveOverhead;
  const loadSeconds = transfer(inputs.checkpointReadBytes, st.readBytesPerSecond ?? st.writeBytesPerSecond);
  if (!inputs.checkpointAsync) return { bytes: inputs.checkpointBytes, writeSeconds, pauseSeconds: writeSeconds, backgroundSeconds: 0, loadSeconds };
  if (fmt.asyncSnapshotBandwidth === undefined) {
    throw new UserError('training.checkpointAsync needs the device-to-host snapshot rate', undefined, 'failures.checkpoint.asyncSnapshotBandwidth', 'set it in the failure profile, e.g. "25 GB/s" per GPU');
  }
  // Async (e.g. torch DCP async_save, MegaScale's two-stage save): the job pauses while each GPU
  // copies its shard to host memory, then the host writes it out while training continues.
  const pauseSeconds = fmt.saveOverhead + inputs.checkpointBytes / inputs.gpus / fmt.asyncSnapshotBandwidth;
  return { bytes: inputs.checkpointBytes, writeSeconds, pauseSeconds, backgroundSeconds: dataSeconds, loadSeconds };
}

/** Restart time: relaunch, communicator init growing with job size, and the checkpoint load. */
export function restartCosts(inputs: RunInputs, ckpt: CheckpointCosts): RestartCosts {
  const rec = inputs.failures.recovery;
  const initSeconds = rec.init * Math.pow(inputs.gpus / rec.referenceGpus, rec.initExponent);
  return { seconds: rec.relaunch + initSeconds + ckpt.loadSeconds, relaunchSeconds: rec.relaunch, initSeconds, loadSeconds: ckpt.loadSeconds };
}

/** Young's (1974) and Daly's (2006, eq. 37) optimal checkpoint intervals for save cost `c` and MTBF `m` (seconds). */
export function youngDaly(c: number, m: number): { young: number; daly: number } {
  const young = Math.sqrt(2 * c * m);
  const daly = c < 2 * m ? Math.sqrt(2 * c * m) * (1 + Math.sqrt(c / (2 * m)) / 3 + c / (2 * m) / 9) - c : m;
  return { young, daly };
}
