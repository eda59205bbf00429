/**
 * The process-level fuzz (issue 11's target): N mutated scenarios, each run as its own
 * `clusterplan evaluate` process of the built CLI (dist/), checked for a stack trace, an exit
 * code other than 0 or 2, more than one error line, NaN/Infinity in the output, and wall time.
 *
 *   npx tsx test/io/fuzz-processes.ts [--count 10000] [--parallel 2] [--seed 11] [--budget 2]
 *
 * Prints progress every 500 runs and the figures at the end; exits 1 if any run broke a rule.
 * Used (with a small count) by `npm run fuzz`; test/io/hostile.test.ts spawns a few in the suite.
 */
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { packageRoot } from '../../src/io/files.js';
import { seeds, mutation, mutate, structural, structuralKinds, type Case, type Json } from './mutations.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const count = arg('count', 10_000);
const parallel = arg('parallel', 2);
const seed = arg('seed', 11);
const budgetSeconds = arg('budget', 2);
/** First case index: a long run can be resumed where it stopped (cases are fixed by index). */
const start = arg('start', 0);
const summaryIndex = process.argv.indexOf('--summary');
const summaryFile = summaryIndex > 0 ? process.argv[summaryIndex + 1] : undefined;
/** The installation to run (default: this one); a copy lets a long run go on while dist/ is rebuilt. */
const rootIndex = process.argv.indexOf('--root');
const cliRoot = rootIndex > 0 ? process.argv[rootIndex + 1] : packageRoot;

/** Sizes for structural mutations: from harmless to far past each limit. */
const sizes = [1, 3, 10, 64, 65, 99, 100, 101, 200, 1_000, 2_500, 5_000, 20_000, 100_001, 400_000];

/** Case i of the run: value mutations of a seed most of the time, a structural mutation otherwise. */
export function caseAt(i: number): Case {
  const rng = fc.sample(fc.tuple(fc.nat({ max: 99 }), fc.nat({ max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.nat({ max: sizes.length - 1 }), fc.nat({ max: structuralKinds.length - 1 }), fc.boolean()), { seed: seed * 1_000_003 + i, numRuns: 1 })[0];
  const [roll, which, mutations, size, kindIndex, asJson] = rng;
  const value = structuredClone(seeds[which].value);
  if (roll < 65) {
    for (const m of mutations) mutate(value, m);
    return { kind: 'value', ext: asJson ? 'json' : 'yaml', text: asJson ? JSON.stringify(value) : stringifyYaml(value), sets: [] };
  }
  // Structural cases use the small seeds: the point is the structure, not the evaluation.
  const kind = structuralKinds[kindIndex];
  const n = kind === 'oversize' || kind === 'hugeString' ? [10, 1e5, 1.1e6, 1.2e6, 3e6][size % 5] : sizes[size];
  return structural(kind, seeds[which % 2].value as Json, n);
}

interface Result {
  i: number;
  kind: string;
  status: number | null;
  seconds: number;
  cpuSeconds: number;
  problems: string[];
}

function runOne(i: number, dir: string): Promise<Result> {
  const c = caseAt(i);
  const file = join(dir, `case-${i}.${c.ext}`);
  writeFileSync(file, c.text);
  const json = i % 2 === 0;
  const args = [join(cliRoot, 'dist', 'clusterplan.mjs'), 'evaluate', file, ...(json ? ['--json'] : []), ...c.sets.flatMap((s) => ['--set', s])];
  const start = performance.now();
  // CPU time (user + sys, from GNU time) as well as wall time: on a loaded machine the wall
  // time measures the neighbours, the CPU time measures the run.
  const timeFile = join(dir, `time-${i}`);
  const useTime = existsSync('/usr/bin/time');
  return new Promise((done) => {
    const child = useTime ? spawn('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, process.execPath, ...args], { cwd: dir }) : spawn(process.execPath, args, { cwd: dir });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (status) => {
      clearTimeout(killer);
      const seconds = (performance.now() - start) / 1000;
      let cpuSeconds = seconds;
      if (useTime && existsSync(timeFile)) {
        const [u, sy] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
        if (Number.isFinite(u + sy)) cpuSeconds = u + sy;
        rmSync(timeFile, { force: true });
      }
      rmSync(file, { force: true });
      const problems: string[] = [];
      if (/\n\s+at .+:\d+:\d+\)?/.test(err)) problems.push('stack trace');
      if (status !== 0 && status !== 2) problems.push(`exit ${status}`);
      if (status === 2 && err.trimEnd().split('\n').length !== 1) problems.push('more than one error line');
      if (status === 2 && !err.startsWith('error: ')) problems.push('no error line');
      const unquoted = (s: string) => s.replace(/"(?:[^"\\]|\\.)*"/g, '""');
      if (/\bNaN\b|\bInfinity\b/.test(unquoted(out)) || /\bNaN\b|\bInfinity\b/.test(unquoted(err))) problems.push('NaN/Infinity in output');
      if (cpuSeconds > budgetSeconds) problems.push(`took ${cpuSeconds.toFixed(2)} s of CPU`);
      done({ i, kind: c.kind, status, seconds, cpuSeconds, problems });
    });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'clusterplan-fuzz-'));
  const results: Result[] = [];
  let next = start;
  const t0 = performance.now();
  const worker = async () => {
    while (next < start + count) {
      const i = next++;
      const r = await runOne(i, dir);
      results.push(r);
      if (r.problems.length) process.stdout.write(`case ${i} (${r.kind}): ${r.problems.join(', ')}\n`);
      if (results.length % 100 === 0) {
        process.stdout.write(`${results.length}/${count} run, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
        if (summaryFile) writeFileSync(summaryFile, JSON.stringify(summarize(results, t0), null, 2) + '\n');
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  rmSync(dir, { recursive: true, force: true });
  const summary = summarize(results, t0);
  if (summaryFile) writeFileSync(summaryFile, JSON.stringify(summary, null, 2) + '\n');
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  if (results.some((r) => r.problems.length)) process.exitCode = 1;
  const slowest = [...results].sort((a, b) => b.cpuSeconds - a.cpuSeconds).slice(0, 5);
  process.stdout.write(`slowest by CPU: ${slowest.map((r) => `#${r.i} ${r.kind} ${r.cpuSeconds.toFixed(2)} s`).join(', ')}\n`);
}

/** The figures of a run so far. */
function summarize(results: Result[], t0: number) {
  const tally = (p: string) => results.filter((r) => r.problems.some((x) => x.startsWith(p))).length;
  const times = results.map((r) => r.seconds).sort((a, b) => a - b);
  const cpu = results.map((r) => r.cpuSeconds).sort((a, b) => a - b);
  const byKind = new Map<string, number>();
  for (const r of results) byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + 1);
  return {
    firstCase: start,
    tried: results.length,
    exit0: results.filter((r) => r.status === 0).length,
    exit2: results.filter((r) => r.status === 2).length,
    otherExit: tally('exit'),
    stackTraces: tally('stack'),
    multiLineErrors: tally('more than one'),
    nonFinite: tally('NaN'),
    overBudgetCpu: tally('took'),
    overBudgetWall: results.filter((r) => r.seconds > budgetSeconds).length,
    budgetSeconds,
    cpuSeconds: { p50: cpu[Math.floor(cpu.length / 2)], p99: cpu[Math.floor(cpu.length * 0.99)], max: cpu[cpu.length - 1] },
    wallSecondsPerRun: { p50: times[Math.floor(times.length / 2)], p99: times[Math.floor(times.length * 0.99)], max: times[times.length - 1] },
    wallSeconds: (performance.now() - t0) / 1000,
    byKind: Object.fromEntries([...byKind].sort()),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
