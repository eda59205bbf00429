/**
 * One derived layout per plan, in the spirit of torchtitan's ParallelDims: the degrees and every
 * size derived from them (sequence-parallel divisor, tokens per micro-batch per GPU, the dp·cp
 * gradient group, the expert-data-parallel degree), the per-GPU parameter shards by stage and by
 * layer kind, and the pipeline's in-flight counts (pipeline.ts). Memory, both step engines and
 * the trace read these; none derives them again. Computed once per (model, plan) object pair.
 */
import type { ResolvedModel } from '../model/resolved.js';
import type { ResolvedPlan } from './resolve.js';
import { modelFacts } from '../model/facts.js';
import { recomputedModules, type RecomputeModule } from '../schema/plan.js';
import { pipelineShape, type PipelineShape } from './pipeline.js';

/** Parameters of one layer that one GPU holds (before ZeRO sharding): dense ones split by TP, routed experts by EP·ETP. */
export interface LayerShard {
  denseParams: number;
  expertParams: number;
}

export interface ParallelLayout {
  tp: number;
  cp: number;
  pp: number;
  dp: number;
  ep: number;
  etp: number;
  /** GPUs of the plan: tp·cp·pp·dp. */
  gpus: number;
  /** Divisor of activations TP leaves whole unless sequence parallelism splits them: tp with SP, else 1. */
  spDivisor: number;
  /** Tokens of one micro-batch on one GPU: microBatch·seqLen / cp. */
  tokensPerMicroBatch: number;
  /** The group dense gradients and optimizer state are sharded and reduced over (Megatron's data-parallel-with-CP group; torchtitan's dp_shard × cp mesh). */
  dpCp: number;
  /** Experts are sharded by EP·ETP; their data-parallel group is what is left of tp·cp·dp. */
  expertDp: number;
  pipeline: PipelineShape;
  /**
   * Routed tokens the busiest expert-parallel rank handles over the mean (plan.moeRouting): the
   * measured imbalance, capped by the capacity factor under capacity routing (dropped tokens are
   * not computed). 1 with EP 1: one rank holds every expert, so however skewed the routing its
   * grouped GEMMs do the dense-equivalent work. Scales the routed experts' GEMMs and
   * permutation traffic and the all-to-all volume of the rank the step waits for.
   */
  expertLoad: number;
  /** What selective recompute re-runs (recomputedModules), built once. */
  recomputed: ReadonlySet<RecomputeModule | 'activation'>;
  /** Per-GPU parameters of one layer by kind (moe is null for dense models). */
  layerShards: { dense: LayerShard; moe: LayerShard | null };
  /** Per-GPU parameters of each stage: its layers, the embedding on the first, final norm, LM head (or its tied copy) and MTP modules on the last. */
  stageShards: LayerShard[];
  /** Of which the embedding (first stage) and LM head or its tied copy (last stage): the extra work's DP bucket weight. */
  extrasParams: number[];
}

/** Parameters one GPU of each pipeline stage holds (before ZeRO sharding): dense ones split by TP, routed experts by EP·ETP; embedding on the first stage, final norm and LM head (or its tied copy) on the last. */
export function stageShards(model: ResolvedModel, plan: Pick<ResolvedPlan, 'tp' | 'pp' | 'ep' | 'etp' | 'layersPerStage'>): LayerShard[] {
  const { params: c, moeLayer } = modelFacts(model);
  const { tp, pp, ep, etp } = plan;
  const out: LayerShard[] = [];
  let layerIndex = 0;
  for (let s = 0; s < pp; s++) {
    let denseParams = 0;
    let expertParams = 0;
    for (let i = 0; i < plan.layersPerStage[s]; i++, layerIndex++) {
      denseParams += c.attentionPerLayer / tp;
      if (model.moe && moeLayer[layerIndex]) {
        denseParams += (c.sharedExpertsPerLayer + c.routerPerLayer) / tp;
        expertParams += ((model.moe.experts / ep) * c.expertMlp) / etp;
      } else denseParams += c.denseMlpPerLayer / tp;
    }
    if (s === 0) denseParams += c.embedding / tp;
    if (s === pp - 1) {
      denseParams += (c.finalNorm + (model.tiedEmbeddings ? (pp > 1 ? c.embedding : 0) : c.lmHead)) / tp;
      // MTP modules sit after the last layer, next to the LM head they share (Megatron places them on the last stage).
      denseParams += (model.mtpLayers * (c.mtpModule - c.mtpModuleExperts)) / tp;
      expertParams += (model.mtpLayers * (c.mtpModuleExperts / ep)) / etp;
    }
    out.push({ denseParams, expertParams });
  }
  return out;
}

/**
 * Parameters one GPU of pipeline rank `s` holds (before ZeRO sharding): its stage's, and under
 * DualPipe also stage pp − 1 − s's (DeepSeek-V3 Table 2: parameters 2×; the rank runs both
 * directions' chunks).
 */
export function rankShard(layout: Pick<ParallelLayout, 'pp' | 'stageShards' | 'pipeline'>, s: number): LayerShard {
  const own = layout.stageShards[s];
  if (layout.pipeline.parameterCopies === 1) return own;
  const twin = layout.stageShards[layout.pp - 1 - s];
  return { denseParams: own.denseParams + twin.denseParams, expertParams: own.expertParams + twin.expertParams };
}

/** Per-GPU parameters of stage s's embedding (first stage) and LM head or its tied copy (last stage). */
export function stageExtrasParams(model: ResolvedModel, tp: number, pp: number, s: number): number {
  const { params: c } = modelFacts(model);
  return (s === 0 ? c.embedding / tp : 0) + (s === pp - 1 ? (model.tiedEmbeddings ? (pp > 1 ? c.embedding : 0) : c.lmHead) / tp : 0);
}

/** Divisor of the activations TP leaves whole unless sequence parallelism splits them (Korthikanti §4.2.2): tp with SP, else 1. */
export function sequenceParallelDivisor(plan: Pick<ResolvedPlan, 'tp' | 'sequenceParallel'>): number {
  return plan.sequenceParallel ? plan.tp : 1;
}

/**
 * The expert-data-parallel degree: experts are sharded by EP·ETP, and their data-parallel group
 * is what is left of tp·cp·dp (at least 1). Takes bare degrees so a search can ask it of a
 * candidate before any plan is resolved.
 */
export function expertDataParallel(d: Pick<ResolvedPlan, 'tp' | 'cp' | 'dp' | 'ep' | 'etp'>): number {
  return Math.max(1, (d.tp * d.cp * d.dp) / (d.ep * d.etp));
}

/** Tokens of one micro-batch on one GPU: microBatch·seqLen / cp (bare numbers, for candidates as for resolved plans). */
export function tokensPerMicroBatch(seqLen: number, d: Pick<ResolvedPlan, 'microBatch' | 'cp'>): number {
  return (d.microBatch * seqLen) / d.cp;
}

function deriveLayout(model: ResolvedModel, plan: ResolvedPlan): ParallelLayout {
  const { params: c } = modelFacts(model);
  const { tp, cp, pp, dp, ep, etp } = plan;
  const moe = model.moe;
  const layerShard = (isMoe: boolean): LayerShard => ({
    denseParams: (c.attentionPerLayer + (isMoe ? c.sharedExpertsPerLayer + c.routerPerLayer : c.denseMlpPerLayer)) / tp,
    expertParams: isMoe && moe ? ((moe.experts / ep) * c.expertMlp) / etp : 0,
  });
  const extrasParams: number[] = [];
  for (let s = 0; s < pp; s++) extrasParams.push(stageExtrasParams(model, tp, pp, s));
  return {
    tp,
    cp,
    pp,
    dp,
    ep,
    etp,
    gpus: tp * cp * pp * dp,
    spDivisor: sequenceParallelDivisor(plan),
    tokensPerMicroBatch: tokensPerMicroBatch(model.seqLen, plan),
    dpCp: dp * cp,
    expertDp: expertDataParallel(plan),
    pipeline: pipelineShape(plan),
    expertLoad: ep > 1 ? Math.min(plan.moeRouting.imbalance, plan.moeRouting.capacityFactor ?? Infinity) : 1,
    recomputed: recomputedModules(plan),
    layerShards: { dense: layerShard(false), moe: moe ? layerShard(true) : null },
    stageShards: stageShards(model, plan),
    extrasParams,
  };
}

/**
 * The last layout derived: memory, the step costs and the DES ask for the same plan one after the
 * other, and a search makes a fresh plan per candidate, so one entry is all a memo needs (a
 * WeakMap keyed by every candidate plan costs more in garbage collection than it saves).
 */
let last: { model: ResolvedModel; plan: ResolvedPlan; layout: ParallelLayout } | null = null;

/** The layout of `plan` for `model`, derived once for consecutive calls with the same pair; resolved plans and models are treated as immutable. */
export function planLayout(model: ResolvedModel, plan: ResolvedPlan): ParallelLayout {
  if (last !== null && last.plan === plan && last.model === model) return last.layout;
  const layout = deriveLayout(model, plan);
  last = { model, plan, layout };
  return layout;
}
