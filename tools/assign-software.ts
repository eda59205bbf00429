/**
 * Writes the `software` field of every case in the dev files from what the case's source says
 * (docs/research/software-profiles.md §4): the profile its source ran, and overrides only where
 * the case itself records a setting (its flags, its notes, the Megatron-Bridge recipe it cites in
 * src/validation/recipes.ts). Run once after adding cases: `npx tsx tools/assign-software.ts`;
 * a case that already names its software keeps it unless `--force` is given.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CaseSchema, type ValidationCase } from '../src/validation/case.js';
import { caseSource, FALLBACK_SOFTWARE, recomputeModulesFromFlags } from '../src/validation/sources.js';
import { recipeSettings, hasFullIterationFlag } from '../src/validation/recipes.js';

type Overrides = Record<string, unknown>;

/** The profile and overrides a case's own record supports. */
export function assignSoftware(c: ValidationCase): { name: string; overrides: Overrides } {
  const src = caseSource(c);
  const notes = c.notes ?? '';
  const text = `${notes} ${c.source.table ?? ''}`;
  const o: Overrides = {};
  let name = FALLBACK_SOFTWARE[src] ?? 'generic-2024';
  if (src === 'NVIDIA-NeMo/Megatron-Bridge') {
    // Release from the table ("26.08 NeMo Container / ..."): 25.x recipes, or 26.x.
    name = /^25\./.test(c.source.table ?? '') ? 'megatron-bridge-2025' : 'megatron-bridge-2026';
    // fp8 recipe from the flags (the profile's default is tensorwise current scaling).
    if (c.flags.includes('fp8-mxfp8-block-scaling')) o['lowPrecision.fp8Recipe'] = 'mxfp8';
    if (c.flags.includes('fp8-blockwise-subchannel-scaling')) o['lowPrecision.fp8Recipe'] = 'blockwise';
    // get_precision_config: fp8_cs -> bf16_with_fp8_current_scaling_mixed, fp8_mx -> bf16_with_mxfp8_mixed,
    // which (like the delayed recipe) set fp8_param_gather = True; the subchannel recipe does not.
    if (c.flags.some((f) => /^fp8-(current-scaling|mxfp8-block-scaling|per-tensor-scaling)/.test(f))) o.paramGatherPrecision = 'fp8';
    // set_gpt_oss_common_configs (scripts/performance/configs/gpt_oss/gpt_oss_llm_pretrain.py):
    // mixed_precision.grad_reduce_in_fp32 = ddp.grad_reduce_in_fp32 = False, bf16 main gradients.
    if (/\bpreset GPT_OSS_/.test(notes)) o.gradientAccumulationFp32 = false;
    const recipe = recipeSettings(c, recomputeModulesFromFlags(c.flags))?.set;
    if (recipe?.overlapEp) o['overlap.ep'] = true;
    const graphs = /CUDA graphs (\w+)/.exec(notes)?.[1];
    if (hasFullIterationFlag(c) || recipe?.fullIterationCudaGraph) o.cudaGraphs = 'full-iteration';
    else if (graphs === 'transformer_engine' || graphs === 'local') o.cudaGraphs = 'modules';
    // scripts/performance/perf_plugins.py (PerfEnvPlugin._set_model_specific_environment_variables,
    // @0022e9da) sets PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True for llama31_405b pretraining
    // on GB200 in fp8_cs/fp8_mx and for deepseek_v3 pretraining on H100 and GB200.
    if (/\bpreset (LLAMA31_405B_PRETRAIN_CONFIG_GB200_FP8_(CS|MX)|DEEPSEEK_V3_PRETRAIN_CONFIG_(H100|GB200))_/.test(notes)) o['allocator.expandableSegments'] = true;
    const dispatcher = /MoE dispatcher (hybridep|deepep)\b/.exec(notes)?.[1];
    if (dispatcher) o['moe.dispatcher'] = dispatcher;
  } else if (src === 'pytorch/torchtitan') {
    // The row's techniques name torch.compile ("FSDP + torch.compile", "FSDP+CP+compile+Float8").
    name = /compile/i.test(text) ? 'torchtitan-2024-compile' : 'torchtitan-2024-eager';
  } else if (src === 'foundation-model-stack/fms-fsdp') {
    name = c.flags.includes('torch-compile-on') ? 'fms-fsdp-2024-compile' : 'fms-fsdp-2024-eager';
  } else if (src === 'mosaicml/llm-foundry') {
    // The README's "MP Mode" column: PURE keeps parameters, reduce and buffers in bf16 (Composer).
    if (/mixed_precision PURE\b/.test(notes)) o.gradReducePrecision = 'bf16';
  } else if (src === 'Qi et al. 2024') {
    // The authors' own memory model of these runs (sail-sg/zero-bubble-pipeline-parallelism
    // megatron/core/pipeline_parallel/mem.py, iclr_mem/arxiv_mem, the paper's four models) charges
    // 34h + 5as bytes per token and layer: Korthikanti's count with the materialised s x s scores.
    if (c.flags.includes('attention-unfused-per-authors-code')) o['attention.kernel'] = 'unfused';
  } else if (src === 'Narayanan et al. 2021') {
    // examples/sc21/run_table_1.sh: --DDP-impl local all-reduces after the backward.
    if (c.flags.includes('ddp-local-grad-allreduce-after-backward-no-overlap')) o['overlap.dpGradReduce'] = false;
  }
  return { name, overrides: o };
}

function main(): void {
  const force = process.argv.includes('--force');
  for (const file of ['validation/cases-dev.json', 'validation/cases-dev-scale.json']) {
    const text = readFileSync(file, 'utf8');
    const items = JSON.parse(text) as Record<string, unknown>[];
    const byId = new Map<string, unknown>();
    for (const item of items) {
      const parsed = CaseSchema.safeParse(item);
      if (!parsed.success || (item.software !== undefined && !force)) continue;
      const { name, overrides } = assignSoftware(parsed.data);
      byId.set(parsed.data.id, Object.keys(overrides).length ? { name, overrides } : name);
    }
    // Edit the text, not a re-serialisation, so numbers keep their written form: one
    // `"software": ...` line before each case's flags (the files are written one space per level).
    const out: string[] = [];
    let id: string | undefined;
    for (const line of text.split('\n')) {
      const m = /^  "id": (".*"),$/.exec(line);
      if (m) id = JSON.parse(m[1]) as string;
      if (/^  "software": /.test(line) && id !== undefined && byId.has(id)) continue;
      if (/^  "flags": /.test(line) && id !== undefined && byId.has(id)) out.push(`  "software": ${JSON.stringify(byId.get(id))},`);
      out.push(line);
    }
    writeFileSync(file, out.join('\n'));
  }
}

main();
