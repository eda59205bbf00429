/**
 * Settings of the Megatron-Bridge performance recipes that the validation case format has no
 * field for, read from the recipe sources the cases cite. A Megatron-Bridge case names its
 * preset in its notes ("preset QWEN3_235B_A22B_PRETRAIN_CONFIG_H100_FP8_CS_V2", or for 26.08 the
 * recipe function "qwen3_235b_a22b_pretrain_256gpu_gb200_fp8mx_config"). Presets changed between
 * releases under the same name, so an entry applies only when the case's own record agrees with
 * the preset as read (layout, CUDA-graph scope, recompute modules); otherwise the case keeps the
 * defaults. Entries are configuration, not fitted numbers: they apply whether or not they move a
 * case towards its measurement.
 */
import type { ValidationCase } from './case.js';

export interface RecipeSettings {
  /** Megatron overlap_moe_expert_parallel_comm / WorkloadBaseConfig.moe_a2a_overlap. */
  overlapEp?: boolean;
  /** cuda_graph_impl = "full_iteration". */
  fullIterationCudaGraph?: boolean;
}

interface RecipeEntry {
  /** Text the case notes carry when they cite this recipe. */
  cites: string;
  /** The layout the recipe sets; a case that records another layout ran another version. */
  layout: { tp: number; pp: number; vpp: number; ep: number; microBatch: number };
  /** CUDA-graph mode the recipe sets, checked against the case's notes/flags where they record one. */
  cudaGraphs: 'full_iteration' | 'transformer_engine' | 'none';
  /** recompute_modules the recipe sets, checked against the case's recompute flag where it has one. */
  recomputeModules?: string[];
  set: RecipeSettings;
  source: string;
}

// Sources (NVIDIA-NeMo/Megatron-Bridge; blob commits as read):
// [DS]  scripts/performance/configs/deepseek/deepseek_workload_base_configs.py @0426418230
// [OSS] scripts/performance/configs/gpt_oss/gpt_oss_workload_base_configs.py @07eea52d45
// [QW]  scripts/performance/configs/qwen/qwen3_workload_base_configs.py @01b2977e51
// [R26] src/megatron/bridge/perf_recipes/{deepseek/common.py (_enable_deepseek_full_iteration_mxfp8),
//       qwen/common.py (_enable_hybridep_full_iteration_mxfp8)}: cuda_graph_impl "full_iteration" with
//       comm_overlap.overlap_moe_expert_parallel_comm = True; deepseek/gb200/deepseek_v3.py and
//       qwen/gb200/qwen3_moe.py call them from the fp8mx recipes below.
const RECIPES: readonly RecipeEntry[] = [
  {
    cites: 'DEEPSEEK_V3_PRETRAIN_CONFIG_B200_FP8_MX_V2',
    layout: { tp: 1, pp: 8, vpp: 2, ep: 32, microBatch: 1 },
    cudaGraphs: 'transformer_engine',
    recomputeModules: ['mla_up_proj', 'mlp'],
    set: { overlapEp: true },
    source: '[DS] replace(..._B200_FP8_CS_V2, deepep, pp 8, vpp 2, ep 32, moe_a2a_overlap=True, recompute mla_up_proj+mlp)',
  },
  {
    cites: 'DEEPSEEK_V3_PRETRAIN_CONFIG_GB200_FP8_MX_V2',
    layout: { tp: 1, pp: 4, vpp: 4, ep: 64, microBatch: 1 },
    cudaGraphs: 'full_iteration',
    recomputeModules: ['mla_up_proj'],
    set: { overlapEp: true, fullIterationCudaGraph: true },
    source: '[DS] _GB200_FP8_MX_V1: cuda_graph_impl full_iteration, moe_a2a_overlap=True, recompute mla_up_proj',
  },
  {
    cites: 'deepseek_v3_pretrain_256gpu_gb200_fp8mx_config',
    layout: { tp: 1, pp: 4, vpp: 4, ep: 64, microBatch: 1 },
    cudaGraphs: 'full_iteration',
    recomputeModules: ['mla_up_proj'],
    set: { overlapEp: true, fullIterationCudaGraph: true },
    source: '[R26] deepseek/gb200/deepseek_v3.py calls _enable_deepseek_full_iteration_mxfp8',
  },
  {
    cites: 'GPT_OSS_120B_PRETRAIN_CONFIG_GB200_BF16_V2',
    layout: { tp: 1, pp: 1, vpp: 1, ep: 64, microBatch: 4 },
    cudaGraphs: 'none',
    recomputeModules: ['layernorm', 'moe_act'],
    set: { overlapEp: true },
    source: '[OSS] replace(..._GB200_BF16_V1 (ep 64, mbs 4, recompute layernorm+moe_act), gbs 1280, moe_a2a_overlap=True)',
  },
  {
    cites: 'GPT_OSS_120B_PRETRAIN_CONFIG_GB200_FP8_MX_V2',
    layout: { tp: 1, pp: 1, vpp: 1, ep: 64, microBatch: 4 },
    cudaGraphs: 'full_iteration',
    recomputeModules: [],
    set: { overlapEp: true, fullIterationCudaGraph: true },
    source: '[OSS] replace(..._GB200_BF16_V2, full_iteration, hybridep, moe_a2a_overlap=True, recompute [])',
  },
  {
    cites: 'QWEN3_235B_A22B_PRETRAIN_CONFIG_H100_FP8_CS_V2',
    layout: { tp: 2, pp: 8, vpp: 4, ep: 32, microBatch: 1 },
    cudaGraphs: 'none',
    set: { overlapEp: true },
    source: '[QW] _H100_FP8_CS_V1: tp 2, pp 8, vpp 4, ep 32, moe_a2a_overlap=True, alltoall dispatcher',
  },
  {
    cites: 'qwen3_235b_a22b_pretrain_256gpu_gb200_fp8mx_config',
    layout: { tp: 1, pp: 8, vpp: 3, ep: 32, microBatch: 1 },
    cudaGraphs: 'full_iteration',
    set: { overlapEp: true, fullIterationCudaGraph: true },
    source: '[R26] qwen/gb200/qwen3_moe.py: pp 8, vpp 3, ep 32, calls _enable_hybridep_full_iteration_mxfp8',
  },
  {
    cites: 'qwen3_30b_a3b_pretrain_8gpu_gb200_fp8mx_config',
    layout: { tp: 1, pp: 1, vpp: 1, ep: 8, microBatch: 4 },
    cudaGraphs: 'full_iteration',
    set: { overlapEp: true, fullIterationCudaGraph: true },
    source: '[R26] qwen/gb200/qwen3_moe.py: ep 8, mbs 4, calls _enable_hybridep_full_iteration_mxfp8',
  },
];

/** Whether a case's flags record a full-iteration CUDA graph (moe-expert-capacity-1.5-padded-full-iteration-cuda-graph). */
export function hasFullIterationFlag(c: ValidationCase): boolean {
  return c.flags.some((f) => f.includes('full-iteration-cuda-graph'));
}

/** The CUDA-graph mode a case records, if it records one. */
function recordedCudaGraphs(c: ValidationCase): RecipeEntry['cudaGraphs'] | undefined {
  if (hasFullIterationFlag(c)) return 'full_iteration';
  const m = /CUDA graphs (\w+)/.exec(c.notes ?? '');
  if (m) return m[1] === 'full_iteration' ? 'full_iteration' : m[1] === 'transformer_engine' ? 'transformer_engine' : undefined;
  return undefined;
}

/**
 * The recipe settings a Megatron-Bridge case ran with beyond what its record states, with the
 * entry's source; undefined when the case cites no listed recipe or records a different version.
 */
export function recipeSettings(c: ValidationCase, recomputeModules: readonly string[] | undefined): { set: RecipeSettings; source: string } | undefined {
  const notes = c.notes ?? '';
  const l = c.layout as Record<string, unknown>;
  const val = (k: string, d: number) => (typeof l[k] === 'number' ? (l[k] as number) : d);
  for (const r of RECIPES) {
    if (!new RegExp(`\\b${r.cites}\\b`).test(notes)) continue;
    const L = r.layout;
    if (val('tp', 1) !== L.tp || val('pp', 1) !== L.pp || val('vpp', 1) !== L.vpp || val('ep', 1) !== L.ep || val('microBatch', 1) !== L.microBatch) continue;
    const cg = recordedCudaGraphs(c);
    if (cg !== undefined && cg !== r.cudaGraphs) continue;
    if (r.recomputeModules && recomputeModules && [...recomputeModules].sort().join('+') !== [...r.recomputeModules].sort().join('+')) continue;
    return { set: r.set, source: r.source };
  }
  // A full-iteration CUDA graph recorded without a listed recipe (flag
  // moe-expert-capacity-1.5-padded-full-iteration-cuda-graph): every full-iteration MoE recipe in
  // the sources pairs the graph with expert-parallel overlap ([R26] both helpers; [DS] GB200, GB300
  // and B300 FP8_MX presets; [OSS] GB200 and GB300 FP8_MX presets), none without it.
  if (recordedCudaGraphs(c) === 'full_iteration') {
    return { set: { overlapEp: true, fullIterationCudaGraph: true }, source: '[R26]/[DS]/[OSS]: full-iteration CUDA-graph MoE recipes set moe_a2a_overlap=True' };
  }
  return undefined;
}
