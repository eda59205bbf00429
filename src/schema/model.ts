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
    seqLen: posInt(1 << 24).describe('training sequence length in tokens'),
    ffnType: z.enum(['swiglu', 'gelu']).describe('swiglu has three FFN matrices, gelu two'),
    tiedEmbeddings: z.boolean().default(false).describe('input embedding shared with the LM head'),
    positionEmbedding: z.enum(['rope', 'learned']).nullable().default('rope'),
    moe: MoeSchema.nullable().optional(),
    mla: MlaSchema.nullable().optional(),
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
    }
  });

export type Model = z.output<typeof ModelSchema>;
export type Moe = z.output<typeof MoeSchema>;
export type Mla = z.output<typeof MlaSchema>;
