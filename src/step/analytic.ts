/**
 * Closed-form step time from the op costs: per-stage micro-batch time with the exposed part of
 * each collective, the pipeline fill/drain by schedule, PP sends on the critical path, the
 * exposed DP collectives and the optimizer. Overlap rules: TP, CP and EP inside a layer as
 * overlap.ts has them (shared with the DES), and:
 * - PP sends: only the fill and drain chain is exposed when overlap.pp.
 * - DP (ZeRO 0-2, overlapped): the mechanism the DES runs (des/graph.ts), walked in closed form
 *   (dp-overlap.ts dpOverlapTail): per-layer buckets; a model chunk's gradient buckets are reduced once its last
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
import { dualPipeBubbleSeconds } from '../plan/pipeline.js';
import { dpOverlapTails } from './dp-overlap.js';

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
