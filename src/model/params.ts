/** Parameter counts of decoder-only transformers (dense and MoE, GQA, SwiGLU/GELU, tied or untied). */
import { attentionWidths, type ResolvedModel } from './resolved.js';
import { ffnKind, mtpLayerKind, type LayerKind } from './layers.js';

export interface ParamCounts {
  /** All parameters, every expert included. */
  total: number;
  /** Parameters one token touches (top-k routed experts + shared), embeddings included. */
  active: number;
  /** Input embedding (vocab · hidden), plus learned positions. */
  embedding: number;
  /** Output projection (0 when tied to the input embedding). */
  lmHead: number;
  /** Attention block of one layer: Q, K, V, O (+ biases for GELU/GPT-style models), sink logits and its norm. */
  attentionPerLayer: number;
  /** Dense MLP of one layer and its norm. */
  denseMlpPerLayer: number;
  /** One routed expert's MLP. */
  expertMlp: number;
  /** Shared experts of one MoE layer. */
  sharedExpertsPerLayer: number;
  /** Router of one MoE layer. */
  routerPerLayer: number;
  /** Final norm before the LM head. */
  finalNorm: number;
  /** One multi-token-prediction module (DeepSeek-V3 §2.2): two input norms, the 2h→h projection, a block of the last layer's kind and its final norm; embedding and LM head are shared. */
  mtpModule: number;
  /** Of which routed experts (all of them; sharded by EP like the main layers'). */
  mtpModuleExperts: number;
  /** Parameters one token touches in one MTP module. */
  mtpModuleActive: number;
  /** Number of dense and of MoE layers. */
  denseLayers: number;
  moeLayers: number;
}

/** Whether the block follows GPT-2/3 conventions: LayerNorm with bias and biased linears. */
export function hasBiases(model: ResolvedModel): boolean {
  return model.ffnType === 'gelu';
}

/** Number of MoE layers (layers.ts ffnKind: the explicit list, or every moeLayerFrequency-th after firstDenseLayers). */
export function countMoeLayers(model: ResolvedModel): number {
  if (!model.moe) return 0;
  let n = 0;
  for (let i = 0; i < model.layers; i++) if (ffnKind(model, i) === 'moe') n++;
  return n;
}

/** Is layer `i` (0-based) a MoE layer? Used to place MoE layers on pipeline stages. Same as layerKind(model, i).ffn === 'moe'. */
export function isMoeLayer(model: ResolvedModel, i: number): boolean {
  return ffnKind(model, i) === 'moe';
}

/** Learned attention-sink logits of one layer: one per query head (GPT-OSS `self_attn.sinks`, shape [heads]); 0 without sinks. */
export function sinkParams(model: ResolvedModel): number {
  return model.attention?.sinks ? model.heads : 0;
}

/** Summed inner width of a MoE layer's shared experts (0 without MoE). */
export function sharedExpertsFfnTotal(model: ResolvedModel): number {
  const moe = model.moe;
  return moe ? moe.sharedExperts * (moe.sharedExpertFfnHidden ?? moe.expertFfnHidden) : 0;
}

/** Weights of one FFN of inner size f: SwiGLU has gate, up and down matrices; GELU has two. */
export function mlpParams(hidden: number, ffn: number, ffnType: 'swiglu' | 'gelu', bias: boolean): number {
  return ffnType === 'swiglu' ? 3 * hidden * ffn : 2 * hidden * ffn + (bias ? ffn + hidden : 0);
}

/**
 * Weights of one layer's attention projections (biases included, norm before the block excluded).
 * MLA (DeepSeek-V2 §2.1): query down (h·r_q) with its norm and up (r_q·heads·(nope+rope)), or a
 * direct query projection when r_q = 0; joint key/value down (h·(r_kv + rope)) with its norm and up
 * (r_kv·heads·(nope + v)); output (heads·v·h). DeepSeek-V3: 187.1M per layer.
 */
export function attentionProjectionParams(model: ResolvedModel): number {
  const h = model.hidden;
  const mla = model.mla;
  if (mla) {
    const down = (mla.qLoraRank > 0 ? h * mla.qLoraRank : h * model.heads * model.qkHeadDim) + h * (mla.kvLoraRank + mla.qkRopeHeadDim);
    return down + mlaNormParams(model) + mlaUpProjectionParams(model) + model.heads * mla.vHeadDim * h;
  }
  const w = attentionWidths(model);
  return h * (w.q + w.k + w.v) + w.o * h + (hasBiases(model) ? w.q + w.k + w.v + h : 0);
}

/** Weights of MLA's up-projections from the latents to per-head Q (when r_q > 0) and K/V (0 without MLA). */
export function mlaUpProjectionParams(model: ResolvedModel): number {
  const mla = model.mla;
  if (!mla) return 0;
  return (mla.qLoraRank > 0 ? mla.qLoraRank * model.heads * model.qkHeadDim : 0) + mla.kvLoraRank * model.heads * (mla.qkNopeHeadDim + mla.vHeadDim);
}

/** Norm gains of MLA's low-rank latents (query and key/value), which are not matmul weights. */
export function mlaNormParams(model: ResolvedModel): number {
  return model.mla ? (model.mla.qLoraRank > 0 ? model.mla.qLoraRank : 0) + model.mla.kvLoraRank : 0;
}

/** Counts parameters; checked against Llama 3 Table 3 (405B, 70B, 8B) in the tests. */
export function countParams(model: ResolvedModel): ParamCounts {
  const h = model.hidden;
  const bias = hasBiases(model);
  const normParams = bias ? 2 * h : h; // LayerNorm has gain and bias; RMSNorm a gain only
  const attentionPerLayer = attentionProjectionParams(model) + sinkParams(model) + normParams;
  const denseMlpPerLayer = mlpParams(h, model.ffnHidden, model.ffnType, bias) + normParams;
  const moeLayers = countMoeLayers(model);
  const denseLayers = model.layers - moeLayers;
  const moe = model.moe;
  const expertMlp = moe ? mlpParams(h, moe.expertFfnHidden, model.ffnType, bias) : 0;
  const sharedExpertsPerLayer = moe ? moe.sharedExperts * mlpParams(h, moe.sharedExpertFfnHidden ?? moe.expertFfnHidden, model.ffnType, bias) : 0;
  const routerPerLayer = moe ? h * moe.experts : 0;
  const embedding = model.vocab * h + (model.positionEmbedding === 'learned' ? model.seqLen * h : 0);
  const lmHead = model.tiedEmbeddings ? 0 : model.vocab * h;
  const finalNorm = normParams;
  const moeLayerTotal = moe ? moe.experts * expertMlp + sharedExpertsPerLayer + routerPerLayer + normParams : 0;
  const moeLayerActive = moe ? moe.topK * expertMlp + sharedExpertsPerLayer + routerPerLayer + normParams : 0;
  const common = embedding + lmHead + finalNorm + model.layers * attentionPerLayer + denseLayers * denseMlpPerLayer;
  // MTP blocks are of the last layer's kind (DeepSeek-V3: MoE).
  const mtpMoe = mtpLayerKind(model).ffn === 'moe';
  const mtpShell = 3 * normParams + 2 * h * h + attentionPerLayer;
  const mtpModuleExperts = mtpMoe && moe ? moe.experts * expertMlp : 0;
  const mtpModule = mtpShell + (mtpMoe ? moeLayerTotal : denseMlpPerLayer);
  const mtpModuleActive = mtpShell + (mtpMoe ? moeLayerActive : denseMlpPerLayer);
  const mtp = model.mtpLayers;
  return {
    total: common + moeLayers * moeLayerTotal + mtp * mtpModule,
    active: common + moeLayers * moeLayerActive + mtp * mtpModuleActive,
    mtpModule,
    mtpModuleExperts,
    mtpModuleActive,
    embedding,
    lmHead,
    attentionPerLayer,
    denseMlpPerLayer,
    expertMlp,
    sharedExpertsPerLayer,
    routerPerLayer,
    finalNorm,
    denseLayers,
    moeLayers,
  };
}

export interface LayerParams {
  /** Attention block with its norm (and sink logits). */
  attention: number;
  /** Feed-forward block with its norm: the dense MLP, or every expert + shared experts + router. */
  ffnTotal: number;
  /** Of the feed-forward block, what one token touches: top-k experts + shared + router (= ffnTotal when dense). */
  ffnActive: number;
  /** Router weights (hidden × experts; 0 in a dense layer). */
  router: number;
  total: number;
  active: number;
}

/** Parameters of one layer of the given kind; summed over layerKinds they give countParams' layers (tested). */
export function layerParams(model: ResolvedModel, kind: LayerKind): LayerParams {
  const c = countParams(model);
  const moe = kind.ffn === 'moe' && model.moe ? model.moe : null;
  const norm = c.denseMlpPerLayer - mlpParams(model.hidden, model.ffnHidden, model.ffnType, hasBiases(model));
  const ffnTotal = moe ? moe.experts * c.expertMlp + c.sharedExpertsPerLayer + c.routerPerLayer + norm : c.denseMlpPerLayer;
  const ffnActive = moe ? moe.topK * c.expertMlp + c.sharedExpertsPerLayer + c.routerPerLayer + norm : c.denseMlpPerLayer;
  return { attention: c.attentionPerLayer, ffnTotal, ffnActive, router: moe ? c.routerPerLayer : 0, total: c.attentionPerLayer + ffnTotal, active: c.attentionPerLayer + ffnActive };
}
