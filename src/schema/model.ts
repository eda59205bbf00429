/** The model being trained: a decoder-only transformer, dense or mixture-of-experts. */
import { z } from 'zod';
import { posInt, nonNegInt, displayName } from './common.js';

export const MoeSchema = z
  .strictObject({
    experts: posInt(1 << 16).describe('routed experts per MoE layer'),
    topK: posInt(1024).describe('routed experts each token visits'),
    expertFfnHidden: posInt(1 << 20).describe('FFN hidden size of one expert'),
    sharedExperts: nonNegInt(64).default(0).describe('always-on shared experts per MoE layer'),
    sharedExpertFfnHidden: posInt(1 << 20).optional().describe('FFN hidden size of one shared expert (default: expertFfnHidden)'),
    moeLayerFrequency: posInt(1024).default(1).describe('every k-th layer (after the dense ones) is MoE'),
    firstDenseLayers: nonNegInt(1 << 14).default(0).describe('leading layers that stay dense'),
    layerIndices: z
      .array(nonNegInt(1 << 14))
      .min(1)
      .max(1 << 14)
      .optional()
      .describe('explicit 0-based indices of the MoE layers, ascending; replaces moeLayerFrequency and firstDenseLayers (HF Llama 4 moe_layers)'),
  })
  .describe('mixture-of-experts block');

export const MlaSchema = z
  .strictObject({
    qLoraRank: nonNegInt(1 << 20).default(0).describe('rank of the query down-projection; 0: queries are projected directly from the hidden state'),
    kvLoraRank: posInt(1 << 20).describe('rank of the joint key/value down-projection (the cached latent)'),
    qkNopeHeadDim: posInt(1 << 14).describe('per-head query/key size without position encoding'),
    qkRopeHeadDim: nonNegInt(1 << 14).describe('per-head query/key size that carries RoPE (the key part is shared by all heads)'),
    vHeadDim: posInt(1 << 14).describe('per-head value size'),
  })
  .describe('multi-head latent attention (DeepSeek-V2 §2.1, DeepSeek-V3 §2.1.1): low-rank query and key/value projections, per-head K and V materialised for the attention kernel');

/**
 * Attention of each layer. pattern[i mod pattern.length] gives layer i's kind, as Hugging Face's
 * `layer_types` does when cycled: Llama 4 [chunked, chunked, chunked, full-nope]
 * (configuration_llama4.py: chunked RoPE layers, a global NoPE layer every 4th), GPT-OSS
 * [sliding, full] (configuration_gpt_oss.py: sliding on even indices). Absent: every layer full
 * causal with the model's positionEmbedding.
 */
export const AttentionLayerTypeSchema = z
  .enum(['full', 'chunked', 'sliding', 'full-nope', 'chunked-nope', 'sliding-nope'])
  .describe('full: causal over the whole sequence; chunked: causal inside fixed chunks of chunkTokens; sliding: causal over the last windowTokens tokens; "-nope": no rotary position encoding on that layer');

export const AttentionSchema = z
  .strictObject({
    pattern: z.array(AttentionLayerTypeSchema).min(1).max(1 << 14).describe('layer i uses pattern[i mod length]; a list as long as layers spells every layer out'),
    chunkTokens: posInt(1 << 24).optional().describe('chunk of the chunked layers (Llama 4 attention_chunk_size): a token attends causally inside its own chunk only'),
    windowTokens: posInt(1 << 24).optional().describe('window of the sliding layers (HF sliding_window): a token attends to the last windowTokens tokens'),
    sinks: z.boolean().default(false).describe('a learned sink logit per head in every layer, added to the softmax denominator (GPT-OSS self_attn.sinks)'),
  })
  .describe('per-layer attention kinds');

export const ModelSchema = z
  .strictObject({
    name: displayName().optional(),
    layers: posInt(1 << 14).describe('transformer blocks'),
    hidden: posInt(1 << 20).describe('model width d_model'),
    ffnHidden: posInt(1 << 22).describe('dense FFN inner size'),
    heads: posInt(1 << 14).describe('query heads'),
    kvHeads: posInt(1 << 14).optional().describe('key/value heads (GQA); default: heads'),
    headDim: posInt(1 << 14).optional().describe('per-head size when not hidden / heads'),
    vocab: posInt(1 << 24).describe('vocabulary size'),
    seqLen: posInt(1 << 24)
      .optional()
      .describe('deprecated: the sequence length belongs to the training stage (plan.seqLen), so one model file serves every context length; still read as the default when the plan gives none'),
    ffnType: z.enum(['swiglu', 'gelu']).describe('swiglu has three FFN matrices, gelu two'),
    tiedEmbeddings: z.boolean().default(false).describe('input embedding shared with the LM head'),
    positionEmbedding: z.enum(['rope', 'learned']).nullable().default('rope'),
    moe: MoeSchema.nullable().optional(),
    mla: MlaSchema.nullable().optional(),
    attention: AttentionSchema.nullable().optional(),
    dropout: z.number().min(0).max(1).optional().describe('dropout probability on the residual branches and attention scores; above 0 the backward keeps 1-byte masks (Korthikanti et al. 2022 Table 2); default: 0.1 for GPT-style (gelu) blocks, 0 otherwise'),
    mtpLayers: nonNegInt(64)
      .optional()
      .describe('multi-token prediction modules (DeepSeek-V3 §2.2; default 0): each adds a 2h→h projection, one transformer block and another pass through the shared LM head'),
  })
  .superRefine((m, ctx) => {
    const kv = m.kvHeads ?? m.heads;
    if (m.heads % kv !== 0) {
      ctx.addIssue({ code: 'custom', path: ['kvHeads'], message: `heads (${m.heads}) must be a multiple of kvHeads (${kv})` });
    }
    if (m.mla && m.kvHeads !== undefined && m.kvHeads !== m.heads) {
      ctx.addIssue({ code: 'custom', path: ['kvHeads'], message: `MLA gives every query head its own key and value: kvHeads (${m.kvHeads}) must equal heads (${m.heads}) or be left out` });
    }
    if (!m.mla && m.headDim === undefined && m.hidden % m.heads !== 0) {
      ctx.addIssue({ code: 'custom', path: ['headDim'], message: `hidden (${m.hidden}) is not divisible by heads (${m.heads}); give headDim` });
    }
    if (m.moe) {
      if (m.moe.topK > m.moe.experts) {
        ctx.addIssue({ code: 'custom', path: ['moe', 'topK'], message: `topK (${m.moe.topK}) exceeds experts (${m.moe.experts})` });
      }
      if (m.moe.firstDenseLayers > m.layers) {
        ctx.addIssue({ code: 'custom', path: ['moe', 'firstDenseLayers'], message: `firstDenseLayers (${m.moe.firstDenseLayers}) exceeds layers (${m.layers})` });
      }
      const list = m.moe.layerIndices;
      if (list) {
        if (m.moe.moeLayerFrequency !== 1 || m.moe.firstDenseLayers !== 0) {
          ctx.addIssue({ code: 'custom', path: ['moe', 'layerIndices'], message: 'give either layerIndices or moeLayerFrequency/firstDenseLayers, not both' });
        }
        const k = list.findIndex((v, j) => v >= m.layers || (j > 0 && v <= list[j - 1]));
        if (k >= 0) {
          const reason = list[k] >= m.layers ? `must be below layers (${m.layers})` : `must be above the previous index (${list[k - 1]}): ascending, no repeats`;
          ctx.addIssue({ code: 'custom', path: ['moe', 'layerIndices', k], message: `${list[k]} ${reason}` });
        }
      }
    }
    const a = m.attention;
    if (a) {
      if (a.pattern.length > m.layers) {
        ctx.addIssue({ code: 'custom', path: ['attention', 'pattern'], message: `pattern has ${a.pattern.length} entries, more than layers (${m.layers})` });
      }
      const uses = (t: string) => a.pattern.some((p) => p.startsWith(t));
      for (const [type, field] of [['chunked', 'chunkTokens'], ['sliding', 'windowTokens']] as const) {
        if (uses(type) && a[field] === undefined) ctx.addIssue({ code: 'custom', path: ['attention', field], message: `pattern has ${type} layers: give ${field}` });
        if (!uses(type) && a[field] !== undefined) ctx.addIssue({ code: 'custom', path: ['attention', field], message: `${field} given but pattern has no ${type} layer` });
      }
    }
  });

export type Model = z.output<typeof ModelSchema>;
export type Moe = z.output<typeof MoeSchema>;
export type Mla = z.output<typeof MlaSchema>;
export type Attention = z.output<typeof AttentionSchema>;
export type AttentionLayerType = z.output<typeof AttentionLayerTypeSchema>;
