/**
 * The pipeline schedule's counts that memory and both step engines read: the schedule a plan
 * actually runs, micro-batch groups of the interleaved schedule, warm-up forwards per rank and
 * the micro-batches whose activations a rank holds at its peak. One definition here (below
 * step/, so plan/memory.ts can use it), so the memory model and the schedule the DES runs
 * cannot drift apart.
 *
 * - 1F1B (PipeDream-Flush, Narayanan et al. 2021 §2.2): pp - s - 1 warm-up forwards.
 * - Interleaved 1F1B (Narayanan et al. 2021 §2.2; Megatron-LM schedules.py
 *   forward_backward_pipelining_with_interleaving): warm-up (pp - s - 1)·2 + (vpp - 1)·group
 *   micro-chunks, capped at m·vpp, where group is interleavedGroupSize(pp, m).
 * - GPipe (Huang et al. 2019): all m forwards first.
 * - ZB-H1 (Qi et al. 2024 §3): the 1F1B order, so the 1F1B warm-up and memory peak.
 * - DualPipe (DeepSeek-V3 §3.2.1, Table 2): micro-batches enter from both ends, each rank holds
 *   the stage s and the stage pp − 1 − s chunks (parameters 2×) and PP + 1 micro-batches of
 *   activations at its peak; bubble (PP/2 − 1)(F&B + B − 3W) (dualPipeBubbleSeconds).
 */
import type { Plan } from '../schema/plan.js';

export type ScheduleName = NonNullable<Plan['schedule']>;

/**
 * Micro-batches per group of the interleaved schedule (Megatron's microbatch_group_size_per_vp_stage,
 * default pp). A last group smaller than pp deadlocks the warm-up (Megatron-based trainers reject
 * m mod group in (0, pp)), so when pp does not fit we take the smallest group >= pp that leaves no
 * remainder or a remainder of at least pp; the warm-up grows with it.
 */
export function interleavedGroupSize(pp: number, m: number): number {
  if (m <= pp) return pp;
  for (let g = pp; g < m; g++) {
    const r = m % g;
    if (r === 0 || r >= pp) return g;
  }
  return m;
}

/**
 * Megatron's schedule table (schedules.py get_schedule_table): the (micro-batch, model chunk) of
 * the k-th forward micro-chunk of every rank. Micro-batches go through the chunks in groups of
 * `group` (microbatch_group_size_per_vp_stage, N in Llama 3 §3.3.2): the group's micro-batches
 * through chunk 0, then through chunk 1, and so on; the last group takes what is left. The k-th
 * backward runs the same micro-batch through chunk vpp − 1 − chunk.
 */
export function interleavedScheduleTable(m: number, vpp: number, group: number): [number, number][] {
  const table: [number, number][] = [];
  for (let g0 = 0; g0 < m; g0 += group) {
    const g1 = Math.min(g0 + group, m);
    for (let c = 0; c < vpp; c++) for (let i = g0; i < g1; i++) table.push([i, c]);
  }
  return table;
}

/**
 * Micro-batches of each model chunk whose activations rank `stage` holds at its peak, when chunk c
 * stores `chunkBytes[c]` per micro-batch: the rank's order (the warm-up forwards, then one forward
 * and the backward of the oldest micro-chunk, Megatron's interleaved schedule) walked with the
 * bytes held after each forward, before the backward that follows it. With equal chunks that is
 * warm-up + 1 micro-chunks (inFlightFormula); when the chunks differ (the first rank's chunk 0
 * holding only the embedding, the last rank's last chunk only the LM head, Llama 3 §3.3.2) the
 * mix of chunks held at the peak decides it. Non-interleaved schedules have one chunk.
 */
export function heldChunksAtPeak(schedule: ScheduleName, pp: number, vpp: number, m: number, stage: number, chunkBytes: readonly number[], group?: number): number[] {
  const held = new Array<number>(vpp).fill(0);
  if (vpp === 1 || schedule !== 'interleaved-1f1b' || pp === 1) {
    held[0] = inFlightFormula(schedule, pp, 1, m, stage);
    return held;
  }
  const g = group ?? interleavedGroupSize(pp, m);
  const total = m * vpp;
  const warmup = warmupMicroChunks(schedule, pp, vpp, m, stage, g);
  const table = interleavedScheduleTable(m, vpp, g);
  if (warmup >= total) return held.fill(m);
  const uniform = chunkBytes.every((b) => b === chunkBytes[0]);
  for (let k = 0; k <= warmup; k++) held[table[k][1]]++;
  if (uniform) return held;
  let bytes = 0;
  for (let c = 0; c < vpp; c++) bytes += held[c] * chunkBytes[c];
  let best = held.slice();
  let bestBytes = bytes;
  for (let j = 0; warmup + j + 1 < total; j++) {
    const freed = vpp - 1 - table[j][1];
    const added = table[warmup + j + 1][1];
    held[freed]--;
    held[added]++;
    bytes += chunkBytes[added] - chunkBytes[freed];
    if (bytes > bestBytes) {
      bestBytes = bytes;
      best = held.slice();
    }
  }
  return best;
}

/** Forward micro-chunks rank `stage` runs before its first backward (`group`: the interleaved schedule's, when the caller has it). */
export function warmupMicroChunks(schedule: ScheduleName, pp: number, vpp: number, m: number, stage: number, group?: number): number {
  if (schedule === 'gpipe') return m;
  if (schedule === 'interleaved-1f1b') return Math.min(m * vpp, (pp - stage - 1) * 2 + (vpp - 1) * (group ?? interleavedGroupSize(pp, m)));
  return Math.min(m, pp - stage - 1);
}

/** Peak micro-batches (in whole-micro-batch units: a chunk counts 1/vpp) whose activations rank `stage` holds, by the schedule's formula. */
export function inFlightFormula(schedule: ScheduleName, pp: number, vpp: number, m: number, stage: number, group?: number): number {
  if (pp === 1) return 1;
  // DualPipe (DeepSeek-V3 Table 2): PP + 1 micro-batches of activations on every rank, at most m.
  if (schedule === 'dualpipe') return Math.min(m, pp + 1);
  // Forward micro-chunks started before the first backward completes: the warm-up plus the
  // steady-state forward that precedes the first backward (Korthikanti et al. 2022 §4.2.3).
  return Math.min(m * vpp, warmupMicroChunks(schedule, pp, vpp, m, stage, group) + 1) / vpp;
}

/** The schedule a plan runs, with the counts every consumer reads. */
export interface PipelineShape {
  /**
   * The schedule as run. A single rank has no pipeline: whatever the plan names, it runs each
   * micro-batch's forward then backward (gradient accumulation; Megatron's
   * forward_backward_no_pipelining), which is 1F1B on one rank, holding one micro-batch. So
   * zero-bubble's W stays inside B and GPipe does not hold all m.
   */
  schedule: ScheduleName;
  pp: number;
  /** Model chunks per rank as run (1 unless interleaved). */
  vpp: number;
  numMicroBatches: number;
  /** Micro-batches per group of the interleaved schedule (interleavedGroupSize; N in Llama 3 §3.3.2), pp otherwise. */
  group: number;
  /** Micro-batches whose activations each rank holds at its peak (inFlightFormula per stage). */
  inFlight: number[];
  /** Copies of its stage's parameters a rank holds: 2 under DualPipe (DeepSeek-V3 Table 2: ranks hold stage s and pp − 1 − s), else 1. */
  parameterCopies: number;
  /**
   * DualPipe only (else null): of rank s's in-flight micro-batches, those of its own stage s and
   * those of its twin stage pp − 1 − s. Each direction runs as 1F1B over the pp ranks with half
   * the micro-batches: rank s is stage s of one direction (pp − s in flight) and stage pp − 1 − s
   * of the other (s + 1), together Table 2's PP + 1.
   */
  dualPipeHeld: { own: number; twin: number }[] | null;
}

/**
 * DualPipe's bubble (DeepSeek-V3 §3.2.1, Table 2): (PP/2 − 1)(F&B + B − 3W), where F is a forward
 * chunk, B a full backward chunk (input and weight), W its weight-gradient part, and F&B a forward
 * and a backward chunk of two micro-batches run overlapped (their all-to-alls and PP sends hidden
 * behind each other's compute: F + B when communication is zero or fully hidden).
 */
export function dualPipeBubbleSeconds(pp: number, t: { forwardAndBackwardSeconds: number; backwardSeconds: number; weightSeconds: number }): number {
  return Math.max(0, (pp / 2 - 1) * (t.forwardAndBackwardSeconds + t.backwardSeconds - 3 * t.weightSeconds));
}

/** The pipeline shape of a resolved plan. */
export function pipelineShape(plan: Pick<Plan, 'pp' | 'vpp'> & { schedule: ScheduleName; numMicroBatches: number }): PipelineShape {
  const { pp, numMicroBatches: m } = plan;
  const schedule: ScheduleName = pp === 1 ? '1f1b' : plan.schedule;
  const vpp = schedule === 'interleaved-1f1b' ? plan.vpp : 1;
  const group = schedule === 'interleaved-1f1b' ? interleavedGroupSize(pp, m) : pp;
  const inFlight: number[] = [];
  for (let s = 0; s < pp; s++) inFlight.push(inFlightFormula(schedule, pp, vpp, m, s, group));
  const dualPipeHeld = schedule === 'dualpipe' ? inFlight.map((_, s) => ({ own: Math.min(m / 2, pp - s), twin: Math.min(m / 2, s + 1) })) : null;
  return { schedule, pp, vpp, numMicroBatches: m, group, inFlight, parameterCopies: schedule === 'dualpipe' ? 2 : 1, dualPipeHeld };
}

/** Layers of one model chunk on one pipeline rank. */
export interface ChunkLayout {
  stage: number;
  chunk: number;
  /** The pipeline stage whose layers and costs (costs.stages) the chunk runs, when not `stage`: DualPipe's second chunk runs stage pp − 1 − stage (des/dualpipe.ts). */
  costStage?: number;
  /** Index of the chunk's first layer in costs.stages[stage].layers. */
  firstLocalLayer: number;
  numLayers: number;
  /** Index of the chunk's first layer in the model (virtual stages in order c·pp + s). */
  firstGlobalLayer: number;
  /** The chunk carries the stage's extra work (embedding on the first rank, LM head + loss on the last). */
  extras: boolean;
}

/** Splits each rank's layers over its vpp chunks; the chunk holding the embedding / LM head gets fewer layers. */
export function chunkLayout(layersPerStage: number[], vpp: number): ChunkLayout[][] {
  const pp = layersPerStage.length;
  const out: ChunkLayout[][] = [];
  for (let s = 0; s < pp; s++) {
    const L = layersPerStage[s];
    const base = Math.floor(L / vpp);
    let rest = L - base * vpp;
    const counts = new Array<number>(vpp).fill(base);
    // Remainder layers go first to chunks without the extra work: the first rank's chunk 0
    // holds the embedding and the last rank's last chunk the LM head (Llama 3 §3.3.2 balances
    // the same way by giving those ranks one layer fewer).
    const order: number[] = [];
    for (let c = 0; c < vpp; c++) order.push(c);
    if (s === pp - 1 && vpp > 1) order.push(order.splice(vpp - 1, 1)[0]);
    if (s === 0 && vpp > 1) order.push(order.splice(0, 1)[0]);
    for (let k = 0; rest > 0; k = (k + 1) % vpp, rest--) counts[order[k]]++;
    const row: ChunkLayout[] = [];
    let local = 0;
    for (let c = 0; c < vpp; c++) {
      row.push({ stage: s, chunk: c, firstLocalLayer: local, numLayers: counts[c], firstGlobalLayer: 0, extras: (s === 0 && c === 0) || (s === pp - 1 && c === vpp - 1) });
      local += counts[c];
    }
    out.push(row);
  }
  let g = 0;
  for (let c = 0; c < vpp; c++) {
    for (let s = 0; s < pp; s++) {
      out[s][c].firstGlobalLayer = g;
      g += out[s][c].numLayers;
    }
  }
  return out;
}
