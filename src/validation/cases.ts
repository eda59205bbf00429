/**
 * Published measurements (the validation case format of ../shared/validation/README.md) turned
 * into scenarios, predicted, and scored: throughput error first, MFU error in the source's own
 * points, memory error.
 */
import { z } from 'zod';
import type { Gpu, Node, Fabric } from '../schema/system.js';
import { ModelSchema } from '../schema/model.js';
import { PlanSchema, TrainingSchema } from '../schema/plan.js';
import { SimulationSchema } from '../schema/scenario.js';
import { resolveModel, resolvePlan, type Scenario } from '../plan/resolve.js';
import { evaluate, type Evaluation, type EngineName } from '../run/evaluate.js';
import { recipeSettings, hasFullIterationFlag } from './recipes.js';

const num = z.number().nullable().optional();

/** Lenient case schema: unknown fields are kept and ignored, so newer files still load. */
export const CaseSchema = z.object({
  id: z.string(),
  source: z.object({ title: z.string(), url: z.string().optional(), table: z.string().optional(), kind: z.string().optional() }).loose(),
  model: z.object({}).loose(),
  hardware: z.object({ gpu: z.string(), gpus: z.number().int().positive(), gpusPerNode: z.number().int().positive().nullable().optional(), nodeNetworkGbps: num, note: z.string().nullable().optional() }).loose(),
  layout: z.object({}).loose(),
  measured: z.object({ stepSeconds: num, tokensPerSecondPerGpu: num, tflopsPerGpu: num, mfu: num, mfuPeakTflops: num, memoryGiBPerGpu: num }).loose(),
  flags: z.array(z.string()).default([]),
  notes: z.string().nullable().optional(),
}).loose();
export type ValidationCase = z.output<typeof CaseSchema>;

export interface ProfileLookup {
  gpu(name: string): Gpu | undefined;
  node(name: string): Node | undefined;
  fabric(name: string): Fabric | undefined;
}

/** Short source name: the repository, or the paper's first words. */
export function sourceKey(title: string): string {
  const repo = /^([\w.-]+\/[\w.-]+)/.exec(title);
  if (repo) return repo[1];
  return title.split(/[,(]/)[0].trim();
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
  if (sourceKey(c.source.title) !== 'pytorch/torchtitan') return 'fused';
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
export function gpuProfileName(c: ValidationCase): string {
  if (c.flags.includes('h100-96gb-hbm2e-variant-not-standard-sxm') && c.flags.includes('power-capped-500w')) return 'h100-hbm2e-94gb-500w';
  return c.hardware.gpu;
}

/** Builds a scenario from a case, or says why it cannot be modelled. */
export function caseToScenario(c: ValidationCase, profiles: ProfileLookup): { scenario?: Scenario; reason?: string } {
  const gpu = profiles.gpu(gpuProfileName(c));
  if (!gpu) return { reason: `no GPU profile for "${gpuProfileName(c)}"` };
  if (c.flags.some((f) => f.startsWith('task-finetune-lora'))) return { reason: 'LoRA fine-tuning (frozen base weights) is not modelled' };
  const baseNode = gpu.defaultNode ? profiles.node(gpu.defaultNode) : undefined;
  const fabric = gpu.defaultFabric ? profiles.fabric(gpu.defaultFabric) : undefined;
  if (!baseNode || !fabric) return { reason: `GPU profile ${gpu.name} names no usable default node/fabric` };
  const gpusPerNode = c.hardware.gpusPerNode ?? baseNode.gpusPerNode;
  const node: Node = { ...baseNode, gpusPerNode, nics: { ...baseNode.nics } };
  if (gpusPerNode !== baseNode.gpusPerNode) node.nics.perNode = Math.max(1, Math.round((baseNode.nics.perNode / baseNode.gpusPerNode) * gpusPerNode));
  if (c.hardware.nodeNetworkGbps) node.nics.rate = (c.hardware.nodeNetworkGbps * 1e9) / 8 / node.nics.perNode;

  const m = c.model as Record<string, unknown>;
  const { name: _n, paramsTotal: _pt, paramsActive: _pa, ...modelFields } = m;
  const modelIn = Object.fromEntries(Object.entries(modelFields).filter(([, v]) => v !== null && v !== undefined));
  if (m.moe) {
    const moe = Object.fromEntries(Object.entries(m.moe as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined));
    modelIn.moe = moe;
  }
  if (modelIn.mtpLayers === undefined) {
    const mtp = mtpLayersFromNotes(c.notes ?? '');
    if (mtp > 0) modelIn.mtpLayers = mtp;
  }
  // MPT trains without dropout: MPTConfig's attn_pdrop, resid_pdrop and emb_pdrop default to 0
  // (llmfoundry/models/mpt/configuration_mpt.py) and the benchmark yamls leave them unset.
  if (modelIn.dropout === undefined && sourceKey(c.source.title) === 'mosaicml/llm-foundry') modelIn.dropout = 0;
  if (modelIn.mla === undefined) {
    const mla = mlaFromNotes(c.notes ?? '');
    if (mla) modelIn.mla = mla;
  }
  const modelParsed = ModelSchema.safeParse(modelIn);
  if (!modelParsed.success) return { reason: `model: ${modelParsed.error.issues[0].path.join('.')}: ${modelParsed.error.issues[0].message}` };
  const model = resolveModel(modelParsed.data);

  const l = c.layout as Record<string, unknown>;
  const software = sourceSoftware(c.source.title);
  const recomputeModules = recomputeModulesFromFlags(c.flags);
  // Megatron-Bridge recipe settings the case format has no field for (src/validation/recipes.ts).
  const recipe = sourceKey(c.source.title) === 'NVIDIA-NeMo/Megatron-Bridge' ? recipeSettings(c, recomputeModules)?.set : undefined;
  const pick = (k: string) => (l[k] === null ? undefined : l[k]);
  const tp = (pick('tp') as number) ?? 1;
  const pp = (pick('pp') as number) ?? 1;
  const vpp = (pick('vpp') as number) ?? 1;
  const planIn = {
    tp,
    cp: pick('cp') ?? 1,
    pp,
    vpp,
    dp: pick('dp'),
    ep: pick('ep') ?? 1,
    zeroStage: pick('zeroStage') ?? 1,
    microBatch: pick('microBatch') ?? 1,
    globalBatch: pick('globalBatchSequences'),
    // torchtitan's "selective" is per-op SAC (flag recompute-torchtitan-op-sac), a different policy.
    recompute: c.flags.includes('recompute-torchtitan-op-sac') ? 'op-sac' : pick('recompute') ?? 'none',
    // Megatron-Core recompute_modules as the case flags list them (recompute-selective-modules-a+b).
    recomputeModules,
    precision: pick('precision') ?? 'bf16',
    sequenceParallel: pick('sequenceParallel') ?? tp > 1,
    layersPerStage: model.layers % (pp * vpp) === 0 && model.layers % pp === 0 ? undefined : 'auto',
    attentionKernel: software.attentionKernel,
    elementwise: elementwiseMode(c),
    // Megatron-Bridge 26.06+ MoE recipes: experts padded to capacity 1.5 and the whole iteration
    // captured in one CUDA graph (flag moe-expert-capacity-1.5-padded-full-iteration-cuda-graph).
    cudaGraphs: hasFullIterationFlag(c) || recipe?.fullIterationCudaGraph ? 'full-iteration' : 'none',
    gradReduceFp32: software.gradReduceFp32,
    crossEntropy: software.crossEntropy,
    // Megatron-Bridge's fp8 recipes keep fp8 primary weights: get_precision_config maps fp8_cs to
    // bf16_with_fp8_current_scaling_mixed and fp8_mx to bf16_with_mxfp8_mixed, which (like the
    // delayed recipe) set fp8_param_gather = True; the subchannel (blockwise) recipe does not.
    // Megatron-Bridge's GPT-OSS performance configs keep bf16 main gradients:
    // set_gpt_oss_common_configs (scripts/performance/configs/gpt_oss/gpt_oss_llm_pretrain.py)
    // sets mixed_precision.grad_reduce_in_fp32 = ddp.grad_reduce_in_fp32 = False.
    ...(sourceKey(c.source.title) === 'NVIDIA-NeMo/Megatron-Bridge' && /\bpreset GPT_OSS_/.test(c.notes ?? '') ? { gradientAccumulationFp32: false } : {}),
    // Megatron-Bridge presets that offload activations to the CPU: the notes give the preset's
    // cpu_offloading_num_layers (flag activation-offload).
    offloadLayers: c.flags.includes('activation-offload') ? Number(/cpu_offloading_num_layers=(\d+)/.exec(c.notes ?? '')?.[1] ?? 0) : 0,
    fp8PrimaryWeights: sourceKey(c.source.title) === 'NVIDIA-NeMo/Megatron-Bridge' && c.flags.some((f) => /^fp8-(current-scaling|mxfp8-block-scaling|per-tensor-scaling)/.test(f)),
    overlap: { tp: software.overlapTp, ...(recipe?.overlapEp ? { ep: true } : {}) },
  };
  const planParsed = PlanSchema.safeParse(planIn);
  if (!planParsed.success) return { reason: `layout: ${planParsed.error.issues[0].path.join('.')}: ${planParsed.error.issues[0].message}` };
  const { plan, problems } = resolvePlan(planParsed.data, model, c.hardware.gpus);
  if (!plan) return { reason: `layout: ${problems[0].field}: ${problems[0].reason}` };
  return {
    scenario: {
      name: c.id,
      file: c.id,
      model,
      gpu,
      node,
      fabric,
      cluster: { gpus: c.hardware.gpus, nodes: Math.ceil(c.hardware.gpus / gpusPerNode), spareNodes: 0, pricePerGpuHour: 0, pue: 1 },
      plan,
      training: TrainingSchema.parse({ totalTokens: plan.globalBatchSequences * model.seqLen }),
      simulation: SimulationSchema.parse({}),
    },
  };
}

export interface CaseResult {
  id: string;
  source: string;
  gpu: string;
  skipped: boolean;
  reason: string | null;
  predicted: { stepSeconds: number; tokensPerSecondPerGpu: number; tflopsPerGpu: number; mfu: number; memoryGiBPerGpu: number } | null;
  measured: { stepSeconds: number | null; tokensPerSecondPerGpu: number | null; tflopsPerGpu: number | null; mfu: number | null; mfuPeakTflops: number | null; memoryGiBPerGpu: number | null };
  errors: { throughputRel: number | null; mfuPoints: number | null; memoryRel: number | null };
}

const GiB = 1024 ** 3;

/** Scores one prediction against the case's measurements (README "How to score"). */
export function scoreCase(c: ValidationCase, ev: Evaluation | null, reason?: string): CaseResult {
  const ms = c.measured;
  const measured = {
    stepSeconds: ms.stepSeconds ?? null,
    tokensPerSecondPerGpu: ms.tokensPerSecondPerGpu ?? null,
    tflopsPerGpu: ms.tflopsPerGpu ?? null,
    mfu: ms.mfu ?? null,
    mfuPeakTflops: ms.mfuPeakTflops ?? null,
    memoryGiBPerGpu: ms.memoryGiBPerGpu ?? null,
  };
  const base = { id: c.id, source: sourceKey(c.source.title), gpu: c.hardware.gpu, measured };
  if (!ev) return { ...base, skipped: true, reason: reason ?? 'not modelled', predicted: null, errors: { throughputRel: null, mfuPoints: null, memoryRel: null } };
  const peakTflops = measured.mfuPeakTflops ?? ev.throughput.peakTflops;
  const predicted = {
    stepSeconds: ev.step.seconds,
    tokensPerSecondPerGpu: ev.throughput.tokensPerSecondPerGpu,
    tflopsPerGpu: ev.throughput.tflopsPerGpu,
    // The model's MFU against the same peak the source used.
    mfu: ev.throughput.tflopsPerGpu / peakTflops,
    memoryGiBPerGpu: ev.memory.perGpuBytes / GiB,
  };
  let throughputRel: number | null = null;
  if (measured.tokensPerSecondPerGpu) throughputRel = predicted.tokensPerSecondPerGpu / measured.tokensPerSecondPerGpu - 1;
  else if (measured.stepSeconds) throughputRel = measured.stepSeconds / predicted.stepSeconds - 1;
  else if (measured.mfu) throughputRel = predicted.mfu / measured.mfu - 1;
  else if (measured.tflopsPerGpu) throughputRel = predicted.tflopsPerGpu / measured.tflopsPerGpu - 1;
  const measuredMfu = measured.mfu ?? (measured.tflopsPerGpu && measured.mfuPeakTflops ? measured.tflopsPerGpu / measured.mfuPeakTflops : null);
  const mfuPoints = throughputRel !== null && measuredMfu !== null ? 100 * measuredMfu * Math.abs(throughputRel) : null;
  const memoryRel = measured.memoryGiBPerGpu ? predicted.memoryGiBPerGpu / measured.memoryGiBPerGpu - 1 : null;
  return { ...base, skipped: false, reason: null, predicted, errors: { throughputRel, mfuPoints, memoryRel } };
}

export interface Summary {
  cases: number;
  skipped: number;
  throughputRelError: { median: number | null; p90: number | null; max: number | null };
  mfuAbsErrorPoints: { median: number | null; max: number | null };
  memoryRelError: { median: number | null };
}

/** Quantile by linear interpolation between order statistics. */
export function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const pos = (v.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

/** Summarises case results: medians, p90 and max of absolute errors. */
export function summarise(results: CaseResult[]): Summary {
  const done = results.filter((r) => !r.skipped);
  const thr = done.map((r) => r.errors.throughputRel).filter((x): x is number => x !== null).map(Math.abs);
  const mfu = done.map((r) => r.errors.mfuPoints).filter((x): x is number => x !== null);
  const mem = done.map((r) => r.errors.memoryRel).filter((x): x is number => x !== null).map(Math.abs);
  return {
    cases: results.length,
    skipped: results.length - done.length,
    throughputRelError: { median: quantile(thr, 0.5), p90: quantile(thr, 0.9), max: thr.length ? Math.max(...thr) : null },
    mfuAbsErrorPoints: { median: quantile(mfu, 0.5), max: mfu.length ? Math.max(...mfu) : null },
    memoryRelError: { median: quantile(mem, 0.5) },
  };
}

/** Summary overall, per source and per GPU. */
export function summariseAll(results: CaseResult[]) {
  const group = (key: (r: CaseResult) => string) => {
    const out: Record<string, Summary> = {};
    for (const k of [...new Set(results.map(key))].sort()) out[k] = summarise(results.filter((r) => key(r) === k));
    return out;
  };
  return { ...summarise(results), bySource: group((r) => r.source), byGpu: group((r) => r.gpu) };
}

/** Predicts and scores every case of one parsed file; malformed cases are skipped with the reason. */
export function validateCases(items: unknown[], label: string, profiles: ProfileLookup, engine?: EngineName): CaseResult[] {
  return items.map((item, i) => {
    const parsed = CaseSchema.safeParse(item);
    if (!parsed.success) {
      const id = (item as { id?: unknown } | null)?.id;
      const issue = parsed.error.issues[0];
      return {
        id: typeof id === 'string' ? id : `${label}[${i}]`, source: 'unknown', gpu: 'unknown', skipped: true,
        reason: `malformed case: ${issue.path.join('.')}: ${issue.message}`, predicted: null,
        measured: { stepSeconds: null, tokensPerSecondPerGpu: null, tflopsPerGpu: null, mfu: null, mfuPeakTflops: null, memoryGiBPerGpu: null },
        errors: { throughputRel: null, mfuPoints: null, memoryRel: null },
      };
    }
    const c = parsed.data;
    const { scenario, reason } = caseToScenario(c, profiles);
    return scenario ? scoreCase(c, evaluate(scenario, { engine })) : scoreCase(c, null, reason);
  });
}
