/**
 * The software a run used, the fourth input beside model, system and plan: one profile per
 * framework and era (software/<name>.yaml, docs/research/software-profiles.md). A profile's
 * values are the defaults of the plan's software fields (attentionKernel, elementwise,
 * cudaGraphs, overlap.*, gradReduceFp32, gradientAccumulationFp32, crossEntropy,
 * fp8PrimaryWeights); a field the plan sets itself wins. Settings a profile can state but the
 * step model does not cost are named by notModelled(), so a report never prints one number for
 * two settings without saying so.
 */
import { z } from 'zod';
import { posInt, nonNegInt, fraction, count } from './common.js';
import { FP8_RECIPES, FP8_CAST_KERNELS, type Plan } from './plan.js';

export const Fp8RecipeSchema = z.enum(FP8_RECIPES);
export const Fp4RecipeSchema = z.enum(['nvfp4', 'mxfp4']);

export const SoftwareSchema = z
  .strictObject({
    name: z.string().min(1).max(200).default('inline').describe('profile name (the file name without extension); "inline" when a scenario gives the profile inline without one'),
    description: z.string().optional(),
    framework: z
      .enum(['megatron-lm', 'megatron-core', 'nemo', 'megatron-bridge', 'deepspeed', 'torchtitan', 'llm-foundry', 'fms-fsdp', 'flash-attention-training', 'glm', 'meta-internal', 'hai-llm', 'other'])
      .default('other'),
    era: z.string().max(100).optional().describe('YYYY or YYYY-MM..YYYY-MM of the code the runs used'),
    attention: z
      .strictObject({
        kernel: z.enum(['flash', 'flash2', 'flash1', 'unfused']).default('flash').describe('as plan.attentionKernel: flash = FA3 / cuDNN fused on Hopper+, flash2 = FA2 / SDPA, flash1 = FA1 or the 2022 Triton kernel, unfused = materialised softmax'),
        implementation: z.string().max(200).optional().describe('free text for the report (cudnn-fused, fa3, sdpa-fa2, triton-2022, materialised)'),
        maskedSoftmaxFusion: z.boolean().default(true).describe('unfused only: Megatron fused scale-mask-softmax kernel'),
      })
      .prefault({}),
    elementwise: z.enum(['fused', 'compiled', 'eager']).default('fused').describe('fused: hand-fused kernels (Transformer Engine, apex); compiled: torch.compile (Inductor) fusion, costed as fused; eager: one kernel per op'),
    selectiveRecompute: z.enum(['megatron-modules', 'torchtitan-op-sac', 'fms-block-fraction']).default('megatron-modules').describe('what plan.recompute = selective means in this framework'),
    overlap: z
      .strictObject({
        tp: z.enum(['none', 'bulk', 'userbuffers', 'async-tp']).default('none').describe('TP communication overlap: none (on the critical path), bulk (beside an independent GEMM), userbuffers (TE split-pipelined), async-tp (torch micro-pipelining)'),
        tpExposedShare: fraction().optional().describe('share of the overlapped TP collectives still exposed (documentation; the step model uses the GPU profile)'),
        tpCommSms: posInt(1024).optional().describe('SMs given to TP communication kernels (documentation)'),
        dpGradReduce: z.boolean().default(true).describe('DP gradient reduce overlapped with the backward (plan.overlap.dp)'),
        dpParamGather: z.boolean().default(true).describe('DP / FSDP parameter all-gather overlapped with the forward'),
        dpBucketParams: z.union([z.literal('per-layer'), z.literal('megatron-default'), count(1e12)]).default('megatron-default').describe('megatron-default = max(40M, 1M x dp) parameters; per-layer = one FSDP unit per block'),
        dpAlignAcrossPp: z.boolean().default(false),
        pp: z.boolean().default(true).describe('steady-state PP send/recv overlapped (plan.overlap.pp)'),
        ep: z.boolean().default(false).describe('MoE all-to-all overlapped with another micro-batch (plan.overlap.ep)'),
      })
      .prefault({}),
    dataParallel: z.enum(['ddp', 'distributed-optimizer', 'fsdp', 'fsdp2', 'megatron-fsdp', 'deepspeed-zero']).optional(),
    gradReducePrecision: z.enum(['fp32', 'bf16', 'fp16']).default('bf16').describe('precision of the DP gradient reduce (fp32 -> plan.gradReduceFp32)'),
    gradientAccumulationFp32: z.boolean().default(true).describe('fp32 main-gradient buffer (plan.gradientAccumulationFp32)'),
    paramGatherPrecision: z.enum(['bf16', 'fp8']).default('bf16').describe('fp8: weights kept and gathered in fp8 (plan.fp8PrimaryWeights)'),
    crossEntropy: z.enum(['fp32-upcast', 'vocab-parallel', 'fused']).optional().describe('loss kernel (plan.crossEntropy); default: the plan default'),
    lowPrecision: z
      .strictObject({
        fp8Recipe: Fp8RecipeSchema.optional().describe('scaling recipe when plan.precision = fp8'),
        fp4Recipe: Fp4RecipeSchema.optional().describe('scaling recipe when plan.precision = fp4'),
        castBytesPerElement: z.number().min(0).max(64).optional().describe('HBM bytes per GEMM-operand element for scaling and casting (documentation; the step model derives them from the recipe and castKernels, step/costs/compute.ts fp8CastTraffic)'),
        castKernels: z.enum(FP8_CAST_KERNELS).default('transformer-engine').describe('who quantises the fp8 GEMM operands: transformer-engine (fused cast-transpose) or torchao (Float8Linear, torch.compile-generated casts) (plan.fp8Casts)'),
        weightCast: z.enum(['per-micro-batch', 'per-step']).default('per-micro-batch').describe('fp8 weight casts every micro-batch, or once per step (TE weight cache after is_first_microbatch, fp8 primary weights) (plan.fp8WeightCast)'),
        fp8NotModelled: z.array(z.string().min(1).max(300)).max(20).default([]).describe('what this stack does in fp8 runs that the step model does not cost, each "<what> (costed as <what is>)", with its evidence in the profile; reported as not modelled for the fp8 runs on it only'),
        fp8WeightCopies: z.boolean().default(false).describe('fp8 copies of the weights kept between forward and backward'),
        fp8ActivationCache: z.boolean().default(false).describe('DeepSeek-V3 §3.3.3 activation caching (plan.fp8ActivationCache)'),
        optimizerMoments: z.enum(['fp32', 'bf16']).default('fp32').describe('precision of Adam\'s moments (plan.optimizerMoments)'),
      })
      .prefault({}),
    cudaGraphs: z.enum(['none', 'modules', 'full-iteration']).default('none').describe('modules = Transformer Engine per-module capture (costed as none); full-iteration = whole step (plan.cudaGraphs)'),
    moe: z
      .strictObject({
        dispatcher: z.enum(['allgather', 'alltoall', 'deepep', 'hybridep']).default('alltoall'),
        dispatchPrecision: z.enum(['bf16', 'fp8']).default('bf16'),
        groupedGemm: z.boolean().default(true),
        permuteFusion: z.boolean().default(true),
      })
      .prefault({}),
    allocator: z
      .strictObject({
        expandableSegments: z.boolean().default(false).describe('PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True (plan.expandableSegments)'),
      })
      .prefault({}),
    activationOffloadLayers: nonNegInt(1 << 14).default(0).describe('layers whose activations wait in host memory (plan.offloadLayers when > 0)'),
    stackNotModelled: z.array(z.string().min(1).max(300)).max(20).default([]).describe('what this stack does that the step model does not cost, each "<what> (costed as <what is>)", stated with its evidence in the profile; reported as not modelled for every run on it'),
    sources: z.array(z.string()).default([]).describe('source keys of docs/research/software-profiles.md §2'),
  })
  .describe('clusterplan software profile');

export type Software = z.output<typeof SoftwareSchema>;

/** The profile a scenario or case gets when it names none: today's defaults (software/generic-2024.yaml). */
export const DEFAULT_SOFTWARE = 'generic-2024';

/** What a software profile sets in the plan: the defaults the plan's own fields override. */
export function softwarePlanDefaults(sw: Software): Partial<Record<keyof Plan, unknown>> & { overlap: Record<string, boolean> } {
  return {
    attentionKernel: sw.attention.kernel,
    elementwise: sw.elementwise === 'eager' ? 'eager' : 'fused',
    cudaGraphs: sw.cudaGraphs === 'full-iteration' ? 'full-iteration' : 'none',
    overlap: { dp: sw.overlap.dpGradReduce, tp: sw.overlap.tp !== 'none', pp: sw.overlap.pp, ep: sw.overlap.ep },
    gradReduceFp32: sw.gradReducePrecision === 'fp32',
    gradientAccumulationFp32: sw.gradientAccumulationFp32,
    ...(sw.crossEntropy ? { crossEntropy: sw.crossEntropy } : {}),
    ...(sw.paramGatherPrecision === 'fp8' ? { fp8PrimaryWeights: true } : {}),
    ...(sw.activationOffloadLayers > 0 ? { offloadLayers: sw.activationOffloadLayers } : {}),
    ...(sw.lowPrecision.fp8Recipe ? { fp8Recipe: sw.lowPrecision.fp8Recipe } : {}),
    fp8Casts: sw.lowPrecision.castKernels,
    fp8WeightCast: sw.lowPrecision.weightCast,
    ...(sw.allocator.expandableSegments ? { expandableSegments: true } : {}),
    ...(sw.lowPrecision.fp8ActivationCache ? { fp8ActivationCache: true } : {}),
    ...(sw.lowPrecision.optimizerMoments === 'bf16' ? { optimizerMoments: 'bf16' } : {}),
  };
}

/**
 * fp8 recipes whose casts and GEMMs the step model costs (step/costs/compute.ts fp8CastTraffic):
 * the per-tensor recipes. The other recipes' casts are costed, but their GEMM kernels run at the
 * per-tensor GEMM efficiency although they are slower: MXFP8 block-scaled GEMMs on Blackwell
 * "perform less efficiently than full tensor-wise FP8" (Megatron-Bridge performance summary;
 * docs/research/software-profiles.md §5: tensorwise 2-12 % faster end to end on dense Llama),
 * CUTLASS rowwise-scaled kernels on Hopper, software-scaled 1×128 blocks (DeepSeek-V3 §3.3.2).
 */
function fp8RecipeNotModelled(recipe: string, computeCapability: number | undefined): string | null {
  if (recipe === 'delayed' || recipe === 'tensorwise') return null;
  if (recipe === 'mxfp8' && (computeCapability ?? 0) < 10) return 'fp8 recipe mxfp8 before Blackwell (costed as Blackwell MXFP8 at per-tensor GEMM efficiency)';
  return `fp8 recipe ${recipe} GEMM kernel (casts costed; the GEMM at per-tensor efficiency)`;
}

/**
 * The profile's settings that the step model does not represent for this plan, each as
 * "<setting> (costed as <what is>)". A run that uses one gets the number of the costed setting;
 * the report says so. Only settings that act on this plan are listed (an fp8 recipe only in an
 * fp8 run, a dispatcher only with EP, a TP overlap kind only with TP).
 */
export function notModelled(sw: Software, plan: Pick<Plan, 'precision' | 'tp' | 'ep' | 'recompute'>, computeCapability?: number): string[] {
  const out: string[] = [];
  const r8 = sw.lowPrecision.fp8Recipe;
  const r8Note = plan.precision === 'fp8' && r8 ? fp8RecipeNotModelled(r8, computeCapability) : null;
  if (r8Note) out.push(r8Note);
  if (plan.precision === 'fp8') out.push(...sw.lowPrecision.fp8NotModelled);
  const r4 = sw.lowPrecision.fp4Recipe;
  if (plan.precision === 'fp4' && r4 && r4 !== 'nvfp4') out.push(`fp4 recipe ${r4} (costed as nvfp4)`);
  if (plan.tp > 1 && (sw.overlap.tp === 'async-tp' || sw.overlap.tp === 'bulk')) out.push(`TP overlap ${sw.overlap.tp} (costed as userbuffers)`);
  if (sw.cudaGraphs === 'modules') out.push('CUDA graphs per module (costed as none)');
  if (plan.ep > 1 && sw.moe.dispatcher !== 'alltoall') out.push(`MoE dispatcher ${sw.moe.dispatcher} (costed as all-to-all)`);
  if (plan.ep > 1 && sw.moe.dispatchPrecision === 'fp8') out.push('fp8 MoE dispatch (costed as bf16)');
  if (plan.recompute === 'selective' && sw.selectiveRecompute === 'fms-block-fraction') out.push('fms-fsdp block-fraction recompute (costed as Megatron selective)');
  out.push(...sw.stackNotModelled);
  return out;
}

/** A profile with overrides applied: nested objects merge, anything else replaces; "a.b" keys address nested fields. */
export function mergeSoftware(base: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const dot = key.indexOf('.');
    if (dot > 0) {
      const head = key.slice(0, dot);
      const inner = out[head];
      out[head] = mergeSoftware(isRecord(inner) ? inner : {}, { [key.slice(dot + 1)]: value });
    } else if (isRecord(value) && isRecord(out[key])) out[key] = mergeSoftware(out[key] as Record<string, unknown>, value);
    else out[key] = value;
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
