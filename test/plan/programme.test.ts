/**
 * Issue 14 item 1: programmes. A stage inherits the scenario and overrides it (src/plan/programme.ts);
 * a programme of one stage equals today's scenario, number for number.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseScenario, loadScenarioWithSources, packageRoot } from '../../src/io/load.js';
import { evaluate } from '../../src/run/evaluate.js';
import { evaluateStage, programmeTotal, DPO_REFERENCE_FORWARD_SHARE } from '../../src/run/programme.js';
import { stagePlan } from '../../src/plan/programme.js';
import { PlanSchema } from '../../src/schema/plan.js';
import type { ResolvedStage } from '../../src/plan/programme.js';
import type { UserError } from '../../src/errors.js';

const file = (name: string) => join(packageRoot, 'scenarios', `${name}.yaml`);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const raw = (name: string): any => parseYaml(readFileSync(file(name), 'utf8'));
const stagesOf = (value: unknown, name = 'p.yaml'): ResolvedStage[] => {
  const out: ResolvedStage[] = [];
  parseScenario(value, name, undefined, out);
  return out;
};

describe('a programme of one stage equals the scenario', () => {
  it.each(['tiny', 'llama3-8b', 'llama3-405b'])('%s: every figure of evaluate, number for number', (name) => {
    const s = raw(name);
    const today = evaluate(parseScenario(s, file(name)), { engine: 'analytic' });
    const [stage] = stagesOf({ ...s, stages: [{ name: 'only' }] }, file(name));
    const staged = evaluateStage(stage, { engine: 'analytic' });
    const { stage: _s, ...rest } = staged;
    expect({ ...rest, scenario: today.scenario }).toEqual(today);
    const total = programmeTotal([{ ev: staged }]);
    expect([total.idealDays, total.gpuHours, total.energyMWh, total.costUsd]).toEqual([today.run.idealDays, today.run.gpuHours, today.run.energyMWh, today.run.costUsd]);
  });
});

describe('stage merge', () => {
  const base = PlanSchema.parse({ tp: 8, pp: 16, dp: 128, globalBatch: 2048, overlap: { dp: false } });
  it('inherits what the stage leaves out, overlap switch by switch', () => {
    const p = stagePlan(base, { overlap: { tp: true } }, false);
    expect([p.tp, p.pp, p.dp, p.overlap.dp, p.overlap.tp, p.globalBatch]).toEqual([8, 16, 128, false, true, 2048]);
  });
  it('dp: kept when the shape is kept, re-derived when tp/cp/pp or the GPU count change, "auto" re-derives', () => {
    expect(stagePlan(base, { cp: 2 }, false).dp).toBeUndefined();
    expect(stagePlan(base, {}, true).dp).toBeUndefined();
    expect(stagePlan(base, { dp: 'auto' }, false).dp).toBeUndefined();
    expect(stagePlan(base, { cp: 2, dp: 64 }, false).dp).toBe(64);
  });
  it('steps size a stage in tokens of its own global batch and sequence length', () => {
    const s = raw('tiny');
    const [st] = stagesOf({ ...s, stages: [{ name: 'a', steps: 10, plan: { seqLen: 128, globalBatch: 16 } }] });
    expect(st.scenario.training.totalTokens).toBe(10 * 16 * 128);
    expect(st.scenario.model.seqLen).toBe(128);
  });
  it('dpo adds the reference forward: a third of the policy step', () => {
    const s = raw('tiny');
    const [pre, dpo] = stagesOf({ ...s, stages: [{ name: 'p' }, { name: 'd', kind: 'dpo' }] });
    const a = evaluateStage(pre, { engine: 'analytic' });
    const b = evaluateStage(dpo, { engine: 'analytic' });
    expect(b.step.seconds).toBeCloseTo(a.step.seconds * (1 + DPO_REFERENCE_FORWARD_SHARE), 12);
    expect(b.run.idealDays).toBeCloseTo(a.run.idealDays * (4 / 3), 9);
  });
  it('generate: decode of a memory-bound batch reads the weights once per decode step (roofline)', () => {
    const s = raw('tiny');
    const [g] = stagesOf({ ...s, stages: [{ name: 'g', kind: 'generate', prompts: 1, samplesPerPrompt: 1, promptTokens: 1, responseTokens: 1000, decodeBatch: 1, plan: { tp: 1, pp: 1 } }] });
    const ev = evaluateStage(g, { engine: 'analytic' });
    // 8 replicas, one sequence: one replica prefills 1 token, then decodes 1,000, each step reading all bf16 weights
    // and the KV cache at the mean context (1 + 1000/2 tokens), memory-bound at batch 1.
    const m = g.scenario.model;
    const gpu = g.scenario.gpu;
    const kvPerToken = 2 * m.layers * m.kvHeads * m.headDim * 2;
    const prefill = (2 * ev.model.paramsActive) / (gpu.peakFlops.bf16 * 8);
    const perStep = (2 * ev.model.paramsTotal + kvPerToken * 501) / gpu.hbm.bandwidth;
    expect(perStep).toBeGreaterThan((2 * ev.model.paramsActive) / gpu.peakFlops.bf16);
    expect(ev.step.seconds / (prefill + 1000 * perStep)).toBeCloseTo(1, 12);
  });
});

describe('the Llama 3 405B programme', () => {
  it('resolves every stage, each on the one model file, sequence length from the plan', () => {
    const { stages } = loadScenarioWithSources(file('llama3-405b-programme'));
    expect(stages).toHaveLength(13);
    const seq = stages!.map((s) => s.scenario.model.seqLen);
    expect(seq.slice(0, 3)).toEqual([4096, 8192, 8192]);
    expect(seq[8]).toBe(131072);
    expect(new Set(stages!.map((s) => s.scenario.model.name)).size).toBe(1);
    // §3.4.1 ramp: 4M, 8M, 16M tokens per batch.
    expect(stages!.slice(0, 3).map((s) => s.scenario.plan.globalBatchSequences * s.scenario.model.seqLen)).toEqual([4194304, 8388608, 16777216]);
  });
  it('names the stage of a layout problem, one line per problem', () => {
    const s = raw('llama3-405b-programme');
    s.stages[3].plan.cp = 3;
    s.stages[4].plan.tp = 3;
    let e: unknown;
    try {
      stagesOf(s);
    } catch (err) {
      e = err;
    }
    const lines = (e as UserError).format().split('\nerror: ');
    // stage 3: the product and the CP chunks; stage 4: heads, kvHeads and the product.
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^p\.yaml: stages\[3\] \(context-16K\): plan: tp\(8\)·cp\(3\)·pp\(16\) = 384 does not divide 16384 GPUs$/);
    expect(lines[1]).toMatch(/^p\.yaml: stages\[3\] \(context-16K\): plan\.cp: /);
    expect(lines[2]).toMatch(/^p\.yaml: stages\[4\] \(context-32K\): plan\.tp: tp \(3\) must divide heads \(128\)$/);
  });
});
