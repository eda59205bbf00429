/**
 * Collectives of one step on one GPU: TP, CP and EP inside each layer, PP activation sends, and
 * the DP (and expert-DP) gradient and parameter collectives, timed on the groups' placements
 * (plan/placement.ts) by system/collectives.ts.
 */
import type { Scenario } from '../../plan/resolve.js';
import type { LayerShard, ParallelLayout } from '../../plan/layout.js';
import type { GroupPlacement } from '../../system/topology.js';
import type { GroupPlacements } from '../../plan/placement.js';
import { attentionWidths } from '../../model/resolved.js';
import { cpRemoteKeysPerRank, type LayerKind } from '../../model/layers.js';
import { collectiveSeconds, p2pSeconds } from '../../system/collectives.js';

export interface DpCost {
  /** Per step (ZeRO 0-2): gradient reduce-scatter (or all-reduce at ZeRO 0) and parameter all-gather. */
  gradientSeconds: number;
  paramGatherSeconds: number;
  /** Per micro-batch under ZeRO-3: parameter all-gathers (forward and backward) and gradient reduce-scatter. */
  perMicroBatch: boolean;
  placement: GroupPlacement;
}

/** Bytes per gradient element in the DP reduction. */
export const gradReduceBytes = (sc: Scenario): number => (sc.plan.gradReduceFp32 ? 4 : 2);

export interface LayerCollectives {
  tp: number;
  /** CP exchange of a full causal layer. */
  cp: number;
  ep: number;
  /** CP exchange of a layer of this kind: only the keys that cross into the rank's shard (layers.ts cpRemoteKeysPerRank). */
  cpFor: (kind: LayerKind) => number;
}

/** One layer's TP and CP collectives per direction (without recompute), and a MoE layer's EP all-to-alls; seconds. */
export function layerCollectives(sc: Scenario, layout: ParallelLayout, placements: GroupPlacements, moeTokensIn: number): LayerCollectives {
  const { model, plan, node } = sc;
  const { tp, cp, ep } = layout;
  const h = model.hidden;
  const w = attentionWidths(model);
  const actBytes = layout.tokensPerMicroBatch * h * 2;
  // Megatron: per layer and direction two all-reduces, or with SP two all-gathers and two reduce-scatters (same volume).
  const tpComm =
    tp === 1 ? 0
    : plan.sequenceParallel ? 2 * collectiveSeconds(node, placements.tp, 'all-gather', actBytes) + 2 * collectiveSeconds(node, placements.tp, 'reduce-scatter', actBytes)
    : 2 * collectiveSeconds(node, placements.tp, 'all-reduce', actBytes);
  // CP: Llama 3 all-gathers K and V (forward) and reduce-scatters their gradients (backward).
  const kvBytes = ((plan.microBatch * model.seqLen * (w.k + w.v)) / Math.min(tp, model.kvHeads)) * 2;
  const cpSeconds = (bytes: number) => (cp === 1 || bytes === 0 ? 0 : plan.cpMethod === 'allgather' ? collectiveSeconds(node, placements.cp, 'all-gather', bytes) : (cp - 1) * p2pSeconds(node, placements.cp.nodes <= 1, bytes / cp));
  const cpComm = cpSeconds(kvBytes);
  // A chunked or sliding layer moves only the keys (and values) some rank lacks: the volume
  // scales by its remote keys over a full layer's ((cp − 1)·s/cp), so a chunk that divides the
  // shard exchanges nothing.
  const fullRemote = cpRemoteKeysPerRank({ attention: 'full', spanTokens: null, rope: true, sinks: false, ffn: 'dense' }, model.seqLen, cp);
  const cpFor = (kind: LayerKind) => (cp === 1 || kind.spanTokens === null || kind.spanTokens >= model.seqLen ? cpComm : cpSeconds((kvBytes * cpRemoteKeysPerRank(kind, model.seqLen, cp)) / fullRemote));
  // Dispatch and combine: each token's hidden state goes to topK experts and comes back.
  const moe = model.moe;
  // The step waits for the busiest rank, which receives (dispatch) and returns (combine) expertLoad × the mean.
  const a2aBytes = moe ? moeTokensIn * moe.topK * h * 2 * layout.expertLoad : 0;
  const epComm = moe && ep > 1 ? 2 * collectiveSeconds(node, placements.ep, 'all-to-all', a2aBytes) : 0;
  return { tp: tpComm, cp: cpComm, ep: epComm, cpFor };
}

/** ZeRO-3's per-layer parameter all-gather and gradient reduce-scatter of one layer's dense shard. */
export function zero3LayerSeconds(sc: Scenario, placements: GroupPlacements, shard: LayerShard): { gather: number; reduce: number } {
  const layerParams = shard.denseParams;
  return {
    gather: collectiveSeconds(sc.node, placements.dp, 'all-gather', layerParams * 2),
    reduce: collectiveSeconds(sc.node, placements.dp, 'reduce-scatter', layerParams * gradReduceBytes(sc)),
  };
}

/** PP: one activation tensor per micro-batch and chunk boundary (Narayanan §4.1: b·s·h, /t with SP). */
export function ppSends(sc: Scenario, layout: ParallelLayout, placements: GroupPlacements): { ppSendSeconds: number; ppSendSecondsSameNode: number; ppCrossesNodes: boolean } {
  const ppBytes = (layout.tokensPerMicroBatch * sc.model.hidden * 2) / layout.spDivisor;
  const ppCrossesNodes = placements.pp.nodes > 1;
  const pp = layout.pp;
  return {
    ppSendSeconds: pp > 1 ? p2pSeconds(sc.node, !ppCrossesNodes, ppBytes) : 0,
    ppSendSecondsSameNode: pp > 1 ? p2pSeconds(sc.node, true, ppBytes) : 0,
    ppCrossesNodes,
  };
}

/** DP collectives of one stage's parameters: dense ones over the dp·cp group, routed experts over the expert-DP group. */
export function dpCost(sc: Scenario, placements: GroupPlacements, shard: LayerShard): DpCost {
  const { node } = sc;
  const dense = shard.denseParams;
  const expert = shard.expertParams;
  const zero = sc.plan.zeroStage;
  const gradBytes = gradReduceBytes(sc);
  const grad = (kind: 'all-reduce' | 'reduce-scatter') =>
    collectiveSeconds(node, placements.dp, kind, dense * gradBytes) + collectiveSeconds(node, placements.expertDp, kind, expert * gradBytes);
  const gather = collectiveSeconds(node, placements.dp, 'all-gather', dense * 2) + collectiveSeconds(node, placements.expertDp, 'all-gather', expert * 2);
  return {
    gradientSeconds: zero === 0 ? grad('all-reduce') : grad('reduce-scatter'),
    paramGatherSeconds: zero === 0 ? 0 : gather,
    perMicroBatch: zero >= 3,
    placement: placements.dp,
  };
}
