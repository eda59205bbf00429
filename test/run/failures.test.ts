import { describe, it, expect } from 'vitest';
import { FailureProfileSchema } from '../../src/schema/failures.js';
import { loadProfile } from '../../src/io/load.js';
import { modelComponents, type RunInputs } from '../../src/run/inputs.js';
import { profile, inputs } from './fixtures.js';
import { youngDaly, checkpointCosts, restartCosts } from '../../src/run/checkpoint.js';
import { planRun, eventsPerSecond, RunTooLarge, MAX_EXPECTED_EVENTS } from '../../src/run/plan-run.js';
import { UserError } from '../../src/errors.js';
import { simulateRun } from '../../src/run/monte-carlo.js';
import { simulateRunParallel } from '../../src/run/parallel.js';
import { renderFailures, renderFailureBrief } from '../../src/report/failures.js';

describe('failure profile schema', () => {
  it('parses units and fills defaults', () => {
    const p = profile([{ name: 'x', rate: 1e-6, per: 'gpu-hour', detect: '2 min' }]);
    expect(p.components[0]).toMatchObject({ scope: 'node', distribution: 'exponential', detect: 120, replaceNode: false, planned: false, downtime: 0 });
    expect(p.recovery).toMatchObject({ relaunch: 60, init: 120, repair: 86400 });
    expect(p.checkpoint).toMatchObject({ bytesPerParam: 14, saveOverhead: 5, asyncSnapshotBandwidth: 20e9 });
    expect(FailureProfileSchema.parse({ name: 'bare', components: [] }).recovery).toMatchObject({ relaunch: 0, init: 0, referenceGpus: 1, initExponent: 0, repair: 0 });
  });

  it('rejects inconsistent components', () => {
    const bad = (c: Record<string, unknown>) => FailureProfileSchema.safeParse({ name: 'b', components: [{ name: 'x', rate: 1, per: 'job-hour', ...c }] }).success;
    expect(bad({ distribution: 'weibull' })).toBe(false);
    expect(bad({ distribution: 'weibull', weibullShape: 0.8 })).toBe(true);
    expect(bad({ scope: 'job', replaceNode: true })).toBe(false);
    expect(bad({ downtime: '1 h' })).toBe(false);
    expect(bad({ planned: true, downtime: '1 h' })).toBe(true);
    expect(bad({ rate: -1 })).toBe(false);
    expect(bad({ detect: 'soon' })).toBe(false);
    expect(bad({ colour: 'red' })).toBe(false);
    expect(FailureProfileSchema.safeParse({ name: 'd', components: [{ name: 'x', rate: 1, per: 'job-hour' }, { name: 'x', rate: 1, per: 'job-hour' }] }).success).toBe(false);
  });

  it('the bundled profiles load', () => {
    const llama = loadProfile('failures', 'llama3-h100');
    const unexpected = llama.components.filter((c) => !c.planned);
    expect(unexpected).toHaveLength(18);
    const opt = loadProfile('failures', 'a100-cloud-opt175b');
    expect(opt.components.length).toBeGreaterThan(0);
    expect(opt.checkpoint.bytesPerParam).toBe(10);
  });
});

describe('costs and rates', () => {
  it('checkpoint write and restore times come from size and bandwidth (aggregate or per node)', () => {
    const c = checkpointCosts(inputs());
    expect(c.writeSeconds).toBeCloseTo(1e12 / 100e9 + 5, 12);
    expect(c.pauseSeconds).toBe(c.writeSeconds);
    expect(c.loadSeconds).toBeCloseTo(2e12 / 100e9, 12);
    // Per node: 1 TB / 128 nodes at 0.5 GB/s = 15.6 s, slower than the aggregate 10 s.
    const slow = checkpointCosts(inputs({ storage: { writeBytesPerSecond: 100e9, readBytesPerSecond: 400e9, perNodeBytesPerSecond: 0.5e9 } }));
    expect(slow.writeSeconds).toBeCloseTo(1e12 / 128 / 0.5e9 + 5, 9);
    expect(slow.loadSeconds).toBeCloseTo(2e12 / 128 / 0.5e9, 9);
    const a = checkpointCosts(inputs({ checkpointAsync: true }));
    expect(a.pauseSeconds).toBeCloseTo(5 + 1e12 / 1024 / 20e9, 12);
    expect(a.backgroundSeconds).toBeCloseTo(10, 12);
  });

  it('restart time grows with job size as (gpus / reference)^exponent', () => {
    const r1 = restartCosts(inputs(), checkpointCosts(inputs()));
    const r4 = restartCosts(inputs({ gpus: 4096 }), checkpointCosts(inputs()));
    expect(r1.initSeconds).toBeCloseTo(120, 12);
    expect(r4.initSeconds).toBeCloseTo(240, 12);
    expect(r1.seconds).toBeCloseTo(60 + 120 + 20, 12);
  });

  it('converts rates per GPU-, node- and job-hour to the job and counts nodes taken out', () => {
    const c = modelComponents(inputs());
    expect(c[0].ratePerSecond).toBeCloseTo((2e-5 * 1024) / 3600, 15);
    expect(c[1].ratePerSecond).toBeCloseTo((1e-4 * 128) / 3600, 15);
    expect(c[2].ratePerSecond).toBeCloseTo(0.02 / 3600, 15);
    expect(c.map((x) => x.nodesOut)).toEqual([1, 2, 0, 0]);
    expect(c.map((x) => x.repairSeconds)).toEqual([86400, 4 * 3600, 86400, 86400]);
  });

  it('Young and Daly intervals', () => {
    const { young, daly } = youngDaly(10, 10_000);
    expect(young).toBeCloseTo(Math.sqrt(2 * 10 * 10_000), 9);
    expect(daly).toBeLessThan(young);
    expect(daly).toBeGreaterThan(0.9 * young);
    expect(youngDaly(100, 10).daly).toBe(10);
  });
});

describe('simulateRun', () => {
  it('with a zero failure rate the run takes exactly the ideal time plus checkpoints', () => {
    const zero = inputs({ failures: profile([{ name: 'none', rate: 0, per: 'gpu-hour' }]) });
    const s = simulateRun(zero, { trials: 3, checkpointIntervalSeconds: 3600 });
    const steps = Math.ceil(2e12 / 4_194_304);
    const work = steps * 2;
    const saves = Math.ceil(work / 3600) - 1;
    expect(s.days.mean * 86400).toBeCloseTo(work + saves * (10 + 5), 6);
    expect(s.days.p99).toBe(s.days.p5);
    expect(s.interruptions.total.mean).toBe(0);
    expect(s.lostGpuHours.recomputed).toBe(0);
    expect(s.checkpoint).toMatchObject({ intervalSeconds: 3600, source: 'option', youngSeconds: null });
    expect(s.finishedTrials).toBe(3);
  });

  it('reports the keys the CLI promises, consistently', () => {
    const s = simulateRun(inputs(), { trials: 200, seed: 5 });
    expect(s.trials).toBe(200);
    for (const k of ['mean', 'p5', 'p50', 'p90', 'p99'] as const) expect(Number.isFinite(s.days[k])).toBe(true);
    expect(s.days.p5).toBeLessThanOrEqual(s.days.p50);
    expect(s.days.p50).toBeLessThanOrEqual(s.days.p99);
    expect(s.days.mean).toBeGreaterThan(s.days.ideal);
    expect(s.interruptions.total.mean).toBeCloseTo(s.interruptions.unexpected.mean + s.interruptions.planned.mean, 9);
    expect(Object.keys(s.interruptions.byComponent)).toEqual(['GPU', 'Switch', 'Software', 'Maintenance']);
    const l = s.lostGpuHours;
    expect(l.recomputed + l.restart + l.checkpoint + l.detection + l.maintenance + l.waitingForSpares).toBeCloseTo(l.mean, 3);
    expect(s.goodput.mean).toBeGreaterThan(0.5);
    expect(s.goodput.mean).toBeLessThan(1);
    expect(s.checkpoint.source).toBe('young-daly');
    expect(s.checkpoint.intervalSeconds).toBeCloseTo(Math.round(s.checkpoint.dalySeconds! / 2) * 2, 9);
    expect(s.histogram.counts.reduce((a, b) => a + b, 0)).toBe(200);
    // rate × exposure, per component
    const gpu = s.interruptions.byComponent.GPU;
    expect(gpu.mean / gpu.expected).toBeGreaterThan(0.9);
    expect(gpu.mean / gpu.expected).toBeLessThan(1.1);
  });

  it('says when the spare pool runs empty', () => {
    const s = simulateRun(inputs({ spareNodes: 0 }), { trials: 50 });
    expect(s.spares.trialsWaited).toBeGreaterThan(0);
    expect(s.lostGpuHours.waitingForSpares).toBeGreaterThan(0);
    expect(s.notes.join(' ')).toMatch(/spare pool \(0 nodes\) ran empty/);
  });

  it('the optimized interval beats (or ties) the candidates around Young/Daly, and is reported next to it', () => {
    const s = simulateRun(inputs(), { trials: 100, optimize: true });
    expect(s.checkpoint.source).toBe('optimized');
    const o = s.checkpoint.optimum!;
    expect(o.candidates.length).toBeGreaterThan(5);
    for (const c of o.candidates) expect(o.goodput).toBeGreaterThanOrEqual(c.goodput - 2e-3);
    expect(o.intervalSeconds / s.checkpoint.dalySeconds!).toBeGreaterThan(0.4);
    expect(o.intervalSeconds / s.checkpoint.dalySeconds!).toBeLessThan(2.5);
    expect(s.checkpoint.intervalSeconds).toBe(o.intervalSeconds);
  });

  it('a fixed window counts interruptions within it', () => {
    const s = simulateRun(inputs(), { trials: 100, horizonSeconds: 7 * 86400 });
    expect(s.mode).toBe('horizon');
    expect(s.days.mean).toBe(7);
    const expected = Object.values(s.interruptions.byComponent).reduce((a, c) => a + c.expected, 0);
    expect(expected).toBeCloseTo((2e-5 * 1024 + 1e-4 * 128 + 0.02 + 0.01) * 7 * 24, 6);
  });

  it('options the CLI checks are invariants here; a profile without what async saves need is a user error naming the field', () => {
    expect(() => planRun(inputs(), { trials: 0 })).toThrow(/internal invariant.*trials/);
    expect(() => planRun(inputs(), { trials: 1.5 })).toThrow(/internal invariant.*trials/);
    expect(() => planRun(inputs(), { horizonSeconds: -1 })).toThrow(/internal invariant.*horizon/);
    expect(() => planRun(inputs(), { checkpointIntervalSeconds: 0 })).toThrow(/internal invariant.*interval/);
    const noSnapshot = inputs({ checkpointAsync: true, failures: FailureProfileSchema.parse({ name: 'n', components: [] }) });
    expect(() => planRun(noSnapshot)).toThrow(UserError);
    try {
      planRun(noSnapshot);
    } catch (e) {
      expect((e as UserError).fieldPath).toBe('failures.checkpoint.asyncSnapshotBandwidth');
    }
  });
});

/**
 * The same function from the compiled dist/ (npm test builds it first): its workers start from
 * dist/run/worker.js instead of compiling the sources through tsx in every worker (about a second
 * of CPU each). The from-source path stays covered by the progress test below; a missing build
 * fails the import, it does not skip the test.
 */
const builtParallel = async () => (await import('../../dist/run/parallel.js' as string)) as typeof import('../../src/run/parallel.js');

describe('worker threads', () => {
  it('same seed gives identical JSON for 1, 2 and 4 workers', async () => {
    const opts = { trials: 700, seed: 'determinism' };
    const { simulateRunParallel: fromDist } = await builtParallel();
    const one = JSON.stringify(await simulateRunParallel(inputs(), { ...opts, workers: 1 }));
    const two = JSON.stringify(await fromDist(inputs(), { ...opts, workers: 2 }));
    const four = JSON.stringify(await fromDist(inputs(), { ...opts, workers: 4 }));
    expect(two).toBe(one);
    expect(four).toBe(one);
    // ... and a different seed differs.
    expect(JSON.stringify(simulateRun(inputs(), { trials: 700, seed: 'other' }))).not.toBe(one);
  });

  it('the interval search gives the same answer on workers', async () => {
    const opts = { trials: 60, seed: 3, optimize: true, horizonSeconds: 10 * 86400 };
    const a = JSON.stringify(simulateRun(inputs(), opts));
    const b = JSON.stringify(await (await builtParallel()).simulateRunParallel(inputs(), { ...opts, workers: 2 }));
    expect(b).toBe(a);
  });

  it('reports progress up to the trial count', async () => {
    const seen: number[] = [];
    await simulateRunParallel(inputs(), { trials: 600, workers: 2, onProgress: (p) => seen.push(p.done) });
    expect(seen[seen.length - 1]).toBe(600);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
  });
});

describe('report', () => {
  it('renders days, interruptions by component, lost GPU-hours, spares, checkpointing and a histogram', () => {
    const s = simulateRun(inputs(), { trials: 100, optimize: true });
    const text = renderFailures(s, 'test', 1024);
    for (const part of ['Wall-clock days', 'p99', 'Goodput', 'Interruptions', 'Switch', 'Lost GPU-hours', 'recomputed work', 'Spares', 'Young', 'simulated optimum', 'Restart', 'Finish time (days)']) {
      expect(text).toContain(part);
    }
    expect(renderFailureBrief(s)[0]).toMatch(/goodput \d+\.\d%/);
    const window = renderFailures(simulateRun(inputs(), { trials: 20, horizonSeconds: 86400 }), 'test', 1024);
    expect(window).toContain('1.0-day window');
    expect(window).not.toContain('Finish time');
  });
});

describe('bounded work', () => {
  it('a trial whose failures outpace progress runs to the wall cap, every event simulated, and the summary says so', () => {
    // Nodes fail every few minutes and take a day to repair with one spare: hardly any progress.
    const s = simulateRun(
      inputs({
        totalTokens: 2e10,
        spareNodes: 1,
        failures: profile([{ name: 'GPU', category: 'GPU', rate: 0.02, per: 'gpu-hour', scope: 'gpu', detect: '1 min', replaceNode: true }]),
      }),
      { trials: 3, seed: 1 },
    );
    const capDays = (50 * Math.ceil(2e10 / 4_194_304) * 2 + 365 * 86400) / 86400;
    expect(s.finishedTrials).toBe(0);
    expect(s.days.mean).toBeCloseTo(capDays, 9);
    expect(s.notes.join(' ')).toMatch(/3 of 3 trials did not finish within \d+ days/);
    // Every interruption up to the cap is counted: rate × wall, within 5 standard deviations.
    const expected = 0.02 * 1024 * 24 * capDays;
    expect(Math.abs(s.interruptions.total.mean - expected)).toBeLessThan(5 * Math.sqrt(expected / 3));
  });

  it('refuses up front a Monte Carlo expected to simulate more than MAX_EXPECTED_EVENTS, naming the longest window that fits', () => {
    let err: unknown;
    try {
      simulateRun(inputs(), { trials: 1000, seed: 1, horizonSeconds: 1e12 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RunTooLarge);
    const e = err as RunTooLarge;
    expect(e.fieldPath).toBe('horizonSeconds');
    expect(e.message).toMatch(/interruptions, restarts and node repairs.*at most \d+ days per trial/);
    // The window it names fits, and runs.
    const perDay = eventsPerSecond(planRun(inputs(), { trials: 1, horizonSeconds: 86400 }).base) * 86400;
    expect(e.largestSpanSeconds).toBeCloseTo((MAX_EXPECTED_EVENTS / (perDay * 1000)) * 86400, 3);
    expect(() => planRun(inputs(), { trials: 1000, horizonSeconds: e.largestSpanSeconds * 0.99 })).not.toThrow();
  });

  it('counts node repairs in the bound: the same interruptions cost more when every one sends a node to repair', () => {
    const comps = (replaceNode: boolean) => profile([{ name: 'GPU', category: 'GPU', rate: 2e-5, per: 'gpu-hour', scope: 'gpu', detect: '1 min', replaceNode }]);
    const a = planRun(inputs({ failures: comps(false) }), { trials: 10, horizonSeconds: 86400 });
    const b = planRun(inputs({ failures: comps(true) }), { trials: 10, horizonSeconds: 86400 });
    expect(b.expectedEvents / a.expectedEvents).toBeCloseTo(3 / 2, 12);
  });
});
