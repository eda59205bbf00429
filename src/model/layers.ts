/**
 * Per-layer kinds: which attention each layer runs (full causal, chunked, sliding window; with or
 * without rotary positions; with attention sinks) and whether its feed-forward block is dense or
 * MoE. Every consumer asks here instead of re-deriving the MoE placement or the attention span.
 *
 * Sources of the patterns: Hugging Face transformers configuration_llama4.py (`moe_layers =
 * range(step - 1, L, step)`, `layer_types`: chunked on RoPE layers, full on the NoPE layer every
 * 4th) and configuration_gpt_oss.py (`sliding_attention` on even indices, `full_attention` on odd).
 */
import type { Model } from '../schema/model.js';
import type { Gpu } from '../schema/system.js';

export type AttentionKind = 'full' | 'chunked' | 'sliding';
export type FfnKind = 'dense' | 'moe';

export interface LayerKind {
  attention: AttentionKind;
  /** Chunk (chunked) or window (sliding) in tokens; null for full attention. */
  spanTokens: number | null;
  /** Rotary position encoding on this layer (false: a NoPE layer, or a model without RoPE). */
  rope: boolean;
  /** A learned sink logit per head joins the softmax denominator (GPT-OSS). */
  sinks: boolean;
  ffn: FfnKind;
}

export interface LayerKindGroup {
  kind: LayerKind;
  /** Number of main-model layers of this kind (MTP modules not included). */
  count: number;
  /** Their 0-based indices, ascending. */
  indices: number[];
}

type LayerModel = Pick<Model, 'layers' | 'moe' | 'attention' | 'positionEmbedding'>;

/** Feed-forward kind of layer `i`: explicit moe.layerIndices, else every moeLayerFrequency-th layer after firstDenseLayers (the last of each group, as Megatron's and HF's interleave). */
export function ffnKind(model: LayerModel, i: number): FfnKind {
  const moe = model.moe;
  if (!moe) return 'dense';
  if (moe.layerIndices) return moe.layerIndices.includes(i) ? 'moe' : 'dense';
  if (i < moe.firstDenseLayers) return 'dense';
  return (i - moe.firstDenseLayers) % moe.moeLayerFrequency === moe.moeLayerFrequency - 1 ? 'moe' : 'dense';
}

/** Kind of layer `i` (0-based). */
export function layerKind(model: LayerModel, i: number): LayerKind {
  const a = model.attention;
  const type = a ? a.pattern[i % a.pattern.length] : 'full';
  const nope = type.endsWith('-nope');
  const attention = (nope ? type.slice(0, -'-nope'.length) : type) as AttentionKind;
  const spanTokens = attention === 'chunked' ? a!.chunkTokens! : attention === 'sliding' ? a!.windowTokens! : null;
  const rope = model.positionEmbedding === 'rope' && !nope;
  return { attention, spanTokens, rope, sinks: a?.sinks ?? false, ffn: ffnKind(model, i) };
}

/** Kind of the multi-token-prediction blocks: the last layer's (DeepSeek-V3 §2.2: an MoE block). */
export function mtpLayerKind(model: LayerModel): LayerKind {
  return layerKind(model, model.layers - 1);
}

/** A stable text key for a kind, e.g. "chunked-8192/nope/moe". */
export function layerKindKey(k: LayerKind): string {
  return `${k.attention}${k.spanTokens === null ? '' : `-${k.spanTokens}`}${k.rope ? '' : '/nope'}${k.sinks ? '/sinks' : ''}/${k.ffn}`;
}

/** The model's layers grouped by kind, in order of first appearance. */
export function layerKinds(model: LayerModel): LayerKindGroup[] {
  const groups = new Map<string, LayerKindGroup>();
  for (let i = 0; i < model.layers; i++) {
    const kind = layerKind(model, i);
    const key = layerKindKey(kind);
    const g = groups.get(key);
    if (g) {
      g.count++;
      g.indices.push(i);
    } else groups.set(key, { kind, count: 1, indices: [i] });
  }
  return [...groups.values()];
}

/**
 * Keys one query attends on average over a causal sequence of seqLen tokens: the per-token
 * attended length the FLOPs convention counts (the existing full-causal convention: seqLen / 2,
 * as Megatron-LM's s/2). Positions are taken as continuous, so every kind meets full attention
 * exactly when its span reaches the sequence:
 * - full: s/2;
 * - sliding window w < s: a token at t sees min(t, w) keys; mean (w²/2 + (s − w)·w) / s = w − w²/(2s);
 * - chunked c < s: s = n·c + r; each chunk is a causal block of its own: (n·c² + r²) / (2s), c/2 when c divides s.
 */
export function attendedKeysPerQuery(kind: LayerKind, seqLen: number): number {
  const s = seqLen;
  const span = kind.spanTokens;
  if (span === null || span >= s) return s / 2;
  if (kind.attention === 'sliding') return span - (span * span) / (2 * s);
  const n = Math.floor(s / span);
  const r = s - n * span;
  return (n * span * span + r * r) / (2 * s);
}

/** Longest run of keys any query of a seqLen sequence attends: the KV a layer keeps live per sequence (min(span, seqLen)). */
export function attentionSpanTokens(kind: LayerKind, seqLen: number): number {
  return kind.spanTokens === null ? seqLen : Math.min(kind.spanTokens, seqLen);
}

/**
 * Context parallelism over a layer of this kind, the sequence cut into cp contiguous shards of
 * seqLen / cp: the most keys any rank needs from other ranks (the rank on the critical path).
 * Full causal: the whole prefix, (cp − 1)·seqLen/cp (the all-gather of Llama 3 §3.3.2's CP);
 * sliding window w: a halo of min(w, (cp − 1)·seqLen/cp); chunked c: only what crosses a chunk
 * boundary into the shard, max over ranks of (r·seqLen/cp mod c) — 0 when c divides the shard.
 * (Load-balanced zig-zag layouts cut full causal layers into 2·cp pieces; their volume for full
 * attention is the same all-gather.)
 */
export function cpRemoteKeysPerRank(kind: LayerKind, seqLen: number, cp: number): number {
  if (cp <= 1) return 0;
  const shard = seqLen / cp;
  const prefix = (cp - 1) * shard;
  const span = kind.spanTokens;
  if (span === null || span >= seqLen) return prefix;
  if (kind.attention === 'sliding') return Math.min(span, prefix);
  let most = 0;
  for (let r = 1; r < cp; r++) most = Math.max(most, (r * shard) % span);
  return most;
}

/**
 * Attention settings of the model whose kernel speed the step model does not represent, each as
 * "<setting> (costed as <what is>)", for the reports' `not modelled:` lines.
 *
 * Attention sinks (a learnable softmax offset, GPT-OSS): Transformer Engine disables FlashAttention
 * for any softmax_type other than vanilla and runs them on cuDNN fused attention (TE
 * dot_product_attention/utils.py get_attention_backend, "Filter: Softmax type"). A GPU profile
 * with cuDNN figures measured at the model's head dim (efficiency.attentionCudnnSinks, the
 * cudnn-frontend GPT-OSS benchmark on GB200: sliding window 128 at 163/185 TFLOP/s, window 1024 at
 * 574/617) prices these layers from them (src/step/costs/attention.ts); the measurements have no
 * sink logit, so the sink itself stays unpriced. Elsewhere the layers are costed at the profile's
 * flash-attention figures (head dim 128, no sinks). On H100 the GPT-OSS rows fit within 2 %; on
 * B200/GB200 they stay 21-57 % too fast in bf16 and +26 % in MXFP8 (+100 % for one release that
 * measured 1.58x slower than the next) with the cuDNN figures: attention accounts for ~1 ms of a
 * 9-11 ms gap per 16,384-token layer pass (bf16, on EP 8 and EP 64 alike), the rest unexplained.
 */
export function attentionNotModelled(model: Pick<Model, 'attention' | 'headDim' | 'hidden' | 'heads'>, gpu?: Pick<Gpu, 'efficiency'>): string[] {
  if (!model.attention?.sinks) return [];
  const cudnn = gpu?.efficiency.attentionCudnnSinks;
  const headDim = model.headDim ?? model.hidden / model.heads;
  return cudnn && cudnn.headDim === headDim
    ? [`attention sinks on cuDNN fused attention (costed at the GPU profile's cuDNN figures at head dim ${headDim}, measured without the sink logit)`]
    : ["attention sinks on cuDNN fused attention (costed at the GPU profile's flash-attention efficiency, measured without sinks at head dim 128)"];
}
