/**
 * What a case's source ran and recorded beyond the case format's fields: the source's short name,
 * the fallback software profile of a case that names none, and the settings its notes and flags state (MTP, MLA, recompute modules, GPU
 * variants). One entry per source, never per case.
 */
import type { ValidationCase } from './case.js';
import { DEFAULT_SOFTWARE } from '../schema/software.js';

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
 * The fallback for a case that names no `software` (the case format's optional field): the
 * profile its source ran, by the source's short name (software/README.md; the evidence per source
 * is docs/research/software-profiles.md §4). A source not listed gets generic-2024. Cases scored
 * with this fallback are counted as such in the summary (`softwareFallback`).
 */
export const FALLBACK_SOFTWARE: Readonly<Record<string, string>> = {
  'mosaicml/llm-foundry': 'llm-foundry-2024',
  'NVIDIA-NeMo/Megatron-Bridge': 'megatron-bridge-2026',
  'pytorch/torchtitan': 'torchtitan-2024-eager',
  'Korthikanti et al. 2022': 'megatron-lm-2022',
  'The Llama 3 Herd of Models': 'meta-llama3-production',
  'Narayanan et al. 2021': 'megatron-lm-2021',
  'NVIDIA/Megatron-LM': 'megatron-core-2024',
  'Smith et al. 2022': 'deepspeed-megatron-2021',
  'Parmar et al. 2024': 'megatron-core-2024',
  'NVIDIA et al. 2024': 'megatron-core-2024',
  'Jiang et al. 2024': 'megatron-lm-2023-01',
  'Dao-AILab/flash-attention': 'flash-attention-2022',
  'Qi et al. 2024': 'megatron-lm-2023',
  'foundation-model-stack/fms-fsdp': 'fms-fsdp-2024-eager',
  'Zeng et al. 2023': 'glm-130b-2022',
  'Peng et al. 2023': 'megatron-lm-2023-te',
};

/** A case's software: the profile it names and its overrides, or the source's fallback profile. */
export function caseSoftwareRef(c: ValidationCase): { name: string; overrides: Record<string, unknown>; fallback: boolean } | { error: string } {
  const sw = (c as { software?: unknown }).software;
  if (sw === undefined || sw === null) return { name: FALLBACK_SOFTWARE[caseSource(c)] ?? DEFAULT_SOFTWARE, overrides: {}, fallback: true };
  if (typeof sw === 'string') return { name: sw, overrides: {}, fallback: false };
  if (typeof sw === 'object' && !Array.isArray(sw)) {
    const { name, overrides } = sw as { name?: unknown; overrides?: unknown };
    if (typeof name !== 'string') return { error: 'software.name: expected a profile name' };
    if (overrides !== undefined && overrides !== null && (typeof overrides !== 'object' || Array.isArray(overrides))) return { error: 'software.overrides: expected a mapping' };
    return { name, overrides: (overrides ?? {}) as Record<string, unknown>, fallback: false };
  }
  return { error: 'software: expected a profile name or {name, overrides}' };
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
