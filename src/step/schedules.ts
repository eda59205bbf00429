/**
 * Pipeline schedules: the order in which one pipeline rank runs its forward (F), backward (B)
 * and, for zero-bubble, weight-gradient (W) passes over (micro-batch, model chunk) pairs.
 * The order is all a schedule is: the discrete-event engine runs each rank's list in order and
 * lets the data dependencies between ranks decide the timing.
 *
 * - GPipe (Huang et al. 2019): all forwards, then all backwards.
 * - 1F1B (PipeDream-Flush, Narayanan et al. 2021 §2.2): pp - s - 1 warm-up forwards, then one
 *   forward / one backward, then the remaining backwards.
 * - Interleaved 1F1B (Narayanan et al. 2021 §2.2; Megatron-LM schedules.py
 *   forward_backward_pipelining_with_interleaving): micro-batches go through the vpp model chunks
 *   in groups of pp (see plan/pipeline.ts interleavedGroupSize when pp does not divide m); warm-up
 *   (pp - s - 1)·2 + (vpp - 1)·group micro-chunks, capped at m·vpp (then the rank runs all forwards
 *   first, as Megatron does when the warm-up covers everything).
 * - ZB-H1 (Qi et al. 2024, "Zero Bubble Pipeline Parallelism" §3): 1F1B order with the backward
 *   split into B (input gradient, on the critical path) and W (weight gradient). Rank s skips W
 *   for its first s steady-state iterations and runs those s W passes at the end, where they fill
 *   the drain bubble; the memory peak stays that of 1F1B. This is PyTorch's
 *   torch.distributed.pipelining construction (num_1f1b_microbatches = rank).
 */
import { invariant } from '../errors.js';
import { interleavedGroupSize, interleavedScheduleTable, warmupMicroChunks, type ScheduleName } from '../plan/pipeline.js';

export type Phase = 'F' | 'B' | 'W';

/** One pass of one micro-batch through one model chunk on one pipeline rank. */
export interface ScheduledOp {
  phase: Phase;
  microBatch: number;
  /** Model chunk (virtual stage index on this rank), 0 .. vpp-1. */
  chunk: number;
  /**
   * Consecutive ops with the same block number run as one unit (DualPipe's overlapped F&B chunk
   * and its non-deferred backward, des/dualpipe.ts): the unit starts once every input of its ops
   * has arrived and sends its outputs when it ends.
   */
  block?: number;
}

/** The op order of pipeline rank `stage` (0-based) for `m` micro-batches. */
export function stageSchedule(schedule: ScheduleName, pp: number, vpp: number, m: number, stage: number): ScheduledOp[] {
  invariant(pp >= 1 && stage >= 0 && stage < pp && m >= 1 && vpp >= 1, `stageSchedule: bad shape pp=${pp} stage=${stage} m=${m} vpp=${vpp}`);
  invariant(vpp === 1 || schedule === 'interleaved-1f1b', `stageSchedule: vpp ${vpp} needs interleaved-1f1b`);
  const ops: ScheduledOp[] = [];
  const F = (microBatch: number, chunk = 0) => ops.push({ phase: 'F', microBatch, chunk });
  const B = (microBatch: number, chunk = 0) => ops.push({ phase: 'B', microBatch, chunk });
  const W = (microBatch: number) => ops.push({ phase: 'W', microBatch, chunk: 0 });

  if (schedule === 'gpipe') {
    for (let i = 0; i < m; i++) F(i);
    for (let i = 0; i < m; i++) B(i);
    return ops;
  }
  if (schedule === 'interleaved-1f1b') {
    const table = interleavedScheduleTable(m, vpp, interleavedGroupSize(pp, m));
    const total = m * vpp;
    const warmup = warmupMicroChunks(schedule, pp, vpp, m, stage);
    const fwd = (k: number) => F(table[k][0], table[k][1]);
    const bwd = (k: number) => B(table[k][0], vpp - 1 - table[k][1]);
    for (let k = 0; k < warmup; k++) fwd(k);
    for (let k = 0; k < total - warmup; k++) {
      fwd(warmup + k);
      bwd(k);
    }
    for (let k = total - warmup; k < total; k++) bwd(k);
    return ops;
  }
  const warmup = warmupMicroChunks(schedule, pp, vpp, m, stage);
  const steady = m - warmup;
  const zb = schedule === 'zero-bubble';
  let nextW = 0;
  for (let i = 0; i < warmup; i++) F(i);
  for (let k = 0; k < steady; k++) {
    F(warmup + k);
    B(k);
    if (zb && k >= stage) W(nextW++);
  }
  for (let i = steady; i < m; i++) {
    B(i);
    if (zb) W(nextW++);
  }
  if (zb) while (nextW < m) W(nextW++);
  return ops;
}
