/**
 * Golden tests of the CLI's output on the tiny scenario: text report, JSON, validate on a small
 * case file, and the failures command, run in-process (test/cli/in-process.ts). A missing golden
 * file fails; regenerate with UPDATE_GOLDEN=1 after an intended change and review the diff.
 * The built binary is spawned once in bin.test.ts.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { cli } from './in-process.js';

const root = resolve(__dirname, '../..');
const golden = join(__dirname, 'golden');

function matchGolden(name: string, text: string) {
  const file = join(golden, name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, text);
  expect(existsSync(file), `golden file ${file} is missing: run UPDATE_GOLDEN=1 npx vitest run test/cli and review it`).toBe(true);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

describe('CLI golden output', () => {
  it('evaluate tiny (text)', async () => {
    const r = await cli(['evaluate', 'scenarios/tiny.yaml']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    matchGolden('evaluate-tiny.txt', r.stdout);
  });

  it('evaluate tiny --json, with the keys scripts rely on', async () => {
    const r = await cli(['evaluate', 'scenarios/tiny.yaml', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const path of ['feasible', 'reasons', 'model.paramsTotal', 'model.paramsActive', 'model.flopsPerToken', 'memory.perGpuBytes', 'memory.capacityBytes', 'memory.breakdown', 'step.seconds', 'step.breakdown', 'throughput.tokensPerSecondPerGpu', 'throughput.tflopsPerGpu', 'throughput.mfu', 'throughput.hfu', 'run.idealDays', 'run.gpuHours', 'run.energyMWh', 'run.costUsd']) {
      expect(path.split('.').reduce((o, k) => (o as Record<string, unknown>)?.[k], j as unknown), path).not.toBeUndefined();
    }
    matchGolden('evaluate-tiny.json', r.stdout);
  });

  it('evaluate is byte-identical across runs and engines are selectable', async () => {
    const a = (await cli(['evaluate', 'scenarios/tiny.yaml', '--json'])).stdout;
    expect((await cli(['evaluate', 'scenarios/tiny.yaml', '--json'])).stdout).toBe(a);
    const analytic = JSON.parse((await cli(['evaluate', 'scenarios/tiny.yaml', '--json', '--engine', 'analytic'])).stdout);
    expect(analytic.engine).toBe('analytic');
    expect(JSON.parse(a).engine).toBe('des');
  });

  it('validate on the Llama 3 rows (text and JSON shape)', async () => {
    const cases = JSON.parse(readFileSync(join(root, 'validation/cases-dev.json'), 'utf8')) as { id: string }[];
    const file = join(tmpdir(), `clusterplan-llama3-cases-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(cases.filter((c) => c.id.startsWith('llama3-t4')), null, 1));
    const r = await cli(['validate', file]);
    expect(r.status).toBe(0);
    matchGolden('validate-llama3.txt', r.stdout.replace(file, 'llama3-cases.json'));
    const j = JSON.parse((await cli(['validate', file, '--json'])).stdout);
    expect(j.cases).toHaveLength(3);
    for (const c of j.cases) {
      expect(Object.keys(c)).toEqual(expect.arrayContaining(['id', 'source', 'skipped', 'reason', 'predicted', 'measured', 'errors', 'fitsScored']));
      expect(Object.keys(c.predicted)).toEqual(expect.arrayContaining(['stepSeconds', 'tokensPerSecondPerGpu', 'tflopsPerGpu', 'mfu', 'memoryGiBPerGpu', 'fits']));
      expect(Object.keys(c.errors)).toEqual(['throughputRel', 'mfuPoints', 'memoryRel']);
    }
    expect(Object.keys(j.summary)).toEqual(expect.arrayContaining(['cases', 'skipped', 'throughputRelError', 'mfuAbsErrorPoints', 'memoryRelError', 'fitsShare', 'fitsCases', 'bySource', 'byGpu']));
  });

  it('validate --cv source: in-sample beside cross-validated, per held-out source', async () => {
    const cases = JSON.parse(readFileSync(join(root, 'validation/cases-dev.json'), 'utf8')) as { id: string }[];
    const file = join(tmpdir(), `clusterplan-cv-cases-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(cases.filter((c) => c.id.startsWith('llama3-t4') || c.id.startsWith('korthikanti22-22B'))));
    const r = await cli(['validate', file, '--cv', 'source', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['by', 'engine', 'inSample', 'crossValidated', 'folds', 'cases', 'inSampleCases', 'heldOf', 'residuals']);
    expect([j.by, j.engine]).toEqual(['source', 'analytic']);
    expect(j.folds.map((f: { held: string }) => f.held)).toEqual(['Korthikanti et al. 2022', 'The Llama 3 Herd of Models']);
    // Each source is alone on its GPU: held out, its GPU has no case left to refit on and takes the
    // refit of the other source's GPU (calibration.json `nearest`).
    for (const f of j.folds) expect(f.refits[0].from).not.toBe(f.refits[0].gpu);
    const text = await cli(['validate', file, '--cv', 'source']);
    expect(text.stdout).toMatch(/^leave one source out: .*closed-form engine\)\n/);
    expect(text.stdout).toMatch(/\n {2}The Llama 3 Herd of Models +3 /);
    const gpu = await cli(['validate', file, '--cv', 'gpu']);
    expect(gpu.status).toBe(0);
    expect(gpu.stdout).toMatch(/^leave one GPU generation out: /);
    expect((await cli(['validate', file, '--cv', 'node'])).status).toBe(2);
  });

  it('validate: a missing case file is one error line and exit 2', async () => {
    const r = await cli(['validate', 'validation/no-such-file.json']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: validation/no-such-file.json: file not found\n');
  });

  it('schema prints a JSON Schema and profiles lists the bundled files', async () => {
    const s = JSON.parse((await cli(['schema'])).stdout);
    expect(s.type).toBe('object');
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['model', 'cluster', 'plan', 'training']));
    expect((await cli(['profiles'])).stdout).toMatch(/h100-sxm-80gb/);
  });

  it('unknown commands and flags exit 2 with usage on stderr, and run nothing', async () => {
    const r = await cli(['evaluat', 'scenarios/tiny.yaml']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: Unknown argument/);
    const f = await cli(['evaluate', 'scenarios/tiny.yaml', '--bogus']);
    expect(f.status).toBe(2);
    expect(f.stdout).toBe('');
  });
});

describe('bounded work', () => {
  it('a huge global batch falls back to the closed form with a note instead of stalling', async () => {
    const r = await cli(['evaluate', 'scenarios/llama3-405b.yaml', '--json', '--set', 'plan.globalBatch=2621440']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.engine).toBe('analytic');
    expect(j.notes.join(' ')).toMatch(/discrete-event step was skipped/);
  });
});

describe('one option builder for the scenario commands', () => {
  it('trace and failures read --gpus and --seed like evaluate: digits only, 07 is 7, bad values are one line naming the flag', async () => {
    for (const cmd of [['evaluate'], ['trace', '-o', '-', '-q'], ['failures', '--trials', '2']]) {
      const r = await cli([...cmd, 'scenarios/tiny.yaml', '--gpus', '1e30']);
      expect([r.status, r.stdout], cmd[0]).toEqual([2, '']);
      expect(r.stderr, cmd[0]).toMatch(/^error: --gpus: must be a whole number from 1 to 10,000,000, got "1e30"\n$/);
    }
    const seven = await cli(['failures', 'scenarios/llama3-405b.yaml', '--trials', '3', '--seed', '7', '--json']);
    const zeroSeven = await cli(['failures', 'scenarios/llama3-405b.yaml', '--trials', '3', '--seed', '07', '--json']);
    expect(seven.status).toBe(0);
    expect(JSON.parse(zeroSeven.stdout).seed).toBe('7');
    expect(zeroSeven.stdout).toBe(seven.stdout);
    expect((await cli(['failures', 'scenarios/tiny.yaml', '--seed', 'abc'])).stderr).toMatch(/^error: --seed: must be a whole number/);
  });
  it('failures: duration flags say they need a unit, and a bare number is refused', async () => {
    const help = (await cli(['failures', '--help'])).stdout;
    expect(help).not.toMatch(/or seconds/);
    const r = await cli(['failures', 'scenarios/tiny.yaml', '--horizon', '900']);
    expect([r.status, r.stderr]).toEqual([2, 'error: --horizon: "900" has no unit; write a duration with its unit, e.g. "54 days" or "30 min"\n']);
  });
});
