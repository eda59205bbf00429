/**
 * What a case's source ran and recorded beyond the case format's fields: the source's short name
 * and software, and the settings its notes and flags state (MTP, MLA, recompute modules, GPU
 * variants). One entry per source, never per case.
 */
import type { ValidationCase } from './case.js';

/** Short source name: the repository, or the paper's first words. */
export function sourceKey(title: string): string {
  const repo = /^([\w.-]+\/[\w.-]+)/.exec(title);
  if (repo) return repo[1];
  return title.split(/[,(]/)[0].trim();
}

/** A case's source by its short name; "unknown" when the case does not name it. */
export function caseSource(c: ValidationCase): string {
  return c.source.title ? sourceKey(c.source.title) : 'unknown';
}

/**
 * The software each published source ran, where the case format has no field for it: the
 * attention kernel, TP communication overlap and FSDP reduce precision. These are facts about
 * the framework a source used (one entry per source, never per case).
 */
export function sourceSoftware(title: string): { attentionKernel: 'flash' | 'flash2' | 'flash1' | 'unfused'; overlapTp: boolean; gradReduceFp32: boolean; crossEntropy?: 'vocab-parallel' | 'fused' } {
  const key = sourceKey(title);
  // Korthikanti et al. 2022 (Megatron-LM, 2022) predates fused flash attention: softmax and
  // dropout run on materialised scores (the paper's 5as/h activation term).
  // Megatron-LM's loss is its vocab-parallel cross-entropy (fp32 softmax kept in place).
  if (key.startsWith('Korthikanti')) return { attentionKernel: 'unfused', overlapTp: false, gradReduceFp32: true, crossEntropy: 'vocab-parallel' };
  // llm-foundry benchmarks (tables regenerated Jan 2024): MPT's attn_impl "triton", the 2022
  // Triton flash-attention kernel (first generation), and FSDP mixed_precision DEFAULT, which
  // reduces gradients in fp32 (case notes). MPT's loss_fn defaults to fused_crossentropy, the
  // flash-attn xentropy kernel (llmfoundry/models/ComposerMPTCausalLM, layers/cross_entropy_loss.py).
  if (key === 'mosaicml/llm-foundry') return { attentionKernel: 'flash1', overlapTp: false, gradReduceFp32: true, crossEntropy: 'fused' };
  // torchtitan Dec 2024 benchmarks: PyTorch SDPA, whose flash backend is FlashAttention-2.
  if (key === 'pytorch/torchtitan') return { attentionKernel: 'flash2', overlapTp: false, gradReduceFp32: true };
  // Megatron-Bridge performance recipes: Transformer Engine (cuDNN fused attention) with TP
  // communication overlap on; Llama 3 (Meta's production stack): best fused kernels.
  // Megatron-Bridge's loss is Megatron-Core's vocab-parallel cross-entropy (cross_entropy_loss_fusion, impl native).
  if (key === 'NVIDIA-NeMo/Megatron-Bridge') return { attentionKernel: 'flash', overlapTp: true, gradReduceFp32: false, crossEntropy: 'vocab-parallel' };
  // FlashAttention's training scripts (training/configs/experiment/pile/base.yaml) train with
  // loss_fn CrossEntropyLossApex, the xentropy kernel (inplace_backward; counted as fused).
  if (key === 'Dao-AILab/flash-attention') return { attentionKernel: 'flash', overlapTp: false, gradReduceFp32: false, crossEntropy: 'fused' };
  return { attentionKernel: 'flash', overlapTp: false, gradReduceFp32: false };
}

/**
 * Whether a case's norms, RoPE and activations ran fused. torchtitan lists torch.compile among a
 * row's techniques (notes "techniques: FSDP + torch.compile", table "FSDP+CP+compile+Float8");
 * without it its Llama modules run eagerly. The other sources run fused kernels (Transformer
 * Engine in Megatron, Meta's production stack, MPT's single-kernel LayerNorm and GELU).
 */
export function elementwiseMode(c: ValidationCase): 'fused' | 'eager' {
  if (caseSource(c) !== 'pytorch/torchtitan') return 'fused';
  return /compile/i.test(`${c.notes ?? ''} ${c.source.table ?? ''}`) ? 'fused' : 'eager';
}

/**
 * Multi-token-prediction modules a case's notes record, where the case's model has no field for
 * them: Megatron-Bridge notes say "MTP 1 layer" (the recipe's mtp_num_layers) or carry the table
 * label "w/ MTP" (DeepSeek-V3 trains with one module, D = 1, paper §2.2).
 */
export function mtpLayersFromNotes(notes: string): number {
  const n = /\bMTP (\d+) layers?\b/.exec(notes);
  if (n) return Number(n[1]);
  return /\bw\/ MTP\b/.test(notes) ? 1 : 0;
}

/** Megatron-Core recompute_modules from a flag like recompute-selective-modules-mla_up_proj+mlp. */
export function recomputeModulesFromFlags(flags: readonly string[]): string[] | undefined {
  const f = flags.find((x) => x.startsWith('recompute-selective-modules-'));
  return f ? f.slice('recompute-selective-modules-'.length).split('+') : undefined;
}

/**
 * Multi-head latent attention as the case notes state it, e.g. "MLA (q_lora_rank 1536,
 * kv_lora_rank 512, qk_head_dim 128 + rope 64, v_head_dim 128)" (the case format has no field
 * for it; hidden / heads would give DeepSeek-V3 a head size of 56 against MLA's 192 and 128).
 */
export function mlaFromNotes(notes: string): { qLoraRank: number; kvLoraRank: number; qkNopeHeadDim: number; qkRopeHeadDim: number; vHeadDim: number } | undefined {
  const m = /\bMLA \(q_lora_rank (\d+|none), kv_lora_rank (\d+), qk_head_dim (\d+) \+ rope (\d+), v_head_dim (\d+)\)/.exec(notes);
  if (!m) return undefined;
  return { qLoraRank: m[1] === 'none' ? 0 : Number(m[1]), kvLoraRank: Number(m[2]), qkNopeHeadDim: Number(m[3]), qkRopeHeadDim: Number(m[4]), vHeadDim: Number(m[5]) };
}

/**
 * Cases whose flags say the hardware is a variant of the named GPU run on the variant's profile:
 * torchtitan's "H100" rows used 94 GiB HBM2e parts capped at 500 W.
 */
export function gpuProfileName(c: ValidationCase): string | undefined {
  if (c.flags.includes('h100-96gb-hbm2e-variant-not-standard-sxm') && c.flags.includes('power-capped-500w')) return 'h100-hbm2e-94gb-500w';
  return c.hardware.gpu ?? undefined;
}
