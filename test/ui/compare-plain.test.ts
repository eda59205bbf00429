/** `clusterplan compare` without a terminal: plain table, JSON and CSV with the same numbers, no escape codes, exit 0. */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { COLUMNS, bestPlans, cellText, visibleColumns, planIntervals, type ComparePlan, type NumericKey } from '../../src/report/compare.js';
import { planDiff } from '../../src/report/compare-views.js';
import { renderCompareTable, compareRecord } from '../../src/report/compare-plain.js';
import { tinyPlans, runPiped, type Piped } from './fixtures.js';

const root = resolve(__dirname, '../..');
const ARGS = ['compare', 'scenarios/tiny.yaml', '--vary', 'tp=2,1', '--set', 'cluster.failures=llama3-h100', '--set', 'cluster.storage.writeBandwidth=2 TB/s', '--trials', '20'];
type Result = Piped;
/** Runs the CLI with stdout and stderr piped (not a terminal). */
const run = (...extra: string[]) => runPiped([...ARGS, ...extra]);

describe('compare, piped', () => {
  let table: Result;
  let json: Result;
  let csv: Result;
  beforeAll(async () => {
    [table, json, csv] = await Promise.all([run(), run('--json'), run('--csv')]);
  }, 120_000);

  it('exits 0 without escape codes', () => {
    for (const r of [table, json]) {
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(/\x1b/);
    }
  });

  it('the plain table shows the numbers --json gives', () => {
    const plans = JSON.parse(json.stdout).plans as { name: string; values: Record<string, number | string | null> }[];
    expect(plans.map((p) => p.name)).toEqual(['tiny tp=2', 'tiny tp=1']);
    const lines = table.stdout.split('\n');
    for (const p of plans) {
      const row = lines.find((l) => l.startsWith(p.name + ' '))!;
      expect(row, p.name).toBeDefined();
      for (const c of COLUMNS) {
        if (c.key === 'name') continue;
        const v = p.values[c.key];
        expect(v, `${p.name} ${c.key}`).not.toBeNull();
        const shown = typeof v === 'number' ? c.format(v) : String(v);
        expect(row, `${p.name} ${c.header}`).toContain(shown);
      }
    }
    // MFU of tp=1 is higher (no TP communication), and it is the one marked best.
    const mfu = (n: string) => plans.find((p) => p.name === n)!.values.mfu as number;
    expect(mfu('tiny tp=1')).toBeGreaterThan(mfu('tiny tp=2'));
    expect(lines.find((l) => l.startsWith('tiny tp=1'))).toContain(`${COLUMNS.find((c) => c.key === 'mfu')!.format(mfu('tiny tp=1'))}*`);
  });

  it('CSV carries the JSON values at full precision', () => {
    expect(csv.status).toBe(0);
    const [head, ...rows] = csv.stdout.trim().split('\n');
    const keys = head.split(',');
    const plans = JSON.parse(json.stdout).plans as { values: Record<string, number> }[];
    rows.forEach((r, i) => {
      const cells = r.split(',');
      for (const k of ['stepSeconds', 'mfu', 'p90Days', 'costUsd'] as const) expect(Number(cells[keys.indexOf(k)])).toBe(plans[i].values[k]);
    });
  });

  it('a file that does not load is one line on stderr and exit 2', () => {
    const r = spawnSync(process.execPath, ['bin/clusterplan', 'compare', 'scenarios/no-such.yaml'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('error: scenarios/no-such.yaml: file not found');
  });
});

describe('comparison rows', () => {
  let plans: ComparePlan[];
  beforeAll(() => {
    plans = tinyPlans();
  });

  it('best values come only from plans that fit', () => {
    const best = bestPlans(plans);
    // small-hbm has the same step as tp=2 but does not fit: never marked.
    for (const ids of best.values()) expect(ids.has(2)).toBe(false);
    expect([...best.get('mfu')!]).toEqual([1]);
  });

  it('overlapping intervals mark both plans best and show ±', () => {
    const [a, b] = plans;
    const key: NumericKey = 'stepSeconds';
    const sa = a.evaluation!.step.seconds;
    const sb = b.evaluation!.step.seconds;
    const wide = [{ ...a, intervals: { [key]: { low: sb * 0.5, high: sa * 1.1 } } }, { ...b, intervals: { [key]: { low: sb * 0.9, high: sb * 1.1 } } }];
    expect([...bestPlans(wide).get(key)!].sort()).toEqual([0, 1]);
    expect(cellText(wide[1], COLUMNS.find((c) => c.key === key)!)).toMatch(/±10%$/);
    const apart = [{ ...a, intervals: { [key]: { low: sa * 0.99, high: sa * 1.01 } } }, { ...b, intervals: { [key]: { low: sb * 0.99, high: sb * 1.01 } } }];
    expect([...bestPlans(apart).get(key)!]).toEqual([1]);
  });

  it('the 80 % intervals evaluate reports (throughput.interval80, run.idealDaysInterval80) show, and overlapping plans are not ordered', () => {
    const [a, b] = plans;
    const withIntervals = (p: ComparePlan, spread: number): ComparePlan => {
      const ev = p.evaluation!;
      const g = ev.throughput.tokensPerSecondPerGpu;
      const d = ev.run.idealDays;
      return { ...p, evaluation: { ...ev, throughput: { ...ev.throughput, interval80: [g * (1 - spread), g * (1 + spread)] }, run: { ...ev.run, idealDaysInterval80: [d * (1 - spread), d * (1 + spread)] } } };
    };
    // Far apart without intervals (tp=1 is clearly faster); ±90 % makes every value overlap.
    expect([...bestPlans([a, b]).get('mfu')!]).toEqual([1]);
    const wide = [withIntervals(a, 0.9), withIntervals(b, 0.9)];
    const iv = planIntervals(wide[0])!;
    const ev = wide[0].evaluation!;
    expect(iv.tokensPerSecond!.low).toBeCloseTo(ev.throughput.tokensPerSecond * 0.1, 6);
    expect(iv.stepSeconds!.high).toBeCloseTo(ev.step.seconds / 0.1, 9);
    expect(iv.gpuHours!.high).toBeCloseTo(ev.run.gpuHours * 1.9, 6);
    for (const key of ['mfu', 'stepSeconds', 'tokensPerSecond', 'idealDays', 'gpuHours'] as const) expect([...bestPlans(wide).get(key)!].sort(), key).toEqual([0, 1]);
    // Monte Carlo days carry no interval: still ordered.
    expect(planIntervals(wide[0])!.p90Days).toBeUndefined();
    expect(cellText(wide[1], COLUMNS.find((c) => c.key === 'mfu')!)).toMatch(/±90%$/);
    expect(planDiff(wide[0], wide[1]).outputs.find((r) => r.label === 'MFU')!.overlaps).toBe(true);
    expect(renderCompareTable(wide)).toContain('80 % interval');
    expect(compareRecord(wide[0]).intervals).toEqual(iv);
    // Narrow intervals keep the order.
    const tight = [withIntervals(a, 0.001), withIntervals(b, 0.001)];
    expect([...bestPlans(tight).get('mfu')!]).toEqual([1]);
    expect(planDiff(tight[0], tight[1]).outputs.find((r) => r.label === 'MFU')!.overlaps).toBe(false);
    expect(planIntervals(plans[0])).toBeUndefined();
  });

  it('columns drop in the stated order as the width shrinks', () => {
    const order = [...COLUMNS].filter((c) => c.drop > 0).sort((x, y) => x.drop - y.drop).map((c) => c.key);
    let previous = COLUMNS.length + 1;
    for (let width = 220; width >= 20; width -= 5) {
      const keys = visibleColumns(plans, width).map((c) => c.key);
      expect(keys.length).toBeLessThanOrEqual(previous);
      previous = keys.length;
      // What is hidden is always a prefix of the drop order.
      const hidden = order.filter((k) => !keys.includes(k));
      expect(hidden).toEqual(order.slice(0, hidden.length));
      expect(keys).toContain('name');
    }
    const table80 = renderCompareTable(plans, { width: 80 });
    for (const line of table80.split('\n').slice(0, 4)) expect(line.length).toBeLessThanOrEqual(80);
  });
});
