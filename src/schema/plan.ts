/** The parallelism plan: how the model is split and scheduled across the cluster. */
import { z } from 'zod';
import { posInt, nonNegInt, count, quantity } from './common.js';

/** fp8 scaling recipes (software profiles' lowPrecision.fp8Recipe; plan.fp8Recipe). */
export const FP8_RECIPES = ['delayed', 'tensorwise', 'rowwise', 'rowwise-gw-hp', 'blockwise', 'mxfp8'] as const;
/** Who quantises fp8 GEMM operands (software profiles' lowPrecision.castKernels; plan.fp8Casts). */
export const FP8_CAST_KERNELS = ['transformer-engine', 'torchao'] as const;

export const ScheduleSchema = z.enum(['gpipe', '1f1b', 'interleaved-1f1b', 'zero-bubble', 'dualpipe']);
/**
 * none; selective (Korthikanti 2022: the attention core, or with fused attention the cheap
 * elementwise ops); op-sac (torchtitan's per-op selective checkpointing: every other matmul
 * output is recomputed); full (only each layer's input is kept).
 */
export const RecomputeSchema = z.enum(['none', 'selective', 'op-sac', 'full']);
/** Megatron-Core's recompute_modules (TransformerConfig.recompute_modules), minus "moe". */
export const RecomputeModuleSchema = z.enum(['core_attn', 'layernorm', 'moe_act', 'mla_up_proj', 'mlp', 'shared_experts']);
export const PrecisionSchema = z.enum(['bf16', 'fp8', 'fp4']);

const GlobalBatchSchema = z.union([
  posInt(1e9),
  z.strictObject({ sequences: posInt(1e9) }),
  z.strictObject({ tokens: count(1e15) }),
]);

export const PlanSchema = z
  .strictObject({
    tp: posInt(1024).default(1).describe('tensor parallel degree'),
    cp: posInt(1024).default(1).describe('context parallel degree'),
    pp: posInt(1024).default(1).describe('pipeline stages'),
    vpp: posInt(1024).default(1).describe('virtual stages (model chunks) per pipeline rank'),
    schedule: ScheduleSchema.optional().describe('default: interleaved-1f1b when vpp > 1, else 1f1b'),
    dp: z
      // "auto" reads as absent; a preprocess (not a union) keeps number errors plain ("must be a whole number").
      .preprocess((v) => (v === 'auto' ? undefined : v), posInt(1e7).optional())
      .describe('data parallel degree, or "auto" (the default): what is left, GPUs / (tp·cp·pp)'),
    zeroStage: nonNegInt(3).default(1).describe('0 none, 1 optimizer, 2 +gradients, 3 +parameters (FSDP full shard)'),
    ep: posInt(1e6).default(1).describe('expert parallel degree (MoE)'),
    etp: posInt(1024).optional().describe('tensor parallel degree inside experts; default 1 with EP, else tp'),
    microBatch: posInt(1e6).default(1).describe('sequences per micro-batch'),
    seqLen: posInt(1 << 24).optional().describe('training sequence length in tokens (of this stage: the model file holds none, so one model serves every context length)'),
    globalBatch: GlobalBatchSchema.describe('sequences per step (a number or {sequences}), or {tokens}'),
    recompute: RecomputeSchema.default('none'),
    recomputeModules: z
      .array(RecomputeModuleSchema)
      .optional()
      .describe(
        "with recompute: selective, Megatron-Core's recompute_modules: core_attn (the attention kernel), layernorm (both norms), moe_act (the routed experts' activation), mla_up_proj (MLA's up-projections and RoPE), mlp (dense MLP layers), shared_experts. Default: core_attn with unfused attention, else the norms and every FFN activation",
      ),
    precision: PrecisionSchema.default('bf16'),
    sequenceParallel: z.boolean().optional().describe('Megatron sequence parallelism; default: on when tp > 1'),
    attentionKernel: z
      .enum(['flash', 'flash2', 'flash1', 'unfused'])
      .default('flash')
      .describe('flash: the best fused kernel for the GPU (FA3/cuDNN on Hopper); flash2: FlashAttention-2-class; flash1: FlashAttention-1 / 2022 Triton kernels; unfused: materialised softmax (Megatron 2022)'),
    elementwise: z
      .enum(['fused', 'eager'])
      .default('fused')
      .describe('fused: norms, RoPE and the FFN activation run as single fused kernels (Transformer Engine, torch.compile); eager: PyTorch eager decompositions (fp32 upcasts, one kernel per op), several times the HBM traffic'),
    cudaGraphs: z
      .enum(['none', 'full-iteration'])
      .default('none')
      .describe('full-iteration: the whole step is captured in one CUDA graph (MoE experts padded to a fixed capacity), so no host launch time is exposed'),
    cpMethod: z.enum(['allgather', 'ring']).default('allgather').describe('Llama 3 all-gathers K/V; ring attention passes blocks'),
    layersPerStage: z
      .union([z.array(posInt(1 << 14)), z.literal('auto')])
      .optional()
      .describe('uneven pipeline split: layers on each stage, or "auto" (spread the remainder, first and last stages lighter as they hold the embedding and LM head)'),
    overlap: z
      .strictObject({
        dp: z.boolean().default(true).describe('overlap DP reduce-scatter / all-gather with backward / forward'),
        tp: z.boolean().default(false).describe('overlap TP collectives with GEMMs (userbuffers / async TP)'),
        pp: z.boolean().default(true).describe('overlap PP sends with compute'),
        ep: z
          .boolean()
          .default(false)
          .describe("overlap MoE dispatch/combine all-to-alls with another micro-batch's compute (Megatron --overlap-moe-expert-parallel-comm / moe_a2a_overlap, DeepSeek-V3 DualPipe)"),
      })
      .prefault({}),
    moeRouting: z
      .strictObject({
        imbalance: z
          .number()
          .min(1)
          .max(1024)
          .default(1)
          .describe("tokens the busiest expert-parallel rank receives over the mean (a measured skew; 1 = perfectly balanced, the default: DeepSeek-V3's auxiliary-loss-free balancing keeps the load balanced per batch, §2.1.2)"),
        capacityFactor: z
          .number()
          .positive()
          .max(1024)
          .optional()
          .describe('capacity routing (GShard, Switch Transformer §2.2): each expert takes at most capacityFactor × the mean tokens and drops the rest, which caps the busiest rank at that factor; absent: dropless routing (Megatron-Core moe_expert_capacity_factor None)'),
      })
      .prefault({})
      .describe('MoE routing: load imbalance and dropless vs capacity routing'),
    gradientAccumulationFp32: z.boolean().default(true).describe('keep an fp32 main-gradient buffer (Megatron default)'),
    gradReduceFp32: z.boolean().default(false).describe('reduce gradients across DP in fp32 instead of bf16'),
    offloadLayers: nonNegInt(1 << 14).default(0).describe('layers per model chunk whose activations wait in host memory between forward and backward (Megatron cpu_offloading_num_layers)'),
    fp8PrimaryWeights: z.boolean().default(false).describe('fp8/fp4 runs keep the weights only in fp8 (Transformer Engine fp8_model_init, Megatron --fp8-param-gather; Megatron-Bridge fp8 recipes set it): no 16-bit copy beside the fp8 data and its transpose'),
    fp8Recipe: z.enum(FP8_RECIPES).default('tensorwise').describe('fp8 scaling recipe (from the software profile; tensorwise by default, as the generic profile): mxfp8 keeps rowwise and columnwise weight copies on every GPU, per-tensor recipes keep a transposed copy only where fp8 GEMMs take the TN layout alone (memory.ts lowPrecisionWeightBytes)'),
    fp8Casts: z.enum(FP8_CAST_KERNELS).default('transformer-engine').describe('who quantises the fp8 GEMM operands (from the software profile): transformer-engine (fused cast-transpose kernels) or torchao (Float8Linear under torch.compile); sets the bytes per element of the casts (step/costs/compute.ts fp8CastTraffic)'),
    fp8WeightCast: z.enum(['per-micro-batch', 'per-step']).default('per-micro-batch').describe('how often the weights are cast to fp8: every micro-batch (FSDP re-gathers 16-bit weights), or once per step (Transformer Engine caches the fp8 weight after is_first_microbatch; fp8 primary weights are quantised by the optimizer)'),
    optimizerMoments: z.enum(['fp32', 'bf16']).default('fp32').describe('precision of Adam\'s two moments (DeepSeek-V3 §3.3.3 tracks them in BF16; master weights stay fp32)'),
    fp8ActivationCache: z.boolean().default(false).describe('DeepSeek-V3 §3.3.3 FP8 activation caching (fp8 runs): the MoE SwiGLU input cached in FP8 with its output recomputed, the attention output cached once in E5M6 for the output projection and attention backward'),
    expandableSegments: z.boolean().default(false).describe('PyTorch caching allocator with PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True: no allocator fragmentation is charged (memory.ts allocatorSlackFraction)'),
    crossEntropy: z.enum(['fp32-upcast', 'vocab-parallel', 'fused']).default('fp32-upcast').describe('loss kernel, which sets the logits working set: fp32-upcast (PyTorch cross_entropy on .float() logits, 12 B per logit), vocab-parallel (Megatron: fp32 softmax kept in place, bf16 gradient, 6 B), fused (flash-attn xentropy: bf16 logits and bf16 gradient, 4 B)'),
  })
  .describe('parallelism plan');

export const TrainingSchema = z
  .strictObject({
    totalTokens: count(1e18).describe('token budget of the run'),
    checkpointInterval: quantity('seconds', { positive: true, min: 1, max: 1e8 }).optional(),
    checkpointAsync: z.boolean().default(false),
  })
  .describe('training run');

/**
 * A stage's plan: any plan field, none defaulted, so that what a stage leaves out is inherited
 * from the scenario's plan (src/plan/programme.ts merges them). `dp: auto` is kept as "auto" here
 * (it re-derives dp even where the scenario fixed one).
 */
export const StagePlanSchema = (() => {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(PlanSchema.shape) as [string, z.ZodType][]) {
    if (key === 'dp') shape[key] = z.union([z.literal('auto'), posInt(1e7)]).optional().describe('data parallel degree, or "auto": what is left of the stage\'s GPUs');
    else if (key === 'overlap') {
      const inner = PlanSchema.shape.overlap.unwrap().shape;
      shape[key] = z.strictObject(Object.fromEntries(Object.entries(inner).map(([k, f]) => [k, f.removeDefault().optional()]))).optional();
    } else shape[key] = (field instanceof z.ZodDefault ? (field.removeDefault() as z.ZodType) : field).optional();
  }
  return z.strictObject(shape).describe('plan fields this stage changes');
})();

export type Plan = z.output<typeof PlanSchema>;
export type Training = z.output<typeof TrainingSchema>;
export type RecomputeModule = z.output<typeof RecomputeModuleSchema>;

/**
 * What selective recompute re-runs, as Megatron-Core recompute_modules names it. Without an
 * explicit list: the attention core when scores are materialised (Korthikanti 2022, Megatron's
 * default core_attn), else the norms and every FFN activation ("activation", dense included: the
 * cheap elementwise set that fused-attention stacks recompute). Empty unless recompute is selective.
 */
export function recomputedModules(plan: Pick<Plan, 'recompute' | 'recomputeModules' | 'attentionKernel'>): ReadonlySet<RecomputeModule | 'activation'> {
  if (plan.recompute !== 'selective') return new Set();
  if (plan.recomputeModules) return new Set(plan.recomputeModules);
  return new Set(plan.attentionKernel === 'unfused' ? ['core_attn'] : ['layernorm', 'activation']);
}
