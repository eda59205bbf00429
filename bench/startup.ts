/**
 * `npm run bench:startup`: wall time of `clusterplan evaluate scenarios/llama3-405b.yaml` as a
 * user runs it (bin/clusterplan, start-up included, text report: from the start-up snapshot when
 * the build made one), beside an empty `node -e 0` and the bundle without the snapshot
 * (`node dist/clusterplan.mjs`), min and median of N alternating runs (default 9; argv[2]). The
 * 2-core machine is shared: read the load average printed with it, and trust the min more.
 *
 * `npm run bench:startup -- 9 --phases`: where the time of a cold `evaluate` from the snapshot goes,
 * from N CPU profiles (100 µs samples, which slow the run a little): each sample is booked to the
 * innermost phase on its stack (table in `PHASES`), garbage collection apart; "node start"
 * is the wall time before the profile starts (process, snapshot deserialisation).
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { loadavg, tmpdir } from 'node:os';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const scenario = join(root, 'scenarios', 'llama3-405b.yaml');

export interface StartupRow {
  name: string;
  minMs: number;
  medianMs: number;
  runs: number;
}

function wall(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t = performance.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const row = (name: string, ms: number[], runs: number): StartupRow => {
  const s = [...ms].sort((a, b) => a - b);
  return { name, minMs: Math.round(s[0]), medianMs: Math.round(s[Math.floor(s.length / 2)]), runs };
};

/** Alternating runs of node -e 0, the CLI as a user runs it, and the bundle without the snapshot, so all see the same load. */
export function benchStartup(runs = 9): StartupRow[] {
  const node: number[] = [];
  const cli: number[] = [];
  const bundle: number[] = [];
  for (let i = 0; i < runs; i++) {
    node.push(wall(process.execPath, ['-e', '0']));
    cli.push(wall(join(root, 'bin', 'clusterplan'), ['evaluate', scenario]));
    bundle.push(wall(process.execPath, [join(root, 'dist', 'clusterplan.mjs'), 'evaluate', scenario]));
  }
  return [row('node -e 0', node, runs), row('clusterplan evaluate scenarios/llama3-405b.yaml', cli, runs), row('  the same without the snapshot (node dist/clusterplan.mjs)', bundle, runs)];
}

/** Phases of `evaluate`, by the function that starts each (innermost match on the stack wins). */
const PHASES: [fn: string, phase: string][] = [
  ['renderEvaluation', 'text report'],
  ['renderPipelineTimeline', 'text report'],
  ['renderFailureBrief', 'text report'],
  ['failureSummaryForEvaluate', 'failure Monte Carlo (50 trials)'],
  ['desStep', 'DES step'],
  ['analyticStep', 'costs, closed form, memory'],
  ['stepCosts', 'costs, closed form, memory'],
  ['estimateMemory', 'costs, closed form, memory'],
  ['withIntervals', 'intervals'],
  ['loadResidualTable', 'intervals'],
  ['loadScenarioWithSources', 'load scenario and profiles'],
  ['parseAsync', 'yargs and the rest of the CLI'],
  ['main', 'yargs and the rest of the CLI'],
];

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

/** Milliseconds per phase of one CPU profile. */
function phasesOf(file: string): Map<string, number> {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const phaseOfNode = new Map<number, string>();
  const phaseOf = (id: number): string => {
    const known = phaseOfNode.get(id);
    if (known) return known;
    const fn = byId.get(id)!.callFrame.functionName;
    const own = fn === '(garbage collector)' ? 'garbage collection' : PHASES.find(([f]) => f === fn)?.[1];
    const up = parent.get(id);
    const phase = own ?? (up === undefined ? 'other (node, idle)' : phaseOf(up));
    phaseOfNode.set(id, phase);
    return phase;
  };
  const ms = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const phase = phaseOf(p.samples[i]);
    ms.set(phase, (ms.get(phase) ?? 0) + (p.timeDeltas[i + 1] ?? 0) / 1000);
  }
  return ms;
}

/** Phase table of N cold runs of `evaluate` started from the snapshot (as bin/clusterplan starts it). */
export function benchStartupPhases(runs = 9): StartupRow[] {
  const blob = join(root, 'dist', 'clusterplan.blob');
  if (!existsSync(blob)) throw new Error('dist/clusterplan.blob is missing: run npm run build');
  // The V8 flags the snapshot was made under (bin/build.mjs): node refuses it under any others.
  const flags = readFileSync(join(root, 'dist', 'snapshot.txt'), 'utf8').split('\n')[3].split(' ').filter(Boolean);
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
  delete env.NODE_EXTRA_CA_CERTS; // as bin/clusterplan does
  const all = new Map<string, number[]>();
  for (let i = 0; i < runs; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'clusterplan-prof-'));
    const total = wall(process.execPath, [...flags, '--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', dir, '--snapshot-blob', blob, '--', 'evaluate', scenario], env);
    const ms = phasesOf(join(dir, readdirSync(dir)[0]));
    rmSync(dir, { recursive: true, force: true });
    const profiled = [...ms.values()].reduce((a, b) => a + b, 0);
    ms.set('node start (before the profile)', Math.max(0, total - profiled));
    ms.set('TOTAL wall (profiled run)', total);
    for (const [k, v] of ms) all.set(k, [...(all.get(k) ?? []), v]);
  }
  return [...all].map(([k, v]) => row(k, v, runs)).sort((a, b) => b.medianMs - a.medianMs);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const runs = Number(process.argv[2] ?? 9);
  const load = loadavg()[0].toFixed(1);
  const rows = process.argv.includes('--phases') ? benchStartupPhases(runs) : benchStartup(runs);
  for (const r of rows) console.log(`${r.name.padEnd(60)} min ${String(r.minMs).padStart(5)} ms  median ${String(r.medianMs).padStart(5)} ms  (${r.runs} runs, load ${load})`);
}
