/** `clusterplan scaling --compute 3.8e25`: the compute-optimal model size and tokens, optionally sized as a cluster. */
import type { CommandModule } from 'yargs';
import { join } from 'node:path';
import { loadScenario, packageRoot } from '../io/load.js';
import { computeOptimal, llamaShape, type Law, type ScalingResult } from '../search/scaling.js';
import type { SizeResult } from '../search/size.js';
import type { Model } from '../schema/model.js';
import { UserError } from '../errors.js';
import { formatSi } from '../units/format.js';
import { printJson, reportError } from './common.js';
import { renderSize, sizeGoal, sizeWithProgress, type SizeGoalArgs } from './size.js';

interface Args extends SizeGoalArgs {
  compute: string;
  law: Law;
  plan?: boolean;
  scenario?: string;
  json?: boolean;
}

export const scalingCommand: CommandModule<object, Args> = {
  command: 'scaling',
  describe: 'Compute-optimal parameters and tokens for a compute budget (Llama 3 or Chinchilla law); --plan sizes a cluster for it',
  builder: (y) =>
    y
      .option('compute', { type: 'string', demandOption: true, describe: 'training compute in FLOPs, e.g. 3.8e25' })
      .option('law', { choices: ['llama3', 'chinchilla'] as const, default: 'llama3' as const, describe: 'Llama 3 §3.2.1 or Chinchilla Approach 3' })
      .option('plan', { type: 'boolean', describe: 'size a cluster for a dense Llama-style model of that size (needs --deadline or --budget)' })
      .option('scenario', { type: 'string', describe: 'hardware, plan and failures to size with (default scenarios/llama3-405b.yaml)' })
      .option('deadline', { type: 'string', describe: 'with --plan: wall-clock deadline, e.g. 60d' })
      .option('budget', { type: 'string', describe: 'with --plan: budget in US dollars, e.g. 50M$' })
      .option('max-gpus', { type: 'number', describe: 'with --plan: largest cluster to consider' })
      .option('min-gpus', { type: 'number', describe: 'with --plan: smallest cluster on the curve' })
      .option('confidence', { choices: ['mean', 'p50', 'p90', 'p99'] as const, default: 'p90' as const })
      .option('trials', { type: 'number', default: 50 })
      .option('json', { type: 'boolean', describe: 'print JSON' }) as never,
  handler: (args) => {
    try {
      const c = Number(args.compute);
      if (!(Number.isFinite(c) && c >= 1e15 && c <= 1e32)) throw new UserError(`expects FLOPs between 1e15 and 1e32, e.g. 3.8e25, got "${args.compute}"`, undefined, '--compute');
      const r = computeOptimal(c, args.law);
      let shape: Model | undefined;
      let size: SizeResult | undefined;
      if (args.plan) {
        const file = args.scenario ?? join(packageRoot, 'scenarios', 'llama3-405b.yaml');
        const base = loadScenario(file);
        shape = llamaShape(r.paramsOptimal, base.model.seqLen);
        // The model and token budget replace the scenario's; hardware, software and failures stay.
        const sc = loadScenario(file, { sets: [`model=${JSON.stringify(shape)}`, `training.totalTokens=${Math.round(r.tokensOptimal)}`] });
        size = sizeWithProgress(sc, sizeGoal(sc, args));
      } else if (args.deadline !== undefined || args.budget !== undefined) throw new UserError('--deadline and --budget size a cluster: add --plan', undefined, '--plan');
      if (args.json) printJson({ ...r, ...(shape ? { shape, size } : {}) });
      else process.stdout.write(renderScaling(r) + (shape && size ? `\nShape    ${shapeLine(shape)} (rule: head dim 128, 8 KV heads, hidden 100–160 × layers, FFN 3.5·hidden, vocab 128,256, closest size)\n\n${renderSize(size)}` : ''));
    } catch (e) {
      reportError(e);
    }
  },
};

function shapeLine(m: Model): string {
  return `${m.name}: ${m.layers} layers, hidden ${m.hidden}, FFN ${m.ffnHidden}, ${m.heads} heads (${m.kvHeads} KV)`;
}

/** The scaling report: optimum, constants, the α sensitivity table and notes. */
export function renderScaling(r: ScalingResult): string {
  const out: string[] = [];
  out.push(`clusterplan scaling · ${r.law} · ${r.computeFlops.toExponential(2)} FLOPs`);
  out.push('');
  out.push(`Optimum  ${formatSi(r.paramsOptimal, 3)} parameters on ${formatSi(r.tokensOptimal, 3)} tokens (${(r.tokensOptimal / r.paramsOptimal).toFixed(1)} tokens per parameter)`);
  out.push(`Constants ${Object.entries(r.constants).map(([k, v]) => `${k} ${Number(v.toPrecision(5))}`).join(', ')}`);
  if (r.sensitivity.length) {
    out.push('');
    out.push('Sensitivity to α (A = 0.29):');
    for (const s of r.sensitivity) out.push(`  α ${s.alpha.toFixed(4)}  ${formatSi(s.tokens, 3).padStart(8)} tokens  ${formatSi(s.params, 3).padStart(8)} parameters`);
  }
  for (const n of r.notes) out.push(`Note     ${n}`);
  return out.join('\n') + '\n';
}
