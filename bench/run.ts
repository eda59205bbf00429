/**
 * `npm run bench`: every benchmark in bench/, one table. Benchmarks measure wall time on this
 * machine; they are not tests and assert nothing.
 */
import { performance } from 'node:perf_hooks';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';
import { loadScenario } from '../src/io/load.js';
import { evaluate } from '../src/run/evaluate.js';
import { runValidation } from '../src/cli/validate.js';
import { benchStartup } from './startup.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const rows: { name: string; value: string }[] = [];
const time = (fn: () => void, repeat = 5) => {
  fn();
  const t = performance.now();
  for (let i = 0; i < repeat; i++) fn();
  return (performance.now() - t) / repeat;
};

// Start-up included: the CLI as a user runs it (dist/ when built), beside an empty node (bench/startup.ts).
for (const r of benchStartup(7)) rows.push({ name: `${r.name} (wall, incl. start-up)`, value: `min ${r.minMs} ms, median ${r.medianMs} ms of ${r.runs}` });

for (const f of readdirSync(join(root, 'scenarios')).sort()) {
  const sc = loadScenario(join(root, 'scenarios', f));
  rows.push({ name: `evaluate core ${f}`, value: `${time(() => evaluate(sc)).toFixed(2)} ms` });
}
rows.push({ name: 'validate 445 cases (core)', value: `${time(() => runValidation([join(root, 'validation', 'cases-dev.json')]), 2).toFixed(0)} ms` });

const optional = async (mod: string, fn: string) => {
  try {
    const m = (await import(mod)) as Record<string, () => unknown>;
    if (typeof m[fn] === 'function') {
      const r = await m[fn]();
      for (const row of Array.isArray(r) ? r : [r]) rows.push({ name: `${fn}: ${(row as { name?: string }).name ?? ''}`, value: JSON.stringify(row) });
    }
  } catch (e) {
    rows.push({ name: `${mod}`, value: `not run: ${(e as Error).message}` });
  }
};
await optional('./sim-core.js', 'benchSimCore');
await optional('./step.js', 'benchStep');
await optional('./failures.js', 'benchFailures');
await optional('./search.js', 'benchSearch');
await optional('./programme.js', 'benchProgramme');

for (const r of rows) console.log(`${r.name.padEnd(72)} ${r.value}`);
