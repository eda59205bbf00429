/** Plan files (a scenario plus overrides) for `clusterplan compare`. */
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readPlanSpecs } from '../../src/io/plan-file.js';
import { UserError } from '../../src/errors.js';

const scenario = resolve(__dirname, '../../scenarios/tiny.yaml');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'plan-file-'));
});
const write = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe('plan files', () => {
  it('a scenario is one plan without overrides, named after the file', () => {
    expect(readPlanSpecs(scenario)).toEqual([{ name: 'tiny', scenarioFile: scenario, sets: [], source: scenario }]);
  });

  it('an overlay names its base relative to itself and turns its fields into --set overrides', () => {
    const f = write('tp1.yaml', `scenario: ${scenario}\nname: tiny-tp1\nset:\n  plan.tp: 1\n  plan.dp: 4\n  cluster.gpu.hbm.capacity: 40 GiB\n`);
    expect(readPlanSpecs(f)).toEqual([{ name: 'tiny-tp1', scenarioFile: scenario, sets: ['plan.tp=1', 'plan.dp=4', 'cluster.gpu.hbm.capacity=40 GiB'], source: f }]);
  });

  it('a list of plans shares the base overrides', () => {
    const f = write('many.yaml', `scenario: ${scenario}\nset: {plan.microBatch: 1}\nplans:\n  - {name: a, set: {plan.tp: 1, plan.dp: 4}}\n  - {set: {plan.tp: 2}}\n`);
    const specs = readPlanSpecs(f);
    expect(specs.map((s) => s.name)).toEqual(['a', 'many#2']);
    expect(specs[0].sets).toEqual(['plan.microBatch=1', 'plan.tp=1', 'plan.dp=4']);
    expect(specs[1].sets).toEqual(['plan.microBatch=1', 'plan.tp=2']);
  });

  it('an unknown key is one error naming the file and the field', () => {
    const f = write('bad.yaml', `scenario: ${scenario}\nsets: {plan.tp: 1}\n`);
    expect(() => readPlanSpecs(f)).toThrow(UserError);
    try {
      readPlanSpecs(f);
    } catch (e) {
      expect((e as UserError).format()).toBe(`${f}: sets: unknown key "sets"`);
    }
  });
});
