import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { desStep } from '../../src/step/des.js';
import { stepCosts, type LayerCost, type StepCosts } from '../../src/step/costs.js';
import { buildChromeTrace, chromeTraceJson, type ChromeTrace } from '../../src/report/chrome-trace.js';
import { renderPipelineTimeline } from '../../src/report/timeline.js';
import { loadScenario } from '../../src/io/load.js';
import { tiny, zeroCommCosts, layer, shapedScenario, scenarioFile } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const goldenFile = join(here, 'golden', 'tiny-trace.json');

/**
 * The tiny scenario's plan (TP2 PP2 DP2, ZeRO-1, 4 micro-batches, 1F1B) with fixed round op
 * costs in milliseconds, so the golden file tracks the engine and the trace format, not the cost
 * model's calibration.
 */
function goldenCosts(): StepCosts {
  const ms = 1e-3;
  const l: LayerCost = { ...layer(1 * ms, 1 * ms, 1 * ms), tpForwardCommSeconds: 0.25 * ms, tpBackwardCommSeconds: 0.5 * ms, overlappableGemmSeconds: 0.75 * ms };
  const c = zeroCommCosts(tiny(), l);
  c.stages = c.stages.map((st, s) => ({ ...st, extraForwardSeconds: (s === 0 ? 0.25 : 0.5) * ms, extraBackwardSeconds: (s === 0 ? 0.25 : 1) * ms }));
  c.ppSendSeconds = 0.1 * ms;
  c.ppSendSecondsSameNode = 0.1 * ms;
  c.dp = c.dp.map((d) => ({ ...d, gradientSeconds: 2 * ms, paramGatherSeconds: 1 * ms }));
  c.optimizerSeconds = [0.5 * ms, 0.5 * ms];
  return c;
}

describe('Chrome trace', () => {
  it('golden trace for the tiny scenario (regenerate with UPDATE_GOLDEN=1)', () => {
    const sc = tiny();
    const text = chromeTraceJson(buildChromeTrace(sc, desStep(sc, goldenCosts())));
    if (process.env.UPDATE_GOLDEN === '1') {
      mkdirSync(dirname(goldenFile), { recursive: true });
      writeFileSync(goldenFile, text);
    }
    expect(existsSync(goldenFile), `${goldenFile} is missing: regenerate with UPDATE_GOLDEN=1`).toBe(true);
    expect(text === readFileSync(goldenFile, 'utf8')).toBe(true);
  });

  it('the same scenario gives a byte-identical trace', () => {
    for (const name of ['tiny', 'llama3-405b']) {
      const texts = [0, 1].map(() => {
        const sc = loadScenario(scenarioFile(name));
        return chromeTraceJson(buildChromeTrace(sc, desStep(sc, stepCosts(sc))));
      });
      expect(texts[1] === texts[0]).toBe(true);
    }
  });

  it('has a process per stage, threads for compute, collectives, PP and DP, and ops named by layer, micro-batch and phase', () => {
    const sc = tiny();
    const r = desStep(sc, stepCosts(sc));
    const trace = JSON.parse(chromeTraceJson(buildChromeTrace(sc, r))) as ChromeTrace;
    const procs = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name');
    expect(procs.map((p) => p.pid)).toEqual([1, 2]);
    const threads = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === 1).map((e) => e.args!.name);
    expect(threads).toEqual(['compute', 'TP (NVLink)', 'PP send', 'DP']);
    const x = trace.traceEvents.filter((e) => e.ph === 'X');
    expect(x.some((e) => e.name === 'L0 F mb0' && e.pid === 1 && e.tid === 1)).toBe(true);
    expect(x.some((e) => e.name === 'L3 B mb3' && e.pid === 2 && e.tid === 1)).toBe(true);
    expect(x.some((e) => e.name === 'L2 TP F mb1' && e.pid === 2 && e.tid === 2)).toBe(true);
    expect(x.some((e) => e.name.startsWith('send activation mb0') && e.tid === 3)).toBe(true);
    expect(x.some((e) => e.name.startsWith('reduce-scatter grads') && e.tid === 4)).toBe(true);
    expect(x.every((e) => e.ts! >= 0 && e.dur! >= 0)).toBe(true);
    // Layer events on a compute thread tile each op exactly.
    const compute = x.filter((e) => e.tid === 1 && e.pid === 1 && e.name !== 'optimizer');
    const busy = compute.reduce((a, e) => a + e.dur!, 0);
    expect(busy / 1e6).toBeCloseTo(r.detail.stages[0].busySeconds, 8);
  });

  it('zero-bubble and interleaved traces name W passes and chunks', () => {
    const zb = shapedScenario({ pp: 2, m: 4, schedule: 'zero-bubble' });
    const t = buildChromeTrace(zb, desStep(zb, zeroCommCosts(zb)));
    expect(t.traceEvents.some((e) => e.name === 'L1 W mb2')).toBe(true);
    const il = shapedScenario({ pp: 2, m: 4, vpp: 2, schedule: 'interleaved-1f1b' });
    const ti = buildChromeTrace(il, desStep(il, zeroCommCosts(il)));
    expect(ti.traceEvents.some((e) => e.ph === 'X' && e.args?.chunk === 1)).toBe(true);
  });
});

describe('text timeline', () => {
  it('one row per stage, the requested width, forward/backward/idle characters', () => {
    const sc = shapedScenario({ pp: 4, m: 8, schedule: '1f1b' });
    const r = desStep(sc, zeroCommCosts(sc));
    const text = renderPipelineTimeline(r, 60);
    const rows = text.split('\n').filter((l) => l.startsWith('stage'));
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row.split('|')[1]).toHaveLength(60);
    // 1F1B: rank 0 starts at once; the last rank waits (pp-1) forwards: (3·2)/(8·6+3·6) of the step.
    expect(rows[0].split('|')[1].startsWith('F')).toBe(true);
    expect(rows[3].split('|')[1].startsWith('.....')).toBe(true);
    expect(rows[3]).toMatch(/B/);
    expect(rows[0].split('|')[2].trim()).toBe('27.3% idle');
  });

  it('renders the default scenario compactly', () => {
    const sc = loadScenario(scenarioFile('llama3-405b'));
    const text = renderPipelineTimeline(desStep(sc, stepCosts(sc)));
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(16 + 2);
    expect(lines.every((l) => l.length <= 130)).toBe(true);
  });
});
