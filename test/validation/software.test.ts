/**
 * Software profiles (issue 16 items 1 and 5): every bundled profile is valid; the default profile
 * restates the plan's own defaults (so a scenario that names no software keeps its numbers); a
 * plan field wins over its profile; every dev case names a profile that exists; a case without
 * one runs on its source's fallback and is counted; settings the model does not cost are named.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PlanSchema } from '../../src/schema/plan.js';
import { SoftwareSchema, softwarePlanDefaults, notModelled, mergeSoftware, DEFAULT_SOFTWARE } from '../../src/schema/software.js';
import { loadProfile, packageProfiles } from '../../src/io/profiles.js';
import { packageRoot, parseScenarioWithSoftware, readDataFile } from '../../src/io/load.js';
import { validateCases } from '../../src/validation/cases.js';
import { summarise } from '../../src/validation/score.js';

const names = readdirSync(join(packageRoot, 'software')).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
const read = (f: string) => JSON.parse(readFileSync(join(packageRoot, 'validation', f), 'utf8')) as Record<string, unknown>[];

describe('software profiles', () => {
  it('every bundled profile is valid and named after its file', () => {
    expect(names.length).toBeGreaterThanOrEqual(17);
    for (const n of names) expect(loadProfile('software', n).name).toBe(n);
  });

  it('the default profile restates the plan defaults, so scenarios without software keep their numbers', () => {
    const plan = PlanSchema.parse({ globalBatch: 8 });
    const d = softwarePlanDefaults(loadProfile('software', DEFAULT_SOFTWARE));
    for (const [k, v] of Object.entries(d)) {
      if (k === 'overlap') expect(v).toEqual(plan.overlap);
      else expect(v, k).toEqual(plan[k as keyof typeof plan]);
    }
  });

  it('profile values are defaults: a plan field wins, an unset one takes the profile', () => {
    const raw = readDataFile(join(packageRoot, 'scenarios', 'tiny.yaml')) as Record<string, Record<string, unknown>>;
    const file = join(packageRoot, 'scenarios', 'tiny.yaml');
    const onProfile = parseScenarioWithSoftware({ ...raw, software: 'megatron-lm-2021' }, file);
    expect(onProfile.software.name).toBe('megatron-lm-2021');
    expect(onProfile.software.path).toBe('software/megatron-lm-2021.yaml');
    expect(onProfile.scenario.plan.attentionKernel).toBe('unfused');
    expect(onProfile.scenario.plan.overlap.pp).toBe(false);
    const planWins = parseScenarioWithSoftware({ ...raw, software: 'megatron-lm-2021', plan: { ...raw.plan, attentionKernel: 'flash', overlap: { pp: true } } }, file);
    expect(planWins.scenario.plan.attentionKernel).toBe('flash');
    expect(planWins.scenario.plan.overlap.pp).toBe(true);
    const inline = parseScenarioWithSoftware({ ...raw, software: { attention: { kernel: 'flash1' } } }, file);
    expect(inline.software.origin).toBe('inline');
    expect(inline.scenario.plan.attentionKernel).toBe('flash1');
  });

  it('names the settings the model does not cost, only where they act on the plan', () => {
    const mb = mergeSoftware(loadProfile('software', 'megatron-bridge-2026') as unknown as Record<string, unknown>, { 'lowPrecision.fp8Recipe': 'mxfp8', overlap: { tp: 'async-tp' } });
    const sw = SoftwareSchema.parse(mb);
    expect(sw.overlap.dpGradReduce).toBe(true); // nested merge keeps the siblings
    // MXFP8's block-scaled casts are costed, its slower block-scaled GEMM is not (and before Blackwell it does not exist).
    expect(notModelled(sw, { precision: 'fp8', tp: 2, ep: 1, recompute: 'none' }, 10.0)).toEqual(['fp8 recipe mxfp8 GEMM kernel (casts costed; the GEMM at per-tensor efficiency)', 'TP overlap async-tp (costed as userbuffers)']);
    expect(notModelled(sw, { precision: 'fp8', tp: 2, ep: 1, recompute: 'none' }, 9.0)[0]).toMatch(/^fp8 recipe mxfp8 before Blackwell/);
    expect(notModelled(sw, { precision: 'bf16', tp: 1, ep: 1, recompute: 'none' })).toEqual([]);
  });

  it("names what a stack's profile says it does beyond the model, for every plan on it (MT-NLG's DeepSpeed pipeline engine)", () => {
    const sw = SoftwareSchema.parse(loadProfile('software', 'deepspeed-megatron-2021'));
    expect(sw.stackNotModelled.length).toBe(1);
    expect(notModelled(sw, { precision: 'bf16', tp: 8, ep: 1, recompute: 'full' })).toEqual(sw.stackNotModelled);
    expect(notModelled(SoftwareSchema.parse(loadProfile('software', 'megatron-lm-2021')), { precision: 'bf16', tp: 8, ep: 1, recompute: 'full' })).toEqual([]);
  });

  it('every dev case names a bundled profile with valid overrides', () => {
    const profiles = packageProfiles();
    for (const c of [...read('cases-dev.json'), ...read('cases-dev-scale.json')]) {
      const ref = c.software as string | { name: string; overrides: Record<string, unknown> };
      const name = typeof ref === 'string' ? ref : ref.name;
      expect(names, String(c.id)).toContain(name);
      if (typeof ref !== 'string') expect(SoftwareSchema.safeParse(mergeSoftware(profiles.software(name) as unknown as Record<string, unknown>, ref.overrides)).success, String(c.id)).toBe(true);
    }
  });

  it('a case without software runs on its source fallback and is counted; naming the same profile gives the same number', () => {
    const profiles = packageProfiles();
    const c = read('cases-dev.json').find((x) => x.id === 'llama3-t4-8k-gpus')!;
    const { software: _s, ...bare } = c;
    const [named, fallback] = validateCases([c, { ...bare, id: 'bare' }], 'test.json', profiles, 'analytic');
    expect(fallback.software).toEqual({ name: 'meta-llama3-production', fallback: true, notModelled: [], assumed: [] });
    expect(fallback.predicted).toEqual(named.predicted);
    const s = summarise([named, fallback]);
    expect([s.softwareFallback, s.notModelled]).toEqual([1, 0]);
  });

  it('a case that leaves micro-batch, interleaving or recompute unknown says what was assumed, and is counted; stating the assumed values gives the same number', () => {
    const profiles = packageProfiles();
    const c = read('cases-dev.json').find((x) => x.id === 'llama3-t4-8k-gpus')!;
    const layout = c.layout as Record<string, unknown>;
    const unknown = { ...c, id: 'unknown', layout: { ...layout, microBatch: null, vpp: null, recompute: null } };
    const stated = { ...c, id: 'stated', layout: { ...layout, microBatch: 1, vpp: 1, recompute: 'none' } };
    const [u, st] = validateCases([unknown, stated], 'test.json', profiles, 'analytic');
    expect(u.software?.assumed).toEqual(['micro-batch 1', 'no interleaving', 'recompute none']);
    expect(st.software?.assumed).toEqual([]);
    expect(u.predicted).toEqual(st.predicted);
    expect(summarise([u, st]).assumedLayout).toBe(1);
  });

  it('a pipelined Megatron-Core case that overlaps PP sends and leaves vpp unknown runs interleaved, one layer per virtual stage (arguments.py: p2p overlap needs the interleaved schedule); other stacks assume no interleaving', () => {
    const profiles = packageProfiles();
    // Megatron-Core README 119B row: 92 layers on PP 4 = 23 per stage, prime: vpp 23 is the only interleaving.
    const c = read('cases-dev-scale.json').find((x) => x.id === 'mcore-r080-readme-gpt-119b-1536gpu')!;
    const layout = c.layout as Record<string, unknown>;
    expect([layout.pp, layout.vpp]).toEqual([4, null]);
    const stated = { ...c, id: 'stated', layout: { ...layout, vpp: 23 } };
    const plain = { ...c, id: 'plain', layout: { ...layout, vpp: 1 } };
    const noOverlap = { ...c, id: 'no-pp-overlap', software: { name: 'megatron-core-2024', overrides: { 'overlap.pp': false } } };
    const [u, st, p, n] = validateCases([c, stated, plain, noOverlap], 'test.json', profiles, 'analytic');
    expect(u.software?.assumed).toContain('interleaved, one layer per virtual stage');
    expect(u.predicted).not.toEqual(p.predicted);
    expect(u.predicted).toEqual(st.predicted);
    // Interleaving shrinks the fill/drain (Narayanan §2.2): the prediction is faster than without it.
    expect(u.predicted!.tokensPerSecondPerGpu).toBeGreaterThan(p.predicted!.tokensPerSecondPerGpu);
    expect(n.software?.assumed).toContain('no interleaving');
  });

  it('a GPT-OSS case is counted as not modelled: its attention sinks (case flag attention-sinks-and-sliding-window-128-alternating)', () => {
    const c = read('cases-dev.json').find((x) => x.id === 'mbridge-26.04.01-pretrain-GPT_OSS_120B-H100-64-BF16-gbs1280-primary')!;
    const [r] = validateCases([c], 'test.json', packageProfiles(), 'analytic');
    expect(r.software?.notModelled).toEqual([expect.stringMatching(/^attention sinks on cuDNN fused attention/)]);
  });

  it('a Megatron-Bridge MXFP8 or blockwise case is counted as not modelled (its block-scaled GEMM kernel)', () => {
    const profiles = packageProfiles();
    const mx = read('cases-dev.json').filter((x) => (x.flags as string[]).includes('fp8-mxfp8-block-scaling'));
    const results = validateCases(mx.slice(0, 3), 'test.json', profiles, 'analytic').filter((r) => !r.skipped);
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) expect(r.software?.notModelled).toContain('fp8 recipe mxfp8 GEMM kernel (casts costed; the GEMM at per-tensor efficiency)');
    const bw = [...read('cases-dev.json'), ...read('cases-dev-scale.json')].filter((x) => (x.flags as string[]).includes('fp8-blockwise-subchannel-scaling'));
    const blockwise = validateCases(bw.slice(0, 1), 'test.json', profiles, 'analytic').filter((r) => !r.skipped);
    expect(blockwise.length).toBe(1);
    expect(blockwise[0].software?.notModelled).toContain('fp8 recipe blockwise GEMM kernel (casts costed; the GEMM at per-tensor efficiency)');
  });
});
