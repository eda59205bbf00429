/**
 * Attention sinks on cuDNN fused attention (src/step/costs/attention.ts): GPT-OSS layers priced
 * from the GPU profile's cuDNN figures at head dim 64 where it has them, else from the flash figures.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/io/load.js';
import { packageProfiles } from '../../src/io/profiles.js';
import { CaseSchema } from '../../src/validation/case.js';
import { caseToScenario } from '../../src/validation/adapter.js';
import { stepCosts } from '../../src/step/costs.js';
import { cudnnSinkEfficiency, cudnnSinkAttentionSeconds, type CudnnSinkFigures } from '../../src/step/costs/attention.js';
import type { LayerKind } from '../../src/model/layers.js';

const profiles = packageProfiles();
const cases = (JSON.parse(readFileSync(join(packageRoot, 'validation', 'cases-dev.json'), 'utf8')) as unknown[]).map((c) => CaseSchema.parse(c));
function caseLayers(id: string) {
  const c = cases.find((x) => x.id === id);
  if (!c) throw new Error(`missing case ${id}`);
  const r = caseToScenario(c, profiles);
  if (!r.scenario) throw new Error(r.reason);
  return { layers: stepCosts(r.scenario).stages[0].layers, notModelled: r.software!.notModelled };
}

const figures: CudnnSinkFigures = { headDim: 64, forward: 0.23, backward: 0.25, longSpanTokens: 1024, windowTokens: 128, windowForward: 0.065, windowBackward: 0.075 };
const sliding = (span: number | null, sinks = true): LayerKind => ({ attention: span === null ? 'full' : 'sliding', spanTokens: span, rope: true, sinks, ffn: 'moe' });

describe('cuDNN sink attention figures', () => {
  it('window figures at and below the measured window, long-span figures at and above the long span and for full layers', () => {
    expect(cudnnSinkEfficiency(figures, 64)).toEqual({ fwd: 0.065, bwd: 0.075 });
    expect(cudnnSinkEfficiency(figures, 128)).toEqual({ fwd: 0.065, bwd: 0.075 });
    expect(cudnnSinkEfficiency(figures, 1024)).toEqual({ fwd: 0.23, bwd: 0.25 });
    expect(cudnnSinkEfficiency(figures, 8192)).toEqual({ fwd: 0.23, bwd: 0.25 });
    expect(cudnnSinkEfficiency(figures, null)).toEqual({ fwd: 0.23, bwd: 0.25 });
  });
  it('log-linear in the span between: a window of 362 (√(128·1024)) sits half way', () => {
    const e = cudnnSinkEfficiency(figures, Math.sqrt(128 * 1024));
    expect(e.fwd).toBeCloseTo((0.065 + 0.23) / 2, 12);
    expect(e.bwd).toBeCloseTo((0.075 + 0.25) / 2, 12);
  });
  it('applies only to sink layers at the measured head dim', () => {
    const gpu = profiles.gpu('gb200')!;
    expect(cudnnSinkAttentionSeconds(gpu, sliding(128, false), 4096, 64, 1e12)).toBeNull();
    expect(cudnnSinkAttentionSeconds(gpu, sliding(128), 4096, 128, 1e12)).toBeNull();
    expect(cudnnSinkAttentionSeconds(profiles.gpu('h100-sxm-80gb')!, sliding(128), 4096, 64, 1e12)).toBeNull();
    // 1 TFLOP forward on a window-128 layer: 1e12 / (2500e12 · 0.065); backward 2.5× the work at 0.074.
    const t = cudnnSinkAttentionSeconds(gpu, sliding(128), 4096, 64, 1e12)!;
    expect(t.fwd).toBeCloseTo(1e12 / (2500e12 * 0.065), 12);
    expect(t.bwd).toBeCloseTo((2.5 * 1e12) / (2500e12 * 0.074), 12);
    // A window as long as the sequence is a full layer.
    expect(cudnnSinkAttentionSeconds(gpu, sliding(4096), 4096, 64, 1e12)).toEqual(cudnnSinkAttentionSeconds(gpu, sliding(null), 4096, 64, 1e12));
  });
});

describe('GPT-OSS 120B on GB200 (Megatron-Bridge 26.04.01, micro-batch 4 × 4,096 tokens, 64 heads of 64)', () => {
  const { layers, notModelled } = caseLayers('mbridge-26.04.01-pretrain-GPT_OSS_120B-GB200-64-BF16-gbs1280-primary');
  it("a sliding-window layer's attention matches cuDNN's measured GPT-OSS window-128 kernel", () => {
    // NVIDIA/cudnn-frontend benchmark/sdpa_benchmark_training/results/gpt_oss/gb200/gpt_oss_20260813_110803.csv:
    // bf16, window 128, batch 2 × 128 heads (the same 256 head-sequences as 4 × 64), s 4096, head dim 64:
    // forward 0.207 ms, backward 0.458 ms. Layer 0 is a sliding layer (HF layer_types).
    expect(layers[0].attentionForwardSeconds * 1e3).toBeCloseTo(0.207, 2);
    expect(layers[0].attentionBackwardSeconds * 1e3).toBeCloseTo(0.458, 2);
  });
  it('a full causal layer costs the window-1024 figures over its 2,048 keys a row on average', () => {
    // 2 · 4 · 4096² · 64 · (64 + 64) · ½ = 5.50e11 FLOPs forward at 0.23 · 2,500 TFLOP/s; backward 2.5× at 0.247.
    const flops = 2 * 4 * 4096 * 4096 * 64 * 128 * 0.5;
    expect(layers[1].attentionForwardSeconds).toBeCloseTo(flops / (2500e12 * 0.23), 9);
    expect(layers[1].attentionBackwardSeconds).toBeCloseTo((2.5 * flops) / (2500e12 * 0.247), 9);
  });
  it('the report says the kernel is priced from cuDNN figures and the sink logit is not', () => {
    expect(notModelled).toContain("attention sinks on cuDNN fused attention (costed at the GPU profile's cuDNN figures at head dim 64, measured without the sink logit)");
  });
  it('on H100 (no cuDNN figures in its profile) the flash figures apply and the report says so', () => {
    const h = caseLayers('mbridge-26.04.01-pretrain-GPT_OSS_120B-H100-64-BF16-gbs1280-primary');
    const gpu = profiles.gpu('h100-sxm-80gb')!;
    const flops = 2 * 1 * 4096 * 4096 * 64 * 128 * 0.5;
    expect(h.layers[1].attentionForwardSeconds).toBeCloseTo(flops / (989e12 * gpu.efficiency.attentionForward), 9);
    expect(h.notModelled).toContain("attention sinks on cuDNN fused attention (costed at the GPU profile's flash-attention efficiency, measured without sinks at head dim 128)");
  });
});
