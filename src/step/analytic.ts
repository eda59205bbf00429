/**
 * Closed-form step time from the op costs: per-stage micro-batch time with the exposed part of
 * each collective, the pipeline fill/drain by schedule, PP sends on the critical path, the
 * exposed DP collectives and the optimizer. Overlap rules: TP, CP and EP inside a layer as
 * overlap.ts has them (shared with the DES), and:
 * - PP sends: only the fill and drain chain is exposed when overlap.pp.
 * - DP (ZeRO 0-2, overlapped): the mechanism the DES runs (des/graph.ts), walked in closed form
 *   (dpOverlapTail): per-layer buckets; a model chunk's gradient buckets are reduced once its last
 *   micro-batch's backward has produced them, each bucket as soon as its layer is done, on one
 *   serial DP stream, so what is left of that stream when the rank's compute ends is exposed;
 *   each chunk's parameters are gathered layer by layer ahead of its first forward. Megatron-Core
 *   does the same per model chunk: forward_backward_pipelining_with_interleaving launches a
 *   chunk's grad sync (config.grad_sync_func = DDP.start_grad_sync of that chunk) when the chunk's
 *   last micro-batch backward is done (is_last_microbatch_for_model_chunk), and its param sync
 *   (param_sync_func) before the chunk's first forward (megatron/core/pipeline_parallel/
 *   schedules.py, Megatron-Core 0.7-0.8); without interleaving the grad sync is enabled for the
 *   last micro-batch only (no_sync_func around the others) and the bucket hooks fire as the
 *   buckets fill. Under interleaving the chunks finished early in the last micro-batch group are
 *   covered by the later chunks' backward, not only by one micro-batch's backward. Not
 *   followed (in either engine): Megatron's bucket size (max(40M, 1M·dp) parameters on chunk 0,
 *   one bucket per later chunk: training.py get_model disable_bucketing; the software profile's
 *   dpBucketParams is not read yet), the embedding's bucket reduced last on a single rank (the
 *   extras are one bucket at the LM head's end here), and the grad sync of rank s held back by s
 *   backward micro-chunks to launch with rank 0's (grad_sync_microbatch_id).
 *   ZeRO-3 does both per micro-batch and per layer, so each micro-batch exposes its first layer's
 *   gather and last layer's reduce-scatter.
 */
import type { Scenario } from '../plan/resolve.js';
import type { StepCosts, LayerCost } from './costs.js';
import type { DpCost } from './costs/comm.js';
import type { StepResult } from './result.js';
import { exposedLayerComm, epHiddenShare } from './overlap.js';
import { dualPipeBubbleSeconds, interleavedGroupSize, warmupMicroChunks } from '../plan/pipeline.js';
import { planLayout } from '../plan/layout.js';
import type { ScheduledOp } from './schedules.js';
import { chunkLayout } from './des/chunks.js';
import { dualPipeChunkLayout, dualPipeRuns, dualPipeSchedule } from './des/dualpipe.js';
import { buildSegments, type Segment } from './des/segments.js';

interface StageTimes {
  forwardSeconds: number;
  backwardInputSeconds: number;
  backwardWeightSeconds: number;
  computeSeconds: number;
  tpSeconds: number;
  cpSeconds: number;
  epSeconds: number;
}

/** One layer's contribution to its stage's times. */
interface LayerTerms {
  forward: number;
  backwardInput: number;
  compute: number;
  tp: number;
  cp: number;
  ep: number;
}

/** Per-micro-batch times of each stage, with exposed intra-layer communication folded in. */
export function stageTimes(sc: Scenario, costs: StepCosts): StageTimes[] {
  const overlapTp = sc.plan.overlap.tp;
  const epHidden = epHiddenShare(sc);
  const cpRing = sc.plan.cpMethod === 'ring';
  // A stage's layers are a few distinct LayerCost objects (dense, MoE): their per-layer terms are
  // computed once per object and summed per layer in order.
  const seen: LayerCost[] = [];
  const terms: LayerTerms[] = [];
  const termsOf = (l: LayerCost): LayerTerms => {
    const i = seen.indexOf(l);
    let x = i >= 0 ? terms[i] : undefined;
    if (!x) {
      const e = exposedLayerComm(l, overlapTp, cpRing, epHidden);
      x = {
        forward: l.forwardSeconds + e.tpF + e.cpF + e.epF,
        backwardInput: l.backwardInputSeconds + l.recomputeSeconds + e.tpB + e.cpB + e.epB,
        compute: l.forwardSeconds + l.backwardInputSeconds + l.backwardWeightSeconds + l.recomputeSeconds,
        tp: e.tpF + e.tpB,
        cp: e.cpF + e.cpB,
        ep: e.epF + e.epB,
      };
      seen.push(l);
      terms.push(x);
    }
    return x;
  };
  return costs.stages.map((st) => {
    const t: StageTimes = { forwardSeconds: st.extraForwardSeconds, backwardInputSeconds: st.extraBackwardSeconds, backwardWeightSeconds: 0, computeSeconds: st.extraForwardSeconds + st.extraBackwardSeconds, tpSeconds: 0, cpSeconds: 0, epSeconds: 0 };
    for (const l of st.layers) {
      const x = termsOf(l);
      t.forwardSeconds += x.forward;
      t.backwardInputSeconds += x.backwardInput;
      t.backwardWeightSeconds += l.backwardWeightSeconds;
      t.computeSeconds += x.compute;
      t.tpSeconds += x.tp;
      t.cpSeconds += x.cp;
      t.epSeconds += x.ep;
    }
    return t;
  });
}

/**
 * Exposed DP time of one stage per step (before the pipeline drain's slack), from its per-micro-batch
 * forward and backward times. ZeRO 0-2: the gradient reduce hides behind the backward and the
 * parameter gather behind the forward. ZeRO-3 gathers and reduce-scatters per layer (FSDP's per-block
 * units with prefetch, as the DES splits them): in each micro-batch only the first layer's gather and
 * the last layer's reduce-scatter have no compute to hide behind (Zhao et al. 2023, PyTorch FSDP
 * §3.3-3.4), not the whole stage's gather. The one rule analyticStep and the search bounds share.
 */
export function exposedDpSeconds(
  d: Pick<DpCost, 'paramGatherSeconds' | 'gradientSeconds' | 'perMicroBatch'>,
  t: { microBatches: number; forwardSeconds: number; backwardSeconds: number; layers: number; overlap: boolean; coverMicroBatches?: number },
): number {
  const { paramGatherSeconds: gather, gradientSeconds: grad } = d;
  const m = t.microBatches;
  if (d.perMicroBatch) {
    const edge = (gather + grad) / Math.max(1, t.layers);
    return t.overlap ? m * (edge + Math.max(0, gather - t.forwardSeconds) + Math.max(0, gather + grad - t.backwardSeconds)) : m * (2 * gather + grad);
  }
  // ZeRO 0-2 (a lower bound of dpOverlapTail's rule, for the search): one micro-batch's backward
  // covers the reduce and its forward the gather; interleaved, the last micro-batch group's
  // forwards and backwards at most (coverMicroBatches = the group size).
  const k = Math.max(1, t.coverMicroBatches ?? 1);
  const bwdCover = k === 1 ? t.backwardSeconds : k * (t.backwardSeconds + t.forwardSeconds);
  return t.overlap ? Math.max(0, grad - bwdCover) + Math.max(0, gather - k * t.forwardSeconds) : grad + gather;
}

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
function dpOverlapTails(sc: Scenario, costs: StepCosts): { gather: number; reduce: number }[] | null {
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

/** Step time in closed form. */
export function analyticStep(sc: Scenario, costs: StepCosts): StepResult {
  const { pp, vpp, schedule, overlap } = sc.plan;
  const m = costs.numMicroBatches;
  const times = stageTimes(sc, costs);
  const total = (t: StageTimes) => t.forwardSeconds + t.backwardInputSeconds + t.backwardWeightSeconds;
  let slowest = 0;
  for (let s = 1; s < pp; s++) if (total(times[s]) > total(times[slowest])) slowest = s;
  const tMax = total(times[slowest]);
  const sumOthers = times.reduce((a, t) => a + total(t), 0) - tMax;
  let pipeline: number;
  // Busy time of the rank the step waits for, without the bubble, and its per-micro-batch times.
  let work = m * tMax;
  let slow = times[slowest];
  if (pp === 1) pipeline = m * tMax;
  else if (schedule === 'dualpipe') {
    // DualPipe (DeepSeek-V3 §3.2.1): rank s runs stage s for the micro-batches fed from one end
    // and stage pp − 1 − s for those fed from the other, m/2 each; bubble (PP/2 − 1)(F&B + B − 3W)
    // (Table 2) with F&B = F + B: the overlap hides communication, which the layer times already
    // count as hidden under EP overlap.
    let worst = 0;
    let worstAt = 0;
    for (let r = 0; r < pp; r++) {
      const pair = (total(times[r]) + total(times[pp - 1 - r])) / 2;
      if (pair > worst) (worst = pair), (worstAt = r);
    }
    const a = times[worstAt];
    const b = times[pp - 1 - worstAt];
    slow = {
      forwardSeconds: (a.forwardSeconds + b.forwardSeconds) / 2,
      backwardInputSeconds: (a.backwardInputSeconds + b.backwardInputSeconds) / 2,
      backwardWeightSeconds: (a.backwardWeightSeconds + b.backwardWeightSeconds) / 2,
      computeSeconds: (a.computeSeconds + b.computeSeconds) / 2,
      tpSeconds: (a.tpSeconds + b.tpSeconds) / 2,
      cpSeconds: (a.cpSeconds + b.cpSeconds) / 2,
      epSeconds: (a.epSeconds + b.epSeconds) / 2,
    };
    const F = slow.forwardSeconds;
    const B = slow.backwardInputSeconds + slow.backwardWeightSeconds;
    const W = slow.backwardWeightSeconds;
    work = m * worst;
    pipeline = work + dualPipeBubbleSeconds(pp, { forwardAndBackwardSeconds: F + B, backwardSeconds: B, weightSeconds: W });
  } else if (schedule === 'zero-bubble') {
    // ZB-H1 (Qi et al. 2024): the weight-gradient pass fills the bubble: (p-1)(T_F + T_B - T_W).
    const fill = times.reduce((a, t, s) => (s === slowest ? a : a + Math.max(0, t.forwardSeconds + t.backwardInputSeconds - t.backwardWeightSeconds)), 0);
    pipeline = m * tMax + fill;
  } else {
    const v = schedule === 'interleaved-1f1b' ? vpp : 1;
    // (m-1)·T plus the fill/drain of the other stages, divided by vpp when interleaved (Narayanan §2.2).
    pipeline = m * tMax + sumOthers / v;
    // Interleaved with fewer micro-batches than ranks (m < pp): Megatron's schedule table
    // (schedules.py get_schedule_table) runs every micro-batch through chunk c before chunk c + 1,
    // and chunk c + 1 of the first micro-batch needs it back from the last rank. A lap of the ring
    // (one micro-batch through every rank, tMax + sumOthers over vpp) is then longer than a rank's
    // lap of m chunks, so each of the vpp − 1 lap changes waits for the difference: the "dependency
    // bubbles" Megatron names when it refuses a micro-batch group smaller than pp. Zero when m ≥ pp
    // (sumOthers ≤ (pp − 1)·tMax), so the formula above stands there. Uniform stages: t·(pp + (m − 1)/vpp).
    if (v > 1) pipeline += ((v - 1) / v) * Math.max(0, tMax + sumOthers - m * tMax);
  }
  // Without overlap each chunk pass blocks on its send: forward to rank s + 1, backward to s − 1.
  // With several ranks on a node, the busiest rank (one at a node boundary) sends one way over the
  // network and the other over NVLink, as the DES routes them (des/graph.ts sendLink).
  const sendPair = costs.placements.pp.membersPerNode > 1 ? costs.ppSendSeconds + costs.ppSendSecondsSameNode : 2 * costs.ppSendSeconds;
  const ppSeconds = pp === 1 ? 0 : 2 * (pp - 1) * costs.ppSendSeconds + (overlap.pp ? 0 : m * vpp * sendPair);

  // DP: stage s finishes its last backward about s backward-times (chunk backward-times when
  // interleaved) before stage 0 in the drain, which the reduce tail can run into; the gathers
  // delay the whole pipeline by the longest wait of any rank.
  let dpSeconds = 0;
  const zero3 = costs.dp.some((d) => d.perMicroBatch);
  const tails = overlap.dp && !zero3 ? dpOverlapTails(sc, costs) : null;
  let gatherWait = 0;
  let reduceTail = 0;
  for (let s = 0; s < pp; s++) {
    const d = costs.dp[s];
    const t = times[s];
    const bwd = t.backwardInputSeconds + t.backwardWeightSeconds;
    const slack = pp === 1 ? 0 : (s * bwd) / (schedule === 'interleaved-1f1b' ? vpp : 1);
    if (tails) {
      gatherWait = Math.max(gatherWait, tails[s].gather);
      reduceTail = Math.max(reduceTail, tails[s].reduce - slack);
      continue;
    }
    const exposed = exposedDpSeconds(d, { microBatches: m, forwardSeconds: t.forwardSeconds, backwardSeconds: bwd, layers: costs.stages[s].layers.length, overlap: overlap.dp });
    dpSeconds = Math.max(dpSeconds, exposed - slack);
  }
  if (tails) dpSeconds = gatherWait + reduceTail;
  const optimizerSeconds = Math.max(...costs.optimizerSeconds);

  const stepSeconds = pipeline + ppSeconds + dpSeconds + optimizerSeconds;
  const computeSeconds = m * slow.computeSeconds;
  const intraLayer = m * (slow.tpSeconds + slow.cpSeconds + slow.epSeconds);
  const bubbleSeconds = Math.max(0, pipeline - work);
  return {
    stepSeconds,
    engine: 'analytic',
    bubbleFraction: bubbleSeconds / stepSeconds,
    breakdown: {
      computeSeconds,
      exposedCommunicationSeconds: intraLayer + ppSeconds + dpSeconds,
      bubbleSeconds,
      optimizerSeconds,
      tpSeconds: m * slow.tpSeconds,
      cpSeconds: m * slow.cpSeconds,
      epSeconds: m * slow.epSeconds,
      ppSeconds,
      dpSeconds,
    },
  };
}
