/**
 * Attention with learnable softmax sinks (GPT-OSS) on cuDNN fused attention.
 *
 * Transformer Engine disables FlashAttention for any softmax_type other than "vanilla" and runs
 * such layers on FusedAttention (cuDNN's F16 arbitrary-seqlen kernels, cuDNN 9.13.1+ for
 * off-by-one/learnable softmax) or the unfused path (TE dot_product_attention/utils.py,
 * get_attention_backend, "Filter: Softmax type"; common/fused_attn/fused_attn.cpp,
 * nvte_get_fused_attn_backend). Megatron-Bridge's GPTOSSProvider sets softmax_type "learnable",
 * window_size (128, 0) on every other layer and head dim 64, and falls back to MCore's local
 * attention only below TE 2.8. The profiles' attentionForward/Backward are FlashAttention figures
 * at head dim 128; a GPU profile that measured cuDNN at the model's head dim
 * (efficiency.attentionCudnnSinks) prices these layers from that measurement instead: the long-span
 * figure for full causal layers, the window figure at the measured window, log-linear in the span
 * between the two.
 */
import type { Gpu } from '../../schema/system.js';
import type { LayerKind } from '../../model/layers.js';

export type CudnnSinkFigures = NonNullable<Gpu['efficiency']['attentionCudnnSinks']>;

/** The profile's cuDNN figures when they were measured at this head dim, else null (the flash figures apply). */
export function cudnnSinkFigures(gpu: Gpu, headDim: number): CudnnSinkFigures | null {
  const f = gpu.efficiency.attentionCudnnSinks;
  return f && f.headDim === headDim ? f : null;
}

/** Forward and backward efficiency (fraction of bf16 peak) of cuDNN attention over a layer that attends `span` keys (null: full causal). */
export function cudnnSinkEfficiency(f: CudnnSinkFigures, span: number | null): { fwd: number; bwd: number } {
  if (span === null || span >= f.longSpanTokens) return { fwd: f.forward, bwd: f.backward };
  if (span <= f.windowTokens) return { fwd: f.windowForward, bwd: f.windowBackward };
  const t = Math.log(span / f.windowTokens) / Math.log(f.longSpanTokens / f.windowTokens);
  return { fwd: f.windowForward + t * (f.forward - f.windowForward), bwd: f.windowBackward + t * (f.backward - f.windowBackward) };
}

/**
 * Seconds of one sink layer's attention kernels on cuDNN: `flops` is the layer's forward
 * attention work as the model counts it (keys actually attended, causal), the backward 2.5× that
 * as for flash attention (the measured figures use the same convention); null when the profile
 * has no cuDNN figures at this head dim.
 */
export function cudnnSinkAttentionSeconds(gpu: Gpu, kind: LayerKind, seqLen: number, headDim: number, flops: number): { fwd: number; bwd: number } | null {
  if (!kind.sinks) return null;
  const f = cudnnSinkFigures(gpu, headDim);
  if (!f) return null;
  const span = kind.spanTokens === null || kind.spanTokens >= seqLen ? null : kind.spanTokens;
  const e = cudnnSinkEfficiency(f, span);
  const peak = gpu.peakFlops.bf16;
  return { fwd: flops / (peak * e.fwd), bwd: (2.5 * flops) / (peak * e.bwd) };
}
