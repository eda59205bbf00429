/**
 * A validation case turned into a scenario: the case's GPU profile and node, its model and layout
 * through the scenario schemas, and the software profile the case names (its `software` field,
 * or its source's fallback in sources.ts) as the defaults of the plan's software fields.
 */
import type { Gpu, Node, Fabric } from '../schema/system.js';
import { ModelSchema } from '../schema/model.js';
import { PlanSchema, TrainingSchema } from '../schema/plan.js';
import { SimulationSchema } from '../schema/scenario.js';
import { resolveModel, resolvePlan, type Scenario } from '../plan/resolve.js';
import type { ValidationCase } from './case.js';
import { attentionNotModelled } from '../model/layers.js';
import { SoftwareSchema, softwarePlanDefaults, notModelled, mergeSoftware, type Software } from '../schema/software.js';
import { caseSource, caseSoftwareRef, mtpLayersFromNotes, recomputeModulesFromFlags, mlaFromNotes, gpuProfileName } from './sources.js';

export interface ProfileLookup {
  gpu(name: string): Gpu | undefined;
  node(name: string): Node | undefined;
  fabric(name: string): Fabric | undefined;
  /** Bundled software profiles (software/<name>.yaml). */
  software(name: string): Software | undefined;
}

/** The software a case was scored with: the profile name, whether it was the source's fallback, and what is not modelled. */
export interface CaseSoftware {
  name: string;
  fallback: boolean;
  notModelled: string[];
  /** Layout settings the case leaves unknown (null) that the prediction fills with a default: what was assumed. */
  assumed: string[];
}

/**
 * The layout settings a case leaves unknown (null or absent: what `pick` reads as unset) that move a
 * prediction, with the default the adapter takes for each (issue 16: the same number must not stand for settings that measured far apart
 * without saying so). Micro-batch and interleaving decide the pipeline bubble and GEMM sizes;
 * recompute the backward's work; precision the GEMM rate.
 */
function assumedLayout(pick: (k: string) => unknown, pp: number, opSac: boolean, interleave: number | undefined): string[] {
  const out: string[] = [];
  if (pick('microBatch') === undefined) out.push('micro-batch 1');
  if (pick('vpp') === undefined && pp > 1) out.push(interleave ? 'interleaved, one layer per virtual stage' : 'no interleaving');
  if (pick('recompute') === undefined && !opSac) out.push('recompute none');
  if (pick('precision') === undefined) out.push('precision bf16');
  return out;
}

/**
 * The interleaving of a pipelined case that leaves vpp unknown, when its software implies one.
 * Megatron-Core overlaps pipeline send/recv only under the interleaved schedule: without a
 * virtual pipeline size Megatron-LM's arguments.py sets overlap_p2p_comm to False ("non-interleaved
 * schedule does not support overlapping p2p communication"), and the non-interleaved schedule
 * refuses it (core/pipeline_parallel/schedules.py). A run on a Megatron-Core profile that overlaps
 * PP communication therefore ran interleaved. Its virtual stage size is unknown; the fallback is one
 * layer per virtual stage (vpp = layers per stage): the one interleaving every stage size allows
 * (--num-layers-per-virtual-pipeline-stage must divide the layers per stage, arguments.py), and the
 * only one for stages of a prime number of layers. undefined: no interleaving is implied (vpp 1).
 */
function unstatedVpp(stated: unknown, pp: number, layers: number, sw: Software): number | undefined {
  if (stated !== undefined || pp <= 1 || layers % pp !== 0 || layers / pp < 2) return undefined;
  const megatronCore = sw.framework === 'megatron-core' || sw.framework === 'megatron-bridge';
  return megatronCore && sw.overlap.pp ? layers / pp : undefined;
}

/** Case settings outside the software profile that the model does not represent (flags the case records). */
function caseNotModelled(c: ValidationCase): string[] {
  return c.flags.includes('task-finetune-sft') ? ['packed-sequence fine-tuning (costed as pre-training)'] : [];
}

/** Builds a scenario from a case, or says why it cannot be modelled. */
export function caseToScenario(c: ValidationCase, profiles: ProfileLookup): { scenario?: Scenario; reason?: string; software?: CaseSoftware } {
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
  // GPT-OSS's attention pattern is a model fact the case format has no field for; the cases carry
  // it as the flag attention-sinks-and-sliding-window-<w>-alternating: sliding-window layers of w
  // tokens on even indices, full attention on odd ones, a learned sink per head on every layer
  // (Hugging Face configuration_gpt_oss.py layer_types and sliding_window; modeling_gpt_oss.py sinks).
  const oss = c.flags.map((f) => /^attention-sinks-and-sliding-window-(\d+)-alternating$/.exec(f)).find((x) => x !== null);
  if (modelIn.attention === undefined && oss) modelIn.attention = { pattern: ['sliding', 'full'], windowTokens: Number(oss[1]), sinks: true };
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
  // The software the case names (its profile plus the overrides it records), or its source's fallback.
  const ref = caseSoftwareRef(c);
  if ('error' in ref) return { reason: ref.error };
  const base = profiles.software(ref.name);
  if (!base) return { reason: `software: no software profile named "${ref.name}"` };
  const swParsed = SoftwareSchema.safeParse(mergeSoftware(base as unknown as Record<string, unknown>, ref.overrides));
  if (!swParsed.success) return { reason: `software.overrides: ${swParsed.error.issues[0].path.join('.')}: ${swParsed.error.issues[0].message}` };
  const sw = swParsed.data;
  const swPlan = softwarePlanDefaults(sw);
  const recomputeModules = recomputeModulesFromFlags(c.flags);
  const pick = (k: string) => (l[k] === null ? undefined : l[k]);
  const tp = (pick('tp') as number) ?? 1;
  const pp = (pick('pp') as number) ?? 1;
  const interleave = unstatedVpp(pick('vpp'), pp, model.layers, sw);
  const vpp = (pick('vpp') as number) ?? interleave ?? 1;
  const planIn = {
    // The software profile's plan fields (attention kernel, elementwise fusion, CUDA graphs,
    // overlaps, reduce precision, loss kernel, fp8 primary weights) under the case's layout.
    ...swPlan,
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
    // Unset when the case does not say: resolvePlan derives the default (on when tp > 1) in one place.
    sequenceParallel: pick('sequenceParallel'),
    layersPerStage: model.layers % (pp * vpp) === 0 && model.layers % pp === 0 ? undefined : 'auto',
    // Megatron-Bridge presets that offload activations to the CPU: the notes give the preset's
    // cpu_offloading_num_layers (flag activation-offload).
    offloadLayers: c.flags.includes('activation-offload') ? Number(/cpu_offloading_num_layers=(\d+)/.exec(c.notes ?? '')?.[1] ?? 0) : swPlan.offloadLayers ?? 0,
  };
  const planParsed = PlanSchema.safeParse(planIn);
  if (!planParsed.success) return { reason: `layout: ${planParsed.error.issues[0].path.join('.')}: ${planParsed.error.issues[0].message}` };
  const { plan, problems } = resolvePlan(planParsed.data, model, gpus);
  if (!plan) return { reason: `layout: ${problems[0].field}: ${problems[0].reason}` };
  const software: CaseSoftware = {
    name: ref.name,
    fallback: ref.fallback,
    notModelled: [...notModelled(sw, planParsed.data, gpu.computeCapability), ...attentionNotModelled(model, gpu), ...caseNotModelled(c)],
    assumed: assumedLayout(pick, pp, c.flags.includes('recompute-torchtitan-op-sac'), interleave),
  };
  return {
    software,
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
