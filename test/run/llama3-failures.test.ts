// Pinned to the Llama 3 paper (arXiv 2407.21783) §3.3.4 and Table 5: a 54-day snapshot of the
// 405B pre-training on ~16K H100 had 466 interruptions, 47 planned and 419 unexpected, with
// "higher than 90% effective training time". Counts from validation/failures-llama3.json.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario, packageRoot } from '../../src/io/load.js';
import { evaluate } from '../../src/run/evaluate.js';
import { runInputsFromScenario } from '../../src/run/inputs.js';
import { simulateRun } from '../../src/run/monte-carlo.js';
import { failureSummaryForEvaluate } from '../../src/run/failures.js';

interface Case {
  interruptions: { planned: number; unexpected: number; byComponent: { component: string; count: number }[] };
  ettr: { effectiveTrainingTimeMin: number };
}

const caseFile = join(packageRoot, 'validation', 'failures-llama3.json');
// Table 5 as printed (counts), checked against the case file below.
const table5: Record<string, number> = {
  'Faulty GPU': 148, 'GPU HBM3 Memory': 72, 'Software Bug': 54, 'Network Switch/Cable': 35, 'Host Maintenance': 32,
  'GPU SRAM Memory': 19, 'GPU System Processor': 17, NIC: 7, 'NCCL Watchdog Timeouts': 7, 'Silent Data Corruption': 6,
  'GPU Thermal Interface + Sensor': 6, SSD: 3, 'Power Supply': 3, 'Server Chassis': 2, 'IO Expansion Board': 2,
  Dependency: 2, CPU: 2, 'System Memory': 2,
};

describe('llama3-405b over the 54-day window (Llama 3 §3.3.4, Table 5)', () => {
  const sc = loadScenario(join(packageRoot, 'scenarios', 'llama3-405b.yaml'));
  const ev = evaluate(sc);
  const s = simulateRun(runInputsFromScenario(sc, ev), { trials: 400, seed: 1, horizonSeconds: 54 * 86400 });

  it('the table agrees with the validation case', () => {
    const c = JSON.parse(readFileSync(caseFile, 'utf8'))[0] as Case;
    expect(Object.fromEntries(c.interruptions.byComponent.map((r) => [r.component, r.count]))).toEqual(table5);
    expect(c.interruptions.unexpected).toBe(419);
  });

  it('reproduces 419 ± 10% unexpected and 47 planned interruptions', () => {
    expect(s.interruptions.unexpected.mean).toBeGreaterThan(419 * 0.9);
    expect(s.interruptions.unexpected.mean).toBeLessThan(419 * 1.1);
    expect(s.interruptions.planned.mean).toBeGreaterThan(47 * 0.85);
    expect(s.interruptions.planned.mean).toBeLessThan(47 * 1.15);
  });

  it('has Table 5’s mix by component', () => {
    const by = s.interruptions.byComponent;
    for (const [name, count] of Object.entries(table5)) {
      // Poisson counts: the mean over 400 trials is within 4 standard errors of the calibrated rate.
      expect(Math.abs(by[name].mean - count)).toBeLessThan(4 * Math.sqrt(count / 400) + 0.05);
    }
  });

  it('keeps the effective training time above 90%', () => {
    expect(s.goodput.mean).toBeGreaterThan(0.9);
    expect(s.goodput.p5).toBeGreaterThan(0.9);
  });

  it('the evaluate hook gives a whole-run summary', () => {
    const e = failureSummaryForEvaluate(sc, ev)!;
    expect(e.trials).toBe(200);
    expect(e.mode).toBe('run');
    expect(e.days.mean).toBeGreaterThan(e.days.ideal);
    expect(e.days.mean).toBeLessThan(e.days.ideal / 0.85);
  });
});
