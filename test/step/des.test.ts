import { describe, it, expect } from 'vitest';
import { desStep } from '../../src/step/des.js';
import { chunkLayout } from '../../src/step/des/chunks.js';
import type { DesStepResult } from '../../src/step/des/types.js';
import { analyticStep } from '../../src/step/analytic.js';
import { stepCosts, type StepCosts } from '../../src/step/costs.js';
import { inFlightMicroBatches } from '../../src/plan/memory.js';
import { loadScenario } from '../../src/io/load.js';
import type { Scenario } from '../../src/plan/resolve.js';
import { shapedScenario, zeroCommCosts, layer, scenarioFile, type SyntheticShape } from './helpers.js';

function run(shape: SyntheticShape, tf = 1, tb = 1, tw = 1, tweak?: (c: StepCosts) => void): { sc: Scenario; costs: StepCosts; r: DesStepResult } {
  const sc = shapedScenario(shape);
  const costs = zeroCommCosts(sc, layer(tf, tb, tw));
  tweak?.(costs);
  return { sc, costs, r: desStep(sc, costs) };
}

const ops = (r: DesStepResult, kind: string, stage?: number) => r.detail.ops.filter((o) => o.kind === kind && (stage === undefined || o.stage === stage));

describe('pipeline bubble with communication set to zero', () => {
  // Normalisation: idle time of a rank over the pipeline phase divided by its busy time, i.e.
  // bubble / ideal. For 1F1B the step is (m + pp - 1)(tf + tb), so bubble / ideal = (pp - 1)/m;
  // for interleaved 1F1B (pp - 1)/(vpp·m) (Narayanan et al. 2021 §2.2).
  it.each([
    [4, 8],
    [4, 16],
    [8, 16],
    [8, 32],
  ])('1F1B pp=%i m=%i: bubble/ideal = (pp-1)/m within 2%%', (pp, m) => {
    const { r } = run({ pp, m, schedule: '1f1b' }, 1, 2, 0.5);
    for (const st of r.detail.stages) expect(st.idleSeconds / st.busySeconds).toBeCloseTo((pp - 1) / m, 2);
    const st = r.detail.stages[0];
    expect(Math.abs(st.idleSeconds / st.busySeconds / ((pp - 1) / m) - 1)).toBeLessThan(0.02);
  });

  it.each([
    [4, 2, 8],
    [4, 2, 16],
    [8, 4, 16],
    [8, 2, 32],
    [16, 8, 32],
  ])('interleaved pp=%i vpp=%i m=%i: bubble/ideal = (pp-1)/(vpp·m) within 2%%', (pp, vpp, m) => {
    const { r } = run({ pp, vpp, m, schedule: 'interleaved-1f1b', layersPerStage: 2 * vpp });
    for (const st of r.detail.stages) expect(Math.abs(st.idleSeconds / st.busySeconds / ((pp - 1) / (vpp * m)) - 1)).toBeLessThan(0.02);
  });

  it('GPipe has the 1F1B bubble', () => {
    const { r } = run({ pp: 4, m: 8, schedule: 'gpipe' });
    expect(r.detail.stages[0].idleSeconds / r.detail.stages[0].busySeconds).toBeCloseTo(3 / 8, 9);
  });

  it('ZB-H1 is below 1F1B: (pp-1)(tf+tb-tw) instead of (pp-1)(tf+tb+tw) (Qi et al. 2024 §3)', () => {
    const base = run({ pp: 4, m: 8, schedule: '1f1b', layersPerStage: 1 }).r;
    const zb = run({ pp: 4, m: 8, schedule: 'zero-bubble', layersPerStage: 1 }).r;
    expect(zb.stepSeconds).toBeLessThan(base.stepSeconds);
    expect(zb.breakdown.bubbleSeconds).toBeLessThan(base.breakdown.bubbleSeconds);
    // tf = tb = tw = 1: step = m·3 + (pp-1)·1
    expect(zb.stepSeconds).toBeCloseTo(8 * 3 + 3 * 1, 9);
    expect(base.stepSeconds).toBeCloseTo(8 * 3 + 3 * 3, 9);
  });

  it('a single rank runs every schedule as one stream of passes', () => {
    for (const schedule of ['gpipe', '1f1b', 'zero-bubble'] as const) {
      const { r } = run({ pp: 1, m: 4, schedule }, 1, 1, 1);
      expect(r.stepSeconds).toBeCloseTo(4 * 2 * 3, 12);
    }
  });

  it.each([
    ['gpipe', 1],
    ['1f1b', 1],
    ['interleaved-1f1b', 2],
    ['interleaved-1f1b', 4],
    ['zero-bubble', 1],
  ] as const)('matches the closed form exactly for %s (vpp %i)', (schedule, vpp) => {
    for (const [pp, m] of [
      [2, 4],
      [4, 8],
      [8, 16],
    ]) {
      const { sc, costs, r } = run({ pp, m, vpp, schedule, layersPerStage: 2 * vpp }, 1, 1.5, 0.75);
      const a = analyticStep(sc, costs);
      expect(r.stepSeconds).toBeCloseTo(a.stepSeconds, 9);
      expect(r.breakdown.bubbleSeconds).toBeCloseTo(a.breakdown.bubbleSeconds, 9);
      expect(r.breakdown.computeSeconds).toBeCloseTo(a.breakdown.computeSeconds, 9);
    }
  });

  it('the timeline of compute, comm, bubble and optimizer adds up to the step', () => {
    const sc = loadScenario(scenarioFile('llama3-70b'));
    const r = desStep(sc, stepCosts(sc));
    const b = r.breakdown;
    expect(b.computeSeconds + b.exposedCommunicationSeconds + b.bubbleSeconds + b.optimizerSeconds).toBeCloseTo(r.stepSeconds, 9);
    const cp = r.detail.criticalPath;
    expect(cp.computeSeconds + cp.ppSeconds + cp.dpSeconds + cp.optimizerSeconds).toBeCloseTo(r.stepSeconds, 9);
  });
});

describe('order and in-flight micro-batches', () => {
  function checkOrder(r: DesStepResult) {
    const at = new Map<string, { start: number; end: number }>();
    for (const o of r.detail.ops) {
      if (o.kind !== 'F' && o.kind !== 'B' && o.kind !== 'W') continue;
      const k = `${o.kind}/${o.stage}/${o.chunk}/${o.microBatch}`;
      const prev = at.get(k);
      at.set(k, { start: Math.min(prev?.start ?? Infinity, o.startSeconds), end: Math.max(prev?.end ?? -Infinity, o.endSeconds) });
    }
    for (const [k, t] of at) {
      const [kind, ...rest] = k.split('/');
      if (kind === 'B') expect(at.get(`F/${rest.join('/')}`)!.end).toBeLessThanOrEqual(t.start);
      if (kind === 'W') expect(at.get(`B/${rest.join('/')}`)!.end).toBeLessThanOrEqual(t.start);
    }
  }

  it('every micro-batch forward precedes its backward on each stage (bundled scenarios)', () => {
    for (const name of ['tiny', 'llama3-405b', 'llama3-70b', 'gpt3-175b']) {
      const sc = loadScenario(scenarioFile(name));
      checkOrder(desStep(sc, stepCosts(sc)));
    }
    checkOrder(run({ pp: 4, m: 8, schedule: 'zero-bubble' }).r);
  });

  it.each([
    ['1f1b', 1, 8],
    ['1f1b', 1, 3],
    ['gpipe', 1, 8],
    ['zero-bubble', 1, 8],
    ['interleaved-1f1b', 2, 8],
    ['interleaved-1f1b', 4, 16],
  ] as const)('peak in-flight micro-batches per stage = the formula (%s vpp %i m %i)', (schedule, vpp, m) => {
    const { sc, r } = run({ pp: 4, m, vpp, schedule, layersPerStage: 2 * vpp });
    for (const st of r.detail.stages) expect(st.inFlightPeak).toBeCloseTo(st.inFlightFormula, 12);
    // ... and stage 0 matches the memory model's count (memory.ts), which sizes activations.
    if (m >= 2 * 4) expect(r.detail.stages[0].inFlightPeak).toBeCloseTo(inFlightMicroBatches(sc.plan), 12);
  });

  it('never deadlocks, over schedules, shapes and overlap switches', () => {
    for (const schedule of ['gpipe', '1f1b', 'interleaved-1f1b', 'zero-bubble'] as const) {
      for (const pp of [1, 2, 3, 4]) {
        for (const vpp of schedule === 'interleaved-1f1b' && pp > 1 ? [2, 3] : [1]) {
          for (let m = 1; m <= 2 * pp + 3; m++) {
            for (const overlap of [{ pp: true, dp: true }, { pp: false, dp: false }]) {
              for (const zeroStage of [1, 3]) {
                const { r } = run({ pp, m, vpp, schedule, layersPerStage: 3, overlap, zeroStage }, 1, 2, 1, (c) => {
                  c.ppSendSeconds = 0.2;
                  c.ppSendSecondsSameNode = 0.1;
                  c.dp = c.dp.map((d) => ({ ...d, gradientSeconds: 0.5, paramGatherSeconds: 0.3, perMicroBatch: zeroStage === 3 }));
                });
                expect(r.stepSeconds).toBeGreaterThan(0);
                expect(r.detail.ops.every((o) => o.endSeconds >= o.startSeconds)).toBe(true);
              }
            }
          }
        }
      }
    }
  });
});

describe('communication: contention, tiers, overlap', () => {
  // pp 2, one layer per stage, m 1: rank 1 finishes its backward at t = 3 and then sends the
  // gradient to rank 0 and reduces its own gradients at the same time.
  const onNic = (c: StepCosts, sendsCrossNodes: boolean) => {
    c.ppSendSeconds = 1;
    c.ppSendSecondsSameNode = 1;
    c.placements = { ...c.placements, pp: { ...c.placements.pp, membersPerNode: sendsCrossNodes ? 1 : 2, nodes: sendsCrossNodes ? 2 : 1 } };
    c.dp = c.dp.map((d) => ({ ...d, gradientSeconds: 1, placement: { ...d.placement, nodes: 2, membersPerNode: 1 } }));
  };
  const shape: SyntheticShape = { pp: 2, m: 1, schedule: '1f1b', layersPerStage: 1, overlap: { dp: false, pp: true } };

  it('two flows on one NIC each get half its bandwidth', () => {
    const { r } = run(shape, 1, 1, 0, (c) => onNic(c, true));
    const send = ops(r, 'send-b', 1)[0];
    const reduce = ops(r, 'dp-reduce', 1)[0];
    expect(send.startSeconds).toBeCloseTo(reduce.startSeconds, 12);
    expect(send.endSeconds - send.startSeconds).toBeCloseTo(2, 9);
    expect(reduce.endSeconds - reduce.startSeconds).toBeCloseTo(2, 9);
    // Alone on its NIC, rank 0's reduce takes its stand-alone time.
    const r0 = ops(r, 'dp-reduce', 0)[0];
    expect(r0.endSeconds - r0.startSeconds).toBeCloseTo(1, 9);
  });

  it('a send to a rank on the same node goes over NVLink and does not contend with DP', () => {
    const { r } = run(shape, 1, 1, 0, (c) => onNic(c, false));
    const send = ops(r, 'send-b', 1)[0];
    expect(send.endSeconds - send.startSeconds).toBeCloseTo(1, 9);
    expect(ops(r, 'dp-reduce', 1)[0].endSeconds - ops(r, 'dp-reduce', 1)[0].startSeconds).toBeCloseTo(1, 9);
  });

  it('a DP group crossing the 1:7 tier is slower than the same group on a non-blocking fabric by the placement factor', () => {
    // Llama 3 405B at 128K context: DP ranks 2,048 apart, so many groups cross the pods' 1:7
    // aggregation layer (Llama 3 §3.3.1) and share its uplinks; topology.ts gives the factor.
    const sc = loadScenario(scenarioFile('llama3-405b-128k'), { sets: ['plan.overlap.dp=false'] });
    const flat: Scenario = { ...sc, fabric: { ...sc.fabric, tiers: sc.fabric.tiers.map((t) => ({ ...t, oversubscription: 1 })) } };
    const c7 = stepCosts(sc);
    const c1 = stepCosts(flat);
    const factor = c7.placements.dp.oversubscriptionFactor;
    expect(factor).toBeLessThan(0.5);
    expect(c1.placements.dp.oversubscriptionFactor).toBe(1);
    const dur = (r: DesStepResult) => {
      const o = ops(r, 'dp-reduce', 1)[0];
      return o.endSeconds - o.startSeconds;
    };
    const ratio = dur(desStep(sc, c7)) / dur(desStep(flat, c1));
    // Bandwidth-bound, so the time scales with 1/factor (latency terms make it a bit less).
    expect(ratio).toBeGreaterThan(0.95 / factor);
    expect(ratio).toBeLessThanOrEqual(1 / factor + 1e-9);
  });

  it('gradient buckets hide behind the remaining backward; without overlap the reduce is exposed', () => {
    const grad = (c: StepCosts) => (c.dp = c.dp.map((d) => ({ ...d, gradientSeconds: 2 })));
    const base = run({ pp: 1, m: 2, schedule: '1f1b', layersPerStage: 8 }).r.stepSeconds;
    const hidden = run({ pp: 1, m: 2, schedule: '1f1b', layersPerStage: 8, overlap: { dp: true } }, 1, 1, 1, grad).r;
    const exposed = run({ pp: 1, m: 2, schedule: '1f1b', layersPerStage: 8, overlap: { dp: false } }, 1, 1, 1, grad).r;
    expect(exposed.stepSeconds).toBeCloseTo(base + 2, 9);
    expect(hidden.stepSeconds - base).toBeGreaterThan(0);
    expect(hidden.stepSeconds - base).toBeLessThan(1); // only the last bucket(s)
    expect(hidden.breakdown.dpSeconds).toBeCloseTo(hidden.stepSeconds - base, 9);
  });

  it('ZeRO-3 without overlap exposes m·(2·gather + reduce) on a single stage, and overlap hides most of it', () => {
    const z3 = (c: StepCosts) => (c.dp = c.dp.map((d) => ({ ...d, gradientSeconds: 0.5, paramGatherSeconds: 0.4, perMicroBatch: true })));
    const base = run({ pp: 1, m: 3, schedule: '1f1b', layersPerStage: 8 }).r.stepSeconds;
    const off = run({ pp: 1, m: 3, schedule: '1f1b', layersPerStage: 8, zeroStage: 3, overlap: { dp: false } }, 1, 1, 1, z3).r;
    const on = run({ pp: 1, m: 3, schedule: '1f1b', layersPerStage: 8, zeroStage: 3, overlap: { dp: true } }, 1, 1, 1, z3).r;
    expect(off.stepSeconds).toBeCloseTo(base + 3 * (2 * 0.4 + 0.5), 9);
    // Left exposed: the first layer's gather and the last bucket's reduce-scatter.
    expect(on.stepSeconds - base).toBeLessThan(0.15 * (off.stepSeconds - base));
  });

  it('ZeRO-3 in closed form: with overlap only one layer gather and one layer reduce-scatter are exposed, as in the DES', () => {
    // 8 layers of (1, 1, 1) s, stage gather 0.4 s and reduce-scatter 0.5 s: per layer 0.05 and
    // 0.0625, both far below a layer's compute, so each of the 3 micro-batches exposes
    // (0.4 + 0.5) / 8 = 0.1125 s (the closed form counted the whole stage's 0.4 s gather once).
    const z3 = (c: StepCosts) => (c.dp = c.dp.map((d) => ({ ...d, gradientSeconds: 0.5, paramGatherSeconds: 0.4, perMicroBatch: true })));
    const { sc, costs, r } = run({ pp: 1, m: 3, schedule: '1f1b', layersPerStage: 8, zeroStage: 3, overlap: { dp: true } }, 1, 1, 1, z3);
    const a = analyticStep(sc, costs);
    expect(a.breakdown.dpSeconds).toBeCloseTo((3 * (0.4 + 0.5)) / 8, 9);
    const base = run({ pp: 1, m: 3, schedule: '1f1b', layersPerStage: 8 }).r.stepSeconds;
    expect(a.stepSeconds).toBeCloseTo(r.stepSeconds, 2);
    expect(r.stepSeconds - base).toBeCloseTo(a.breakdown.dpSeconds, 2);
  });

  it('PP sends without overlap block the sender: 2·m·vpp sends more than overlapped', () => {
    const send = (c: StepCosts) => {
      c.ppSendSeconds = 0.1;
      c.ppSendSecondsSameNode = 0.1;
    };
    const on = run({ pp: 4, m: 8, schedule: '1f1b', overlap: { pp: true } }, 1, 1, 1, send).r;
    const off = run({ pp: 4, m: 8, schedule: '1f1b', overlap: { pp: false } }, 1, 1, 1, send).r;
    expect(off.stepSeconds).toBeGreaterThan(on.stepSeconds);
    expect(on.breakdown.ppSeconds).toBeGreaterThan(0);
  });
});

describe('stragglers and variation', () => {
  it('a straggler slows its rank and every collective it joins; the step waits for it', () => {
    const grad = (c: StepCosts) => (c.dp = c.dp.map((d) => ({ ...d, gradientSeconds: 1 })));
    const shape: SyntheticShape = { pp: 4, m: 8, schedule: '1f1b', overlap: { dp: false } };
    const base = run(shape, 1, 1, 1, grad).r;
    const slow = run({ ...shape, simulation: { stragglerSlowdown: 0.5 } }, 1, 1, 1, grad).r;
    const s = slow.detail.slowStage;
    expect(s).toBeGreaterThanOrEqual(0);
    expect(slow.stepSeconds).toBeGreaterThan(base.stepSeconds);
    expect(slow.stepSeconds).toBeGreaterThan(slow.detail.stages[s].busySeconds + 1.5);
    const d = (st: number) => ops(slow, 'dp-reduce', st)[0];
    expect(d(s).endSeconds - d(s).startSeconds).toBeCloseTo(1.5, 9);
    expect(d((s + 1) % 4).endSeconds - d((s + 1) % 4).startSeconds).toBeCloseTo(1, 9);
    // Its compute: m passes of 1.5× on the slow rank.
    expect(slow.detail.stages[s].busySeconds).toBeCloseTo(1.5 * base.detail.stages[s].busySeconds, 9);
  });

  it('throughput variation v scales compute by the mean 1 + v/2', () => {
    const base = run({ pp: 4, m: 8, schedule: '1f1b' }).r;
    const v = run({ pp: 4, m: 8, schedule: '1f1b', simulation: { throughputVariation: 0.02 } }).r;
    expect(v.stepSeconds / base.stepSeconds).toBeCloseTo(1.01, 12);
  });
});

describe('layout and determinism', () => {
  it('chunks: remainder layers avoid the chunks holding the embedding and LM head', () => {
    const c = chunkLayout([7, 8, 8, 7], 8);
    expect(c[0].map((x) => x.numLayers)).toEqual([0, 1, 1, 1, 1, 1, 1, 1]);
    expect(c[3].map((x) => x.numLayers)).toEqual([1, 1, 1, 1, 1, 1, 1, 0]);
    expect(c[1][0].firstGlobalLayer).toBe(0);
    // Virtual stages in order c·pp + s: rank 0's chunk 1 follows the first lap (0 + 1 + 1 + 1 layers).
    expect(c[0][1].firstGlobalLayer).toBe(3);
  });

  it('the same scenario gives identical results', () => {
    const sc = loadScenario(scenarioFile('llama3-405b'));
    const a = desStep(sc, stepCosts(sc));
    const b = desStep(sc, stepCosts(sc));
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });

  it('runs llama3-405b (16,384 GPUs, PP16 vpp 8) with a few thousand ops', () => {
    const sc = loadScenario(scenarioFile('llama3-405b'));
    const costs = stepCosts(sc);
    desStep(sc, costs);
    const t0 = performance.now();
    const r = desStep(sc, costs);
    const ms = performance.now() - t0;
    expect(r.detail.ops.length).toBeLessThan(20_000);
    // The target is 200 ms (bench/step.ts measures it); the bound here only catches blow-ups.
    expect(ms).toBeLessThan(2000);
    expect(r.engine).toBe('des');
  });
});
