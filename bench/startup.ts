/**
 * `npm run bench:startup`: wall time of `clusterplan evaluate scenarios/llama3-405b.yaml` as a
 * user runs it (bin/clusterplan, start-up included, text report), beside an empty `node -e 0`
 * on the same machine at the same moment, min and median of N runs (default 9; argv[2]). The
 * 2-core machine is shared: read the load average printed with it, and trust the min more.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface StartupRow {
  name: string;
  minMs: number;
  medianMs: number;
  runs: number;
}

function wall(cmd: string, args: string[], runs: number): { minMs: number; medianMs: number } {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    ms.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  ms.sort((a, b) => a - b);
  return { minMs: ms[0], medianMs: ms[Math.floor(ms.length / 2)] };
}

/** Alternating runs of node -e 0 and evaluate, so both see the same load. */
export function benchStartup(runs = 9): StartupRow[] {
  const node: number[] = [];
  const cli: number[] = [];
  for (let i = 0; i < runs; i++) {
    node.push(wall(process.execPath, ['-e', '0'], 1).minMs);
    cli.push(wall(join(root, 'bin', 'clusterplan'), ['evaluate', join(root, 'scenarios', 'llama3-405b.yaml')], 1).minMs);
  }
  const row = (name: string, ms: number[]): StartupRow => {
    const s = [...ms].sort((a, b) => a - b);
    return { name, minMs: Math.round(s[0]), medianMs: Math.round(s[Math.floor(s.length / 2)]), runs };
  };
  return [row('node -e 0', node), row('clusterplan evaluate scenarios/llama3-405b.yaml', cli)];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const runs = Number(process.argv[2] ?? 9);
  const load = loadavg()[0].toFixed(1);
  for (const r of benchStartup(runs)) console.log(`${r.name.padEnd(52)} min ${String(r.minMs).padStart(5)} ms  median ${String(r.medianMs).padStart(5)} ms  (${r.runs} runs, load ${load})`);
}
