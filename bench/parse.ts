/**
 * Parse benchmark (issue 11): the bundled files, a file at each size limit, and the growth of
 * parse time with the number of keys (linear: 4x keys, about 4x time). CPU time, not wall time.
 *
 *   npm run bench:parse
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDataText, LIMITS, packageRoot } from '../src/io/files.js';

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
function best(f: () => unknown, runs = 3): number {
  f();
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = cpu();
    f();
    min = Math.min(min, cpu() - t);
  }
  return min;
}
const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;

const cases = join(packageRoot, 'validation', 'cases-dev.json');
const casesText = readFileSync(cases, 'utf8');
const scenario = readFileSync(join(packageRoot, 'scenarios', 'llama3-405b.yaml'), 'utf8');
console.log(`scenarios/llama3-405b.yaml (${scenario.length} B): ${ms(best(() => parseDataText(scenario, 'x.yaml')))}`);
console.log(`validation/cases-dev.json (${(casesText.length / 1024).toFixed(0)} KiB): ${ms(best(() => parseDataText(casesText, 'x.json')))}`);

let yaml = 'extra:\n';
for (let i = 0; yaml.length + 40 < LIMITS.yamlBytes; i++) yaml += `  key${i}: "value ${i}"\n`;
console.log(`YAML at the ${LIMITS.yamlBytes / 1024} KiB limit: ${ms(best(() => parseDataText(yaml, 'x.yaml')))}`);
const all = JSON.parse(casesText) as unknown[];
const copies = Math.floor(LIMITS.jsonBytes / casesText.length);
const json = JSON.stringify(Array.from({ length: copies }, () => all).flat(), null, 1);
console.log(`JSON at the ${LIMITS.jsonBytes / 1024 / 1024} MiB limit: ${ms(best(() => parseDataText(json, 'x.json'), 1))}`);

const roomy = { ...LIMITS, yamlBytes: 64 * 1024 * 1024 };
for (const ext of ['yaml', 'json'] as const) {
  const text = (n: number) => (ext === 'json' ? `{${Array.from({ length: n }, (_, i) => `"k${i}": ${i}`).join(',')}}` : Array.from({ length: n }, (_, i) => `k${i}: ${i}\n`).join(''));
  const t10 = best(() => parseDataText(text(10_000), `x.${ext}`, roomy));
  const t40 = best(() => parseDataText(text(40_000), `x.${ext}`, roomy));
  console.log(`${ext} keys: 10k ${ms(t10)}, 40k ${ms(t40)}, ratio ${(t40 / t10).toFixed(2)} (linear 4, quadratic 16)`);
}
