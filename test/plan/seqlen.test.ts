/**
 * Issue 10 item 5: the sequence length is the plan's (plan.seqLen), so one model file serves every
 * context length; an old file whose model still carries seqLen loads, with a note saying where it
 * belongs now; a file with neither names plan.seqLen.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { loadScenario, parseScenario, packageRoot } from '../../src/io/load.js';
import { evaluate } from '../../src/run/evaluate.js';
import { UserError } from '../../src/errors.js';

const file = (name: string) => join(packageRoot, 'scenarios', `${name}.yaml`);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const raw = (name: string): any => parseYaml(readFileSync(file(name), 'utf8'));
const modelFile = (name: string) => parseYaml(readFileSync(join(packageRoot, 'models', `${name}.yaml`), 'utf8')) as Record<string, unknown>;

describe('sequence length on the plan', () => {
  it('the 128K scenario uses the same model file as the 8K one; seqLen comes from the plan', () => {
    const long = loadScenario(file('llama3-405b-128k'));
    const short = loadScenario(file('llama3-405b'));
    expect([long.model.seqLen, short.model.seqLen]).toEqual([131072, 8192]);
    expect(long.model.name).toBe(short.model.name);
    expect(long.notes).toBeUndefined();
  });

  it('an old scenario naming the deprecated 128K model file gives the same numbers, with a note', () => {
    const old = raw('llama3-405b-128k');
    old.model = 'llama3-405b-128k';
    delete old.plan.seqLen;
    const before = evaluate(parseScenario(old, file('llama3-405b-128k')), { engine: 'analytic' });
    const now = evaluate(loadScenario(file('llama3-405b-128k')), { engine: 'analytic' });
    expect(before.step.seconds).toBe(now.step.seconds);
    expect(before.memory.perGpuBytes).toBe(now.memory.perGpuBytes);
    expect(before.notes.some((n) => /model\.seqLen \(131,072\) is deprecated.*plan/.test(n))).toBe(true);
    expect(now.notes.some((n) => /deprecated/.test(n))).toBe(false);
  });

  it('an inline model with seqLen and a plan with another: the plan wins, as any default is overridden', () => {
    const s = raw('tiny');
    s.model = { ...modelFile('tiny'), seqLen: 128 };
    expect(parseScenario(s, 'inline.yaml').model.seqLen).toBe(256);
  });

  it('neither plan nor model gives one: a UserError naming plan.seqLen', () => {
    const s = raw('llama3-8b');
    delete s.plan.seqLen;
    let e: unknown;
    try {
      parseScenario(s, 'old.yaml');
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).format()).toMatch(/^old\.yaml: plan\.seqLen: is required: the training sequence length/);
  });

  it('no Llama 3 model file holds a sequence length any more', () => {
    for (const m of ['llama3-8b', 'llama3-70b', 'llama3-405b']) expect('seqLen' in modelFile(m)).toBe(false);
  });
});
