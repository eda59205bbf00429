/**
 * DualPipe in the discrete-event engine (DeepSeek-V3 §3.2.1, Fig. 5; the reference implementation
 * deepseek-ai/DualPipe dualpipe/dualpipe.py `DualPipe.step`): micro-batches enter from both ends of
 * the pipeline, half from rank 0 (direction 0, rank r runs stage r) and half from rank pp − 1
 * (direction 1, rank r runs stage pp − 1 − r), so each rank holds two model chunks: chunk 0 its
 * direction-0 stage, chunk 1 its direction-1 stage (parameters 2×, Table 2).
 *
 * Each rank runs the reference's eight steps, with h = min(r, pp − 1 − r), P = pp/2, M = m/2 and
 * local phase 0 the direction whose entry is nearer (direction 0 on the first half of the ranks,
 * direction 1 on the second):
 *   1. 2(P − h − 1) × F0                       5. (P − h − 1) × [B1, F1&B0]
 *   2. (h + 1) × [F0, F1]                      6. (h + 1) × [B1, B0], weight passes deferred from the middle on
 *   3. (P − h − 1) × [B1 (W deferred), W, F1]  7. (P − h − 1) × [W, B0 (W deferred)]
 *   4. (M − pp + h + 1) × [F0&B1, F1&B0]       8. (h + 1) × W
 * A deferred weight pass (zero bubble) is a W op taken from a FIFO, as WeightGradStore does; a
 * backward that is not deferred is a B op followed at once by its own W op (same work, same
 * order, so the per-layer segments and the trace stay those of a split backward), and the two are
 * one block: the reference sends the input gradient when the whole backward returns.
 *
 * F&B (a forward chunk and a backward chunk of two micro-batches run as one overlapped block,
 * `overlapped_forward_backward`) is a forward then a backward on the compute stream, one block:
 * it starts once both inputs have arrived and sends both outputs when it ends, as the reference's
 * `_forward_backward_chunk` does (receive both, compute, send both). The compute does not shrink;
 * what the pairing buys is that each chunk's all-to-alls hide behind the other's compute, which
 * the layer costs already count as hidden under DualPipe (overlap.ts epHiddenShare is 1). The
 * unpaired forwards of the warm-up (steps 1–2) hide theirs in the model as well: a known optimism,
 * the same as the closed form's. Two simplifications against the reference: sends leave when the
 * op (or block) ends and do not wait for the receiver (the reference batches them into the next
 * op's batch_isend_irecv and waits for them there); and the middle ranks' first step-4 pair, which
 * the reference runs unoverlapped so that the forward need not wait for the backward's gradient,
 * is a block like the others.
 */
import { invariant } from '../../errors.js';
import type { ScheduleName } from '../../plan/pipeline.js';
import type { ScheduledOp } from '../schedules.js';
import type { ChunkLayout } from './chunks.js';

/**
 * Whether the reference schedule exists for this shape: an even pp, an even m of at least 2·pp
 * (dualpipe.py asserts num_chunks >= num_ranks * 2: step 4 runs M − pp + h + 1 times).
 */
export function dualPipeRuns(pp: number, m: number): boolean {
  return pp >= 2 && pp % 2 === 0 && m % 2 === 0 && m >= 2 * pp;
}

/** The op order of rank `rank`: chunk = direction (0 or 1), microBatch = index within the direction (0 .. m/2 − 1). */
export function dualPipeSchedule(pp: number, m: number, rank: number): ScheduledOp[] {
  invariant(dualPipeRuns(pp, m) && rank >= 0 && rank < pp, `dualPipeSchedule: bad shape pp=${pp} m=${m} rank=${rank}`);
  const P = pp / 2;
  const M = m / 2;
  const h = Math.min(rank, pp - 1 - rank);
  const flip = rank >= P ? 1 : 0;
  const ops: ScheduledOp[] = [];
  const nextF = [0, 0];
  const nextB = [0, 0];
  const deferred: [number, number][] = [];
  let blocks = 0;
  // `block`: the unit the op belongs to (an F&B pair, or a backward with its own weight pass).
  const F = (phase: number, block?: number) => {
    const d = phase ^ flip;
    ops.push({ phase: 'F', chunk: d, microBatch: nextF[d]++, ...(block === undefined ? {} : { block }) });
  };
  const B = (phase: number, zeroBubble: boolean, block = zeroBubble ? undefined : blocks++) => {
    const d = phase ^ flip;
    const i = nextB[d]++;
    const inBlock = block === undefined ? {} : { block };
    ops.push({ phase: 'B', chunk: d, microBatch: i, ...inBlock });
    if (zeroBubble) deferred.push([d, i]);
    else ops.push({ phase: 'W', chunk: d, microBatch: i, ...inBlock });
  };
  const W = () => {
    const w = deferred.shift();
    invariant(w !== undefined, `dualPipeSchedule: no deferred weight pass on rank ${rank}`);
    ops.push({ phase: 'W', chunk: w[0], microBatch: w[1] });
  };
  const FB = (f: number, b: number) => {
    const block = blocks++;
    F(f, block);
    B(b, false, block);
  };
  const rest = P - h - 1;
  for (let i = 0; i < 2 * rest; i++) F(0); // step 1
  for (let i = 0; i < h + 1; i++) (F(0), F(1)); // step 2
  for (let i = 0; i < rest; i++) (B(1, true), W(), F(1)); // step 3
  for (let i = 0; i < M - pp + h + 1; i++) (FB(0, 1), FB(1, 0)); // step 4
  for (let i = 0; i < rest; i++) (B(1, false), FB(1, 0)); // step 5
  let zb = false; // step 6: the second half of the backward passes defer their weight pass
  for (let i = 0; i < h + 1; i++) {
    if (i === Math.floor((h + 1) / 2) && h % 2 === 1) zb = true;
    B(1, zb);
    if (i === Math.floor((h + 1) / 2) && h % 2 === 0) zb = true;
    B(0, zb);
  }
  for (let i = 0; i < rest; i++) (W(), B(0, true)); // step 7
  for (let i = 0; i < h + 1; i++) W(); // step 8
  invariant(deferred.length === 0 && nextF[0] === M && nextF[1] === M && nextB[0] === M && nextB[1] === M, `dualPipeSchedule: rank ${rank} does not run every pass once`);
  return ops;
}

/** Rank s's two chunks: its direction-0 stage s and its direction-1 stage pp − 1 − s, with their layers and extras. */
export function dualPipeChunkLayout(layersPerStage: number[]): ChunkLayout[][] {
  const pp = layersPerStage.length;
  const firstLayer: number[] = [];
  let g = 0;
  for (const n of layersPerStage) (firstLayer.push(g), (g += n));
  const chunk = (s: number, c: number, stage: number): ChunkLayout => ({
    stage: s,
    chunk: c,
    costStage: stage,
    firstLocalLayer: 0,
    numLayers: layersPerStage[stage],
    firstGlobalLayer: firstLayer[stage],
    extras: stage === 0 || stage === pp - 1,
  });
  return layersPerStage.map((_, s) => [chunk(s, 0, s), chunk(s, 1, pp - 1 - s)]);
}

/**
 * Where a chunk's activations go next and its gradients go back to, on every schedule: rank and
 * chunk, or null at the end of the pipeline. Interleaved chunks are virtual stages c·pp + s in a
 * ring (Narayanan et al. 2021 §2.2); DualPipe's chunk 0 runs ranks 0 → pp − 1, chunk 1 the reverse.
 */
export function pipelineNeighbours(schedule: ScheduleName, pp: number, vpp: number) {
  type At = { s: number; c: number } | null;
  if (schedule === 'dualpipe') {
    const step = (c: number) => (c === 0 ? 1 : -1);
    const at = (s: number, c: number): At => (s >= 0 && s < pp ? { s, c } : null);
    return { next: (s: number, c: number): At => at(s + step(c), c), prev: (s: number, c: number): At => at(s - step(c), c) };
  }
  const last = pp * vpp - 1;
  return {
    next: (s: number, c: number): At => (c * pp + s < last ? { s: (s + 1) % pp, c: s === pp - 1 ? c + 1 : c } : null),
    prev: (s: number, c: number): At => (c * pp + s > 0 ? { s: (s - 1 + pp) % pp, c: s === 0 ? c - 1 : c } : null),
  };
}
