/**
 * A validation case turned into a scenario: the case's GPU profile and node, its model and layout
 * through the scenario schemas, and the software its source ran (sources.ts, recipes.ts).
 */
import type { Gpu, Node, Fabric } from '../schema/system.js';
import { ModelSchema } from '../schema/model.js';
import { PlanSchema, TrainingSchema } from '../schema/plan.js';
import { SimulationSchema } from '../schema/scenario.js';
import { resolveModel, resolvePlan, type Scenario } from '../plan/resolve.js';
import type { ValidationCase } from './case.js';
import { caseSource, sourceSoftware, elementwiseMode, mtpLayersFromNotes, recomputeModulesFromFlags, mlaFromNotes, gpuProfileName } from './sources.js';
import { recipeSettings, hasFullIterationFlag } from './recipes.js';

export interface ProfileLookup {
  gpu(name: string): Gpu | undefined;
  node(name: string): Node | undefined;
  fabric(name: string): Fabric | undefined;
}

/** Builds a scenario from a case, or says why it cannot be modelled. */
export function caseToScenario(c: ValidationCase, profiles: ProfileLookup): { scenario?: Scenario; reason?: string } {
  const gpuName = gpuProfileName(c);
  if (!gpuName) return { reason: 'hardware.gpu: not stated' };
  const gpus = c.hardware.gpus;
  if (!gpus) return { reason: 'hardware.gpus: not stated' };
  const gpu = profiles.gpu(gpuName);
  if (!gpu) return { reason: `no GPU profile for "${gpuName}"` };
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
  if (modelIn.dropout === undefined && caseSource(c) === 'mosaicml/llm-foundry') modelIn.dropout = 0;
  if (modelIn.mla === undefined) {
    const mla = mlaFromNotes(c.notes ?? '');
    if (mla) modelIn.mla = mla;
  }
  const modelParsed = ModelSchema.safeParse(modelIn);
  if (!modelParsed.success) return { reason: `model: ${modelParsed.error.issues[0].path.join('.')}: ${modelParsed.error.issues[0].message}` };
  // A case's model carries its sequence length (the case format's own field); none: skipped as before.
  if (modelParsed.data.seqLen === undefined) return { reason: 'model: seqLen: Invalid input: expected number, received undefined' };
  const model = resolveModel(modelParsed.data);

  const l = c.layout as Record<string, unknown>;
  const software = sourceSoftware(c.source.title ?? '');
  const recomputeModules = recomputeModulesFromFlags(c.flags);
  // Megatron-Bridge recipe settings the case format has no field for (src/validation/recipes.ts).
  const recipe = caseSource(c) === 'NVIDIA-NeMo/Megatron-Bridge' ? recipeSettings(c, recomputeModules)?.set : undefined;
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
    ...(caseSource(c) === 'NVIDIA-NeMo/Megatron-Bridge' && /\bpreset GPT_OSS_/.test(c.notes ?? '') ? { gradientAccumulationFp32: false } : {}),
    // Megatron-Bridge presets that offload activations to the CPU: the notes give the preset's
    // cpu_offloading_num_layers (flag activation-offload).
    offloadLayers: c.flags.includes('activation-offload') ? Number(/cpu_offloading_num_layers=(\d+)/.exec(c.notes ?? '')?.[1] ?? 0) : 0,
    fp8PrimaryWeights: caseSource(c) === 'NVIDIA-NeMo/Megatron-Bridge' && c.flags.some((f) => /^fp8-(current-scaling|mxfp8-block-scaling|per-tensor-scaling)/.test(f)),
    overlap: { tp: software.overlapTp, ...(recipe?.overlapEp ? { ep: true } : {}) },
  };
  const planParsed = PlanSchema.safeParse(planIn);
  if (!planParsed.success) return { reason: `layout: ${planParsed.error.issues[0].path.join('.')}: ${planParsed.error.issues[0].message}` };
  const { plan, problems } = resolvePlan(planParsed.data, model, gpus);
  if (!plan) return { reason: `layout: ${problems[0].field}: ${problems[0].reason}` };
  return {
    scenario: {
      name: c.id,
      file: c.id,
      model,
      gpu,
      node,
      fabric,
      cluster: { gpus, nodes: Math.ceil(gpus / gpusPerNode), spareNodes: 0, pricePerGpuHour: 0, pue: 1 },
      plan,
      training: TrainingSchema.parse({ totalTokens: plan.globalBatchSequences * model.seqLen }),
      simulation: SimulationSchema.parse({}),
    },
  };
}
