/**
 * Megatron-Bridge recipe settings the case format has no field for (src/validation/recipes.ts),
 * and the H100 expert-parallel overlap share they rely on.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaseSchema, type ValidationCase } from '../../src/validation/case.js';
import { caseToScenario } from '../../src/validation/adapter.js';
import { recipeSettings } from '../../src/validation/recipes.js';
import { packageProfiles } from '../../src/io/profiles.js';
import { packageRoot } from '../../src/io/load.js';
import { evaluate } from '../../src/run/evaluate.js';

const cases = (JSON.parse(readFileSync(join(packageRoot, 'validation', 'cases-dev.json'), 'utf8')) as unknown[]).map((c) => CaseSchema.parse(c));
const byId = (part: string): ValidationCase => {
  const c = cases.find((x) => x.id.includes(part));
  if (!c) throw new Error(part);
  return c;
};
const MB = 'Megatron-Bridge performance summary 26.04 NeMo Container / Pre-Training Performance';
const qwenH100 = (layout: Record<string, unknown>, notes: string): ValidationCase =>
  CaseSchema.parse({
    id: 'synthetic',
    source: { title: 'NVIDIA-NeMo/Megatron-Bridge performance summary' },
    model: {},
    hardware: { gpu: 'h100-sxm-80gb', gpus: 256 },
    layout: { tp: 2, pp: 8, vpp: 4, ep: 32, microBatch: 1, ...layout },
    measured: {},
    notes,
  });

describe('Megatron-Bridge recipe settings', () => {
  it('a cited preset applies when the case records the layout the preset sets', () => {
    const c = qwenH100({}, `${MB}; Megatron-Bridge 0fbfe7d3e9 preset QWEN3_235B_A22B_PRETRAIN_CONFIG_H100_FP8_CS_V2 (FP8_CS)`);
    expect(recipeSettings(c, undefined)?.set).toEqual({ overlapEp: true });
  });
  it('another layout under the same preset name is another version: nothing applies', () => {
    const c = qwenH100({ vpp: 2 }, `${MB}; preset QWEN3_235B_A22B_PRETRAIN_CONFIG_H100_FP8_CS_V2`);
    expect(recipeSettings(c, undefined)).toBeUndefined();
  });
  it('a recorded CUDA-graph scope or recompute list that differs from the preset also keeps the defaults', () => {
    // DeepSeek-V3 GB200 26.04 ran the preset's name with TE-scoped graphs and mlp recompute.
    const c = byId('mbridge-26.04-pretrain-DeepSeekV3-GB200');
    expect(c.notes).toMatch(/DEEPSEEK_V3_PRETRAIN_CONFIG_GB200_FP8_MX_V2/);
    expect(recipeSettings(c, ['mlp'])).toBeUndefined();
    const s = caseToScenario(c, packageProfiles()).scenario!;
    expect(s.plan.overlap.ep).toBe(false);
    expect(s.plan.cudaGraphs).toBe('none');
  });
  it('the 26.06 full-iteration rows and the 26.08 recipes that call the full-iteration helpers overlap the all-to-alls', () => {
    for (const id of ['mbridge-26.06-pretrain-Qwen3_30B_a3B-GB200', 'mbridge-26.08-pretrain-Qwen3_235B_a22B-GB200', 'mbridge-26.08-pretrain-DeepSeekV3-GB200', 'mbridge-26.04.01-pretrain-DeepSeekV3-B200']) {
      const s = caseToScenario(byId(id), packageProfiles()).scenario!;
      expect(s.plan.overlap.ep, id).toBe(true);
    }
    expect(caseToScenario(byId('mbridge-26.08-pretrain-Qwen3_235B_a22B-GB200'), packageProfiles()).scenario!.plan.cudaGraphs).toBe('full-iteration');
    // The same model's B200 rows at 26.04 cite a preset without the overlap.
    expect(caseToScenario(byId('mbridge-26.04-pretrain-DeepSeekV3-B200'), packageProfiles()).scenario!.plan.overlap.ep).toBe(false);
  });
  it('other sources never take Megatron-Bridge settings', () => {
    const c = { ...qwenH100({}, 'preset QWEN3_235B_A22B_PRETRAIN_CONFIG_H100_FP8_CS_V2'), source: { title: 'pytorch/torchtitan benchmarks' } };
    expect(recipeSettings(c, undefined)).toBeDefined(); // the table alone would match ...
    const s = caseToScenario({ ...byId('torchtitan-2412-t1-FSDP'), notes: c.notes }, packageProfiles()).scenario!;
    expect(s.plan.overlap.ep).toBe(false); // ... but caseToScenario consults it for Megatron-Bridge only
  });
});

describe('H100 expert-parallel overlap share (h100-sxm-80gb efficiency.epOverlap)', () => {
  it('reproduces the Megatron-Bridge docs with/without pair: 41.25 s -> 31.31 s (x1.317) within 2%', () => {
    // Qwen3 30B-A3B, 16 H100, EP 16, BF16, GBS 1024, no CUDA graphs: the dev set's 26.06 H100 row in BF16.
    const s = caseToScenario(byId('mbridge-26.06-pretrain-Qwen3_30B_a3B-H100'), packageProfiles()).scenario!;
    const step = (ep: boolean) => evaluate({ ...s, plan: { ...s.plan, precision: 'bf16', overlap: { ...s.plan.overlap, ep } } }).step.seconds;
    const ratio = step(false) / step(true);
    expect(Math.abs(ratio / (41.25 / 31.31) - 1)).toBeLessThan(0.02);
    // Full hiding would be far off the measured pair (x1.55), so the share is what the pair measures.
    const ideal = step(false) / evaluate({ ...s, gpu: { ...s.gpu, efficiency: { ...s.gpu.efficiency, epOverlap: 1 } }, plan: { ...s.plan, precision: 'bf16', overlap: { ...s.plan.overlap, ep: true } } }).step.seconds;
    expect(ideal).toBeGreaterThan(1.5);
  });
});
