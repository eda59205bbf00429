/**
 * Durations of the ops of one training step on one GPU of each pipeline stage: compute per
 * micro-batch (forward, backward-input, backward-weight, recompute), the TP/CP/EP collectives
 * inside each layer, PP sends, DP collectives and the optimizer. Both step engines (closed form
 * and discrete-event) consume these, so they agree on the primitives and differ only in how
 * the ops are scheduled.
 */
import type { Scenario } from '../plan/resolve.js';
import { layerKinds, layerKindKey, mtpLayerKind, type LayerKind } from '../model/layers.js';
import { planLayout, rankShard, type ParallelLayout } from '../plan/layout.js';
import { placeGroups, type GroupPlacements } from '../plan/placement.js';
import { computeKernels, moeHostSeconds, optimizerStepSeconds } from './costs/compute.js';
import { layerCollectives, zero3LayerSeconds, ppSends, dpCost, type DpCost, type LayerCollectives } from './costs/comm.js';
import { recomputeSeconds } from './costs/recompute.js';

/** One layer's work for one micro-batch on one GPU, in seconds. */
export interface LayerCost {
  moe: boolean;
  forwardSeconds: number;
  /** Backward w.r.t. inputs (dgrad GEMMs, attention backward, elementwise). */
  backwardInputSeconds: number;
  /** Backward w.r.t. weights (wgrad GEMMs); separable for zero-bubble schedules. */
  backwardWeightSeconds: number;
  /** Extra forward work re-run before the backward (selective or full recompute). */
  recomputeSeconds: number;
  /** GEMM time a TP collective can hide behind when TP overlap is on. */
  overlappableGemmSeconds: number;
  tpForwardCommSeconds: number;
  tpBackwardCommSeconds: number;
  cpForwardCommSeconds: number;
  cpBackwardCommSeconds: number;
  epForwardCommSeconds: number;
  epBackwardCommSeconds: number;
  /** Attention compute a ring-CP exchange can hide behind. */
  attentionForwardSeconds: number;
  attentionBackwardSeconds: number;
}

export interface StageCost {
  stage: number;
  layers: LayerCost[];
  /** Embedding (first stage) and LM head + loss (last stage) per micro-batch. */
  extraForwardSeconds: number;
  extraBackwardSeconds: number;
  /** Parameters held on one GPU of this stage (before ZeRO sharding). */
  denseParams: number;
  expertParams: number;
}

export interface StepCosts {
  stages: StageCost[];
  /** One activation send between neighbouring stages (one direction, one micro-batch, one chunk). */
  ppSendSeconds: number;
  /** The same send between two stages that share a node (NVLink), for pipelines that span nodes only in part. */
  ppSendSecondsSameNode: number;
  ppCrossesNodes: boolean;
  /** DP collectives of the slowest stage, and the optimizer step. */
  dp: DpCost[];
  optimizerSeconds: number[];
  placements: GroupPlacements;
  numMicroBatches: number;
  tokensPerMicroBatchPerGpu: number;
}

/** Builds the op costs of one step for a resolved scenario. */
export function stepCosts(sc: Scenario): StepCosts {
  const { model, plan, gpu } = sc;
  const layout = planLayout(model, plan);
  const placements = placeGroups(layout, sc.cluster.gpus, sc.node, sc.fabric);
  const k = computeKernels(sc, layout);
  const comm = layerCollectives(sc, layout, placements, k.moe?.tokensIn ?? 0);
  const hostPerMoeLayer = moeHostSeconds(sc, layout.ep);
  // One LayerCost per distinct layer kind (attention span, positions, sinks, dense or MoE FFN;
  // model/layers.ts), shared by every layer of that kind.
  const costOf = new Map<string, LayerCost>();
  const kindCost = (kind: LayerKind): LayerCost => {
    const key = layerKindKey(kind);
    let c = costOf.get(key);
    if (!c) {
      const isMoe = kind.ffn === 'moe' && model.moe !== null && model.moe !== undefined;
      c = layerCost(sc, layout, placements, k, comm, kind, isMoe, isMoe ? hostPerMoeLayer : 0);
      costOf.set(key, c);
    }
    return c;
  };
  const costByLayer: LayerCost[] = new Array(model.layers);
  for (const g of layerKinds(model)) {
    const c = kindCost(g.kind);
    for (const i of g.indices) costByLayer[i] = c;
  }

  const pp = layout.pp;
  const stages: StageCost[] = [];
  let layerIndex = 0;
  for (let st = 0; st < pp; st++) {
    const layers: LayerCost[] = [];
    for (let i = 0; i < plan.layersPerStage[st]; i++, layerIndex++) layers.push(costByLayer[layerIndex]);
    let extraF = 0;
    let extraB = 0;
    if (st === 0) {
      extraF += k.embedFwd;
      extraB += k.embedFwd;
    }
    if (st === pp - 1) {
      extraF += k.lmHeadFwd;
      extraB += 2 * k.lmHeadFwd;
      // MTP modules (DeepSeek-V3 §2.2) run after the last layer on this stage: the 2h→h
      // projection, one block of the last layer's kind with its collectives in line, and the
      // shared LM head with its loss again.
      if (model.mtpLayers > 0) {
        const block = kindCost(mtpLayerKind(model));
        const proj = k.mtpProj;
        const fwd = proj + block.forwardSeconds + block.tpForwardCommSeconds + block.epForwardCommSeconds + block.cpForwardCommSeconds + k.lmHeadFwd;
        const bwd = 2 * proj + block.backwardInputSeconds + block.backwardWeightSeconds + block.recomputeSeconds + block.tpBackwardCommSeconds + block.epBackwardCommSeconds + block.cpBackwardCommSeconds + 2 * k.lmHeadFwd;
        extraF += model.mtpLayers * fwd;
        extraB += model.mtpLayers * bwd;
      }
    }
    stages.push({ stage: st, layers, extraForwardSeconds: extraF, extraBackwardSeconds: extraB, ...rankShard(layout, st) });
  }

  const dp: DpCost[] = [];
  const optimizerSeconds: number[] = [];
  const zero = plan.zeroStage;
  stages.forEach((st, i) => {
    // Middle stages usually hold the same parameters: their collectives and optimizer are the previous stage's.
    const prev = stages[i - 1];
    if (prev && prev.denseParams === st.denseParams && prev.expertParams === st.expertParams) {
      dp.push(dp[i - 1]);
      optimizerSeconds.push(optimizerSeconds[i - 1]);
      return;
    }
    dp.push(dpCost(sc, placements, st));
    const localParams = st.denseParams / (zero >= 1 ? layout.dpCp : 1) + st.expertParams / (zero >= 1 ? layout.expertDp : 1);
    optimizerSeconds.push(optimizerStepSeconds(gpu, localParams));
  });

  return {
    stages,
    ...ppSends(sc, layout, placements),
    dp,
    optimizerSeconds,
    placements,
    numMicroBatches: plan.numMicroBatches,
    tokensPerMicroBatchPerGpu: layout.tokensPerMicroBatch,
  };
}

/** One layer's costs: compute, recompute, collectives, and the slowdown of the collectives it overlaps. */
function layerCost(sc: Scenario, layout: ParallelLayout, placements: GroupPlacements, k: ReturnType<typeof computeKernels>, comm: LayerCollectives, kind: LayerKind, isMoe: boolean, hostSeconds: number): LayerCost {
  const { plan, gpu } = sc;
  const attn = k.attention(kind);
  const cpComm = comm.cpFor(kind);
  const moeLayer = isMoe ? k.moe : null;
  const mlp = moeLayer ? moeLayer.fwd : k.denseMlp;
  const elem = moeLayer ? k.elemMoeUnrouted + moeLayer.elem : k.elemDense;
  const gemms = k.attnProj + mlp;
  const forward = gemms + attn.fwd + elem;
  const recompute = recomputeSeconds(sc, layout, k, isMoe, forward, elem, attn.fwd);
  const fullRecomputeComm = plan.recompute === 'full' ? 1 : 0;
  const tpComm = comm.tp;
  const ep = moeLayer ? comm.ep : 0;
  const backward = gemms + attn.bwd + 2 * elem;
  // Communication that overlaps compute still slows it: NCCL kernels take SMs and HBM
  // bandwidth from the GEMMs they run beside (profile: efficiency.overlapSlowdown). The
  // overlapped collectives inside a layer are ZeRO-3's per-layer parameter gathers and
  // gradient reduce-scatters, and TP collectives when TP overlap is on.
  const slow = gpu.efficiency.overlapSlowdown;
  let forwardExtra = 0;
  let backwardExtra = 0;
  if (plan.zeroStage >= 3 && plan.overlap.dp && layout.dp > 1) {
    const shard = isMoe && layout.layerShards.moe ? layout.layerShards.moe : layout.layerShards.dense;
    const { gather, reduce } = zero3LayerSeconds(sc, placements, shard);
    forwardExtra += slow * Math.min(gather, forward);
    backwardExtra += slow * Math.min(gather + reduce, backward);
  }
  if (plan.overlap.tp && layout.tp > 1) {
    forwardExtra += slow * Math.min(tpComm, gemms);
    backwardExtra += slow * Math.min(tpComm * (1 + fullRecomputeComm), 2 * gemms);
  }
  // EP overlap: the backward's all-to-alls run beside the paired micro-batch's forward, the
  // forward's beside its backward.
  if (plan.overlap.ep && ep > 0) {
    forwardExtra += slow * Math.min(ep * (1 + fullRecomputeComm), forward);
    backwardExtra += slow * Math.min(ep, backward);
  }
  // Backward launches twice the forward's kernels (data and weight gradients), so a MoE layer's host time splits 1:2.
  return {
    moe: isMoe,
    forwardSeconds: forward + forwardExtra + hostSeconds / 3,
    backwardInputSeconds: backward + backwardExtra + (2 * hostSeconds) / 3,
    backwardWeightSeconds: gemms,
    recomputeSeconds: recompute,
    overlappableGemmSeconds: gemms,
    tpForwardCommSeconds: tpComm,
    tpBackwardCommSeconds: tpComm * (1 + fullRecomputeComm),
    cpForwardCommSeconds: cpComm,
    cpBackwardCommSeconds: cpComm * (1 + fullRecomputeComm),
    epForwardCommSeconds: ep,
    epBackwardCommSeconds: ep * (1 + fullRecomputeComm),
    attentionForwardSeconds: attn.fwd,
    attentionBackwardSeconds: attn.bwd,
  }
}
