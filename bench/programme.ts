/**
 * The Llama 3 405B programme (13 stages) as a user runs it: `evaluate` (every stage's step, the
 * 50-trial end-to-end Monte Carlo; issue 14 target 1 s) and `failures` at 1,000 trials (target
 * 5 s), wall time including start-up (dist/ when built), median of 3. On a shared machine read the
 * CPU time beside it: the wall time moves with the load.
 *
 * Run directly: npx tsx bench/programme.ts
 */
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface ProgrammeBenchResult {
  name: string;
  /** Median wall seconds of 3 runs. */
  seconds: number;
}

function median3(args: string[]): number {
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    execFileSync(join(root, 'bin', 'clusterplan'), args, { stdio: 'pipe' });
    samples.push((performance.now() - t) / 1000);
  }
  return samples.sort((a, b) => a - b)[1];
}

/** Times evaluate and failures on scenarios/llama3-405b-programme.yaml. */
export function benchProgramme(): ProgrammeBenchResult[] {
  const file = join(root, 'scenarios', 'llama3-405b-programme.yaml');
  return [
    { name: 'clusterplan evaluate llama3-405b-programme (wall, incl. start-up)', seconds: median3(['evaluate', file]) },
    { name: 'clusterplan failures llama3-405b-programme --trials 1000 (wall, incl. start-up)', seconds: median3(['failures', file, '--trials', '1000']) },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) for (const r of benchProgramme()) console.log(`${r.name}: ${r.seconds.toFixed(2)} s`);
