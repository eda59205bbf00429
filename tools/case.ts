/** Developer aid: evaluate one validation case by id and print the evaluation JSON.  npx tsx tools/case.ts <id-substring> (both dev files) */
import { readFileSync } from 'node:fs';
import { packageProfiles } from '../src/io/profiles.js';
import { CaseSchema } from '../src/validation/case.js';
import { caseToScenario } from '../src/validation/adapter.js';
import { scoreCase } from '../src/validation/score.js';
import { evaluate } from '../src/run/evaluate.js';
import { stepCosts } from '../src/step/costs.js';

const files = ['validation/cases-dev.json', 'validation/cases-dev-scale.json'];
const cases = files.flatMap((f) => (JSON.parse(readFileSync(f, 'utf8')) as unknown[]).map((c) => CaseSchema.parse(c)));
const c = cases.find((x) => x.id.includes(process.argv[2]));
if (!c) throw new Error('no such case');
const { scenario, reason } = caseToScenario(c, packageProfiles());
if (!scenario) throw new Error(reason);
const ev = evaluate(scenario);
const costs = stepCosts(scenario);
const l = costs.stages[0].layers.find((x) => x.moe) ?? costs.stages[0].layers[0];
console.log(c.id, JSON.stringify(c.layout), JSON.stringify(c.model));
console.log(JSON.stringify({ step: ev.step, throughput: ev.throughput, memoryGiB: ev.memory.perGpuBytes / 2 ** 30, score: scoreCase(c, ev).errors, layer: l, placements: costs.placements, dp: costs.dp[0], pp: costs.ppSendSeconds, m: costs.numMicroBatches }, null, 1));
