/**
 * The data-parallel overlap of one step in closed form (analytic.ts): the mechanism the DES runs
 * (des/graph.ts) walked without events. Per-layer buckets; a model chunk's gradient buckets are
 * reduced once its last micro-batch's backward has produced them, on one serial DP stream, and its
 * parameters gathered layer by layer ahead of its first forward (Megatron-Core's per-chunk
 * grad_sync_func / param_sync_func; the sources are in analytic.ts's header).
 */
import type { Scenario } from '../plan/resolve.js';
import type { StepCosts, LayerCost } from './costs.js';
import { exposedLayerComm, epHiddenShare } from './overlap.js';
import type { DpCost } from './costs/comm.js';
import { interleavedGroupSize, warmupMicroChunks } from '../plan/pipeline.js';
import { planLayout } from '../plan/layout.js';
import type { ScheduledOp } from './schedules.js';
import { chunkLayout } from './des/chunks.js';
import { dualPipeChunkLayout, dualPipeRuns, dualPipeSchedule } from './des/dualpipe.js';
import { buildSegments, type Segment } from './des/segments.js';

/**
 * Where each model chunk's DP collectives sit on one rank's compute clock (its passes back to
 * back in schedule order, idle left out): the start of the chunk's first forward and of its last
 * gradient pass, and the end of the rank's last pass.
 */
export interface ChunkClocks {
  firstForward: number[];
  lastGradient: number[];
  end: number;
}

/** ChunkClocks from an explicit op order (schedules.ts stageSchedule, des/dualpipe.ts). */
export function chunkClocksOf(order: readonly ScheduledOp[], passSeconds: readonly number[][], zb: boolean): ChunkClocks {
  const gradPh = zb ? 2 : 1;
  const firstForward = passSeconds.map(() => -1);
  const lastGradient = passSeconds.map(() => -1);
  let clock = 0;
  for (const op of order) {
    const ph = op.phase === 'F' ? 0 : op.phase === 'B' ? 1 : 2;
    if (ph === 0 && firstForward[op.chunk] < 0) firstForward[op.chunk] = clock;
    if (ph === gradPh) lastGradient[op.chunk] = clock;
    clock += passSeconds[op.chunk][ph];
  }
  return { firstForward, lastGradient, end: clock };
}

/**
 * ChunkClocks of rank `s` without listing its ops: the order of schedules.ts stageSchedule in
 * closed form. One chunk: every schedule starts with the first forward and ends with the last
 * gradient pass (B, or W under zero bubble). Interleaved: the warm-up forwards, then forward k +
 * warm-up before backward k, then the cool-down backwards, over Megatron's table
 * (plan/pipeline.ts interleavedScheduleTable: groups of micro-batches through chunk 0, 1, …; the
 * k-th backward runs chunk vpp − 1 − the k-th forward's). The time before an op is the sum of the
 * passes before it, counted per group from prefix sums over the chunks.
 */
export function chunkClocks(shape: { pp: number; vpp: number; m: number }, s: number, passSeconds: readonly number[][], zb: boolean): ChunkClocks {
  const { pp, vpp, m } = shape;
  const gradPh = zb ? 2 : 1;
  if (vpp === 1) {
    const p = passSeconds[0];
    const end = m * (p[0] + p[1] + p[2]);
    return { firstForward: [0], lastGradient: [end - p[gradPh]], end };
  }
  const group = interleavedGroupSize(pp, m);
  const warmup = warmupMicroChunks('interleaved-1f1b', pp, vpp, m, s, group);
  const total = m * vpp;
  const fullGroups = Math.floor(m / group);
  const rest = m - fullGroups * group;
  // Prefix sums over table chunks: forward of table chunk c, and backward of table chunk c (chunk vpp − 1 − c).
  const fPre = [0];
  const bPre = [0];
  for (let c = 0; c < vpp; c++) {
    fPre.push(fPre[c] + passSeconds[c][0]);
    bPre.push(bPre[c] + passSeconds[vpp - 1 - c][1]);
  }
  // Sum of the first n table entries' passes (pre: prefix over table chunks).
  const sumFirst = (n: number, pre: number[]): number => {
    const inGroups = (k: number, size: number) => {
      const q = Math.floor(k / (size * vpp));
      const r = k - q * size * vpp;
      const c = Math.floor(r / size);
      return q * size * pre[vpp] + size * pre[c] + (r - c * size) * (pre[c + 1] - pre[c]);
    };
    const fullEntries = fullGroups * group * vpp;
    return n <= fullEntries ? inGroups(n, group) : inGroups(fullEntries, group) + inGroups(n - fullEntries, rest);
  };
  const firstGroup = fullGroups > 0 ? group : rest;
  const lastGroup = rest > 0 ? rest : group;
  const lastStart = (m - lastGroup) * vpp;
  const firstForward: number[] = [];
  const lastGradient: number[] = [];
  for (let c = 0; c < vpp; c++) {
    // Forward entry c·firstGroup: after the forwards before it and, past the warm-up, backwards 0 … k − warm-up − 1.
    const k = c * firstGroup;
    firstForward.push(sumFirst(k, fPre) + (k > warmup ? sumFirst(k - warmup, bPre) : 0));
    // Chunk c's last backward: table chunk vpp − 1 − c of the last group, its last micro-batch;
    // after the forwards up to warm-up + j (all of them in the cool-down) and backwards 0 … j − 1.
    const j = lastStart + (vpp - 1 - c) * lastGroup + lastGroup - 1;
    lastGradient.push(sumFirst(Math.min(total, warmup + j + 1), fPre) + sumFirst(j, bPre));
  }
  return { firstForward, lastGradient, end: m * (fPre[vpp] + bPre[vpp]) };
}

/** One pass of one model chunk as the DP buckets see it: its pieces (layers, or the extras) in execution order, with their seconds and share of the rank's parameters. */
export interface PassPieces {
  seconds: number[];
  shares: number[];
  total: number;
}

/** PassPieces [chunk][F, B, W] of one rank of the DES's segments (des/segments.ts). */
export function passesOfSegments(segs: readonly Segment[][][]): PassPieces[][] {
  return segs.map((ph) => ph.map((list) => ({ seconds: list.map((g) => g.total), shares: list.map((g) => g.paramShare), total: list.reduce((a, g) => a + g.total, 0) })));
}

/**
 * Exposed parts of one rank's overlapped ZeRO 0-2 DP collectives, by the DES's mechanism
 * (des/graph.ts) walked without events: the rank runs its passes back to back (no pipeline idle
 * inside, `idleBefore` seconds of warm-up wait before the first); the DP stream gathers each
 * chunk's layers, in the order its first forward needs them, from the step's start, and
 * reduce-scatters a chunk's layers once its last gradient pass (B, or W when W is a pass of its
 * own) has produced them, each bucket one layer (segment) weighted by its parameter share.
 * gather: how long the forwards wait for parameters; reduce: how far the DP stream runs past the
 * rank's last pass. `order` is the rank's op order or its ChunkClocks.
 */
export function dpOverlapTail(passes: readonly PassPieces[][], order: readonly ScheduledOp[] | ChunkClocks, zb: boolean, d: Pick<DpCost, 'paramGatherSeconds' | 'gradientSeconds'>, idleBefore: number): { gather: number; reduce: number } {
  const gradPh = zb ? 2 : 1;
  const clocks = 'end' in order ? order : chunkClocksOf(order, passes.map((ph) => ph.map((x) => x.total)), zb);
  const byClock = (at: number[]): number[] => {
    const out: number[] = [];
    for (let c = 0; c < at.length; c++) if (at[c] >= 0) out.push(c);
    return out.sort((a, b) => at[a] - at[b]);
  };
  let gather = 0;
  if (d.paramGatherSeconds > 0) {
    let queue = 0;
    for (const c of byClock(clocks.firstForward)) {
      let t = clocks.firstForward[c] + idleBefore;
      const p = passes[c][0];
      for (let j = 0; j < p.seconds.length; j++) {
        queue += d.paramGatherSeconds * p.shares[j];
        gather = Math.max(gather, queue - t);
        t += p.seconds[j];
      }
    }
  }
  let reduce = 0;
  if (d.gradientSeconds > 0) {
    let fin = 0;
    for (const c of byClock(clocks.lastGradient)) {
      let t = clocks.lastGradient[c];
      const p = passes[c][gradPh];
      for (let j = 0; j < p.seconds.length; j++) {
        t += p.seconds[j];
        fin = Math.max(fin, t) + d.gradientSeconds * p.shares[j];
      }
    }
    reduce = Math.max(0, fin - clocks.end);
  }
  return { gather, reduce };
}

/**
 * PassPieces of every rank and chunk, the DES's segments (des/segments.ts buildSegments) without
 * the straggler and variation factors, built from the per-layer times stageTimes uses: a layer's
 * F, B (with W unless W is its own pass) and W, and its share of the rank's parameters; the
 * extras (embedding on the first rank, LM head on the last, both on a single rank) first in the
 * forward on the first rank of a pipeline and last in its backward, the other way round elsewhere.
 */
function rankPasses(sc: Scenario, costs: StepCosts, chunks: ReturnType<typeof chunkLayout>, zb: boolean): PassPieces[][][] {
  const layout = planLayout(sc.model, sc.plan);
  const { dense, moe } = layout.layerShards;
  const pp = chunks.length;
  const overlapTp = sc.plan.overlap.tp;
  const cpRing = sc.plan.cpMethod === 'ring';
  const epHidden = epHiddenShare(sc);
  const terms = new Map<LayerCost, number[]>(); // [F, B pass, W, params]
  const termsOf = (l: LayerCost): number[] => {
    let x = terms.get(l);
    if (!x) {
      const e = exposedLayerComm(l, overlapTp, cpRing, epHidden);
      const shard = l.moe && moe ? moe : dense;
      x = [l.forwardSeconds + e.tpF + e.cpF + e.epF, l.backwardInputSeconds + l.recomputeSeconds + (zb ? 0 : l.backwardWeightSeconds) + e.tpB + e.cpB + e.epB, l.backwardWeightSeconds, shard.denseParams + shard.expertParams];
      terms.set(l, x);
    }
    return x;
  };
  // Pieces of the forward and of the gradient pass; the other pass only needs its total.
  const gradPh = zb ? 2 : 1;
  return chunks.map((row, s) => {
    const st = costs.stages[s];
    let stageParams = layout.extrasParams[s];
    for (const l of st.layers) stageParams += termsOf(l)[3];
    const share = (p: number) => (stageParams > 0 ? p / stageParams : 0);
    const atStart = s === 0 && pp > 1;
    const extraSeconds = [st.extraForwardSeconds, st.extraBackwardSeconds, 0];
    return row.map((ch) => {
      const out: PassPieces[] = [];
      for (let ph = 0; ph < 3; ph++) {
        const pieces = ph === 0 || ph === gradPh;
        const seconds: number[] = [];
        const shares: number[] = [];
        let total = 0;
        const extrasFirst = ch.extras && (ph === 0 ? atStart : !atStart);
        const extras = () => {
          total += extraSeconds[ph];
          if (!pieces) return;
          seconds.push(extraSeconds[ph]);
          shares.push(share(layout.extrasParams[s]));
        };
        if (extrasFirst) extras();
        for (let k = 0; k < ch.numLayers; k++) {
          const x = termsOf(st.layers[ch.firstLocalLayer + (ph === 0 ? k : ch.numLayers - 1 - k)]);
          total += x[ph];
          if (!pieces) continue;
          seconds.push(x[ph]);
          shares.push(share(x[3]));
        }
        if (ch.extras && !extrasFirst) extras();
        out.push({ seconds, shares, total });
      }
      return out;
    });
  });
}

/**
 * Per rank, the exposed gather and reduce of dpOverlapTail, on the DES's chunks, buckets and op
 * order; null where the DES does not run the schedule (DualPipe with m < 2·pp), which keeps the
 * per-stage rule of exposedDpSeconds.
 */
export function dpOverlapTails(sc: Scenario, costs: StepCosts): { gather: number; reduce: number }[] | null {
  const { schedule, pp, vpp } = planLayout(sc.model, sc.plan).pipeline;
  const m = costs.numMicroBatches;
  const dual = schedule === 'dualpipe';
  if (dual && pp > 1 && !dualPipeRuns(pp, m)) return null;
  const zb = schedule === 'zero-bubble' || dual;
  const layersPerStage = costs.stages.map((st) => st.layers.length);
  // DualPipe's ranks run two stages' chunks: its segments map them (des/dualpipe.ts).
  const passes = dual
    ? buildSegments(sc, costs, dualPipeChunkLayout(layersPerStage), zb, { slowStage: -1, slowFactor: 1, computeFactor: 1 }).map(passesOfSegments)
    : rankPasses(sc, costs, chunkLayout(layersPerStage, vpp), zb);
  let idle = 0;
  return passes.map((p, s) => {
    const totals = p.map((ph) => ph.map((x) => x.total));
    const clocks = dual ? chunkClocksOf(dualPipeSchedule(pp, m, s), totals, zb) : chunkClocks({ pp, vpp, m }, s, totals, zb);
    const r = dpOverlapTail(p, clocks, zb, costs.dp[s], idle);
    // Rank s + 1 waits for rank s's first forward of chunk 0 before it starts.
    idle += totals[0][0];
    return r;
  });
}
