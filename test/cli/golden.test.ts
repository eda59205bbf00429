/**
 * Golden tests of the CLI's output on the tiny scenario: text report, JSON, validate on a small
 * case file, and the failures command. Regenerate with UPDATE_GOLDEN=1 after an intended change.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';

const root = resolve(__dirname, '../..');
const golden = join(__dirname, 'golden');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { cwd: root, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function matchGolden(name: string, text: string) {
  const file = join(golden, name);
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

describe('CLI golden output', () => {
  it('evaluate tiny (text)', () => {
    const r = cli(['evaluate', 'scenarios/tiny.yaml']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    matchGolden('evaluate-tiny.txt', r.stdout);
  });

  it('evaluate tiny --json, with the keys scripts rely on', () => {
    const r = cli(['evaluate', 'scenarios/tiny.yaml', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const path of ['feasible', 'reasons', 'model.paramsTotal', 'model.paramsActive', 'model.flopsPerToken', 'memory.perGpuBytes', 'memory.capacityBytes', 'memory.breakdown', 'step.seconds', 'step.breakdown', 'throughput.tokensPerSecondPerGpu', 'throughput.tflopsPerGpu', 'throughput.mfu', 'throughput.hfu', 'run.idealDays', 'run.gpuHours', 'run.energyMWh', 'run.costUsd']) {
      expect(path.split('.').reduce((o, k) => (o as Record<string, unknown>)?.[k], j as unknown), path).not.toBeUndefined();
    }
    matchGolden('evaluate-tiny.json', r.stdout);
  });

  it('evaluate is byte-identical across runs and engines are selectable', () => {
    const a = cli(['evaluate', 'scenarios/tiny.yaml', '--json']).stdout;
    expect(cli(['evaluate', 'scenarios/tiny.yaml', '--json']).stdout).toBe(a);
    const analytic = JSON.parse(cli(['evaluate', 'scenarios/tiny.yaml', '--json', '--engine', 'analytic']).stdout);
    expect(analytic.engine).toBe('analytic');
    expect(JSON.parse(a).engine).toBe('des');
  });

  it('validate on the Llama 3 rows (text and JSON shape)', () => {
    const cases = JSON.parse(readFileSync(join(root, 'validation/cases-dev.json'), 'utf8')) as { id: string }[];
    const file = join(tmpdir(), `clusterplan-llama3-cases-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(cases.filter((c) => c.id.startsWith('llama3-t4')), null, 1));
    const r = cli(['validate', file]);
    expect(r.status).toBe(0);
    matchGolden('validate-llama3.txt', r.stdout.replace(file, 'llama3-cases.json'));
    const j = JSON.parse(cli(['validate', file, '--json']).stdout);
    expect(j.cases).toHaveLength(3);
    for (const c of j.cases) {
      expect(Object.keys(c)).toEqual(expect.arrayContaining(['id', 'source', 'skipped', 'reason', 'predicted', 'measured', 'errors']));
      expect(Object.keys(c.predicted)).toEqual(expect.arrayContaining(['stepSeconds', 'tokensPerSecondPerGpu', 'tflopsPerGpu', 'mfu', 'memoryGiBPerGpu']));
      expect(Object.keys(c.errors)).toEqual(['throughputRel', 'mfuPoints', 'memoryRel']);
    }
    expect(Object.keys(j.summary)).toEqual(expect.arrayContaining(['cases', 'skipped', 'throughputRelError', 'mfuAbsErrorPoints', 'memoryRelError', 'bySource', 'byGpu']));
  });

  it('the built single-file CLI (bin/clusterplan after npm run build) prints what the sources print', () => {
    if (!existsSync(join(root, 'dist', 'clusterplan.mjs'))) return; // npm test builds it first
    const bin = spawnSync(join(root, 'bin', 'clusterplan'), ['evaluate', 'scenarios/tiny.yaml', '--json'], { cwd: root, encoding: 'utf8' });
    expect(bin.status).toBe(0);
    expect(bin.stdout).toBe(cli(['evaluate', 'scenarios/tiny.yaml', '--json']).stdout);
    const w = (n: string) => spawnSync(join(root, 'bin', 'clusterplan'), ['failures', 'scenarios/llama3-405b.yaml', '--trials', '300', '--workers', n, '--json'], { cwd: root, encoding: 'utf8' }).stdout;
    expect(w('2')).toBe(w('1'));
  });

  it('schema prints a JSON Schema and profiles lists the bundled files', () => {
    const s = JSON.parse(cli(['schema']).stdout);
    expect(s.type).toBe('object');
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['model', 'cluster', 'plan', 'training']));
    expect(cli(['profiles']).stdout).toMatch(/h100-sxm-80gb/);
  });

  it('unknown commands and flags exit 2 with usage on stderr', () => {
    const r = cli(['evaluat', 'scenarios/tiny.yaml']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const f = cli(['evaluate', 'scenarios/tiny.yaml', '--bogus']);
    expect(f.status).toBe(2);
  });
});

describe('bounded work', () => {
  it('a huge global batch falls back to the closed form with a note instead of stalling', () => {
    const r = cli(['evaluate', 'scenarios/llama3-405b.yaml', '--json', '--set', 'plan.globalBatch=2621440']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.engine).toBe('analytic');
    expect(j.notes.join(' ')).toMatch(/discrete-event step was skipped/);
  });
});
