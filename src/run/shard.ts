/**
 * Monte Carlo shards: the trials of one `failures` run split into contiguous blocks that can run
 * on different machines, and their merge back into exactly the summary one run gives.
 *
 * Shard `index` of `count` (index from 0) runs trials [⌊index·T/count⌋, ⌊(index+1)·T/count⌋).
 * Trial t draws from deriveSeed(seed, t) wherever it runs, and numbers survive JSON exactly
 * (shortest round-trip form), so merged rows are the single run's rows, bit for bit.
 */
import { UserError } from '../errors.js';
import { summarize, type FailureSummary, type SummaryContext } from './summary.js';
import { TrialField } from './trial-row.js';
import type { RunModel } from './run-model.js';
import { shardRange, type ShardSpec } from './plan-run.js';

export { shardRange, type ShardSpec } from './plan-run.js';


/** One shard of a `failures` Monte Carlo, as `clusterplan failures --shard i/n` prints it. */
export interface FailureShard {
  clusterplanShard: { kind: 'failures'; index: number; count: number; inputsHash: string };
  /** Scenario name and GPUs, for the text report of the merged summary. */
  scenario: string;
  gpus: number;
  /** Trials [start, end) of context.trials this shard ran. */
  start: number;
  end: number;
  context: SummaryContext;
  /** Row-major trial rows, (end − start) × (19 + components) numbers (see trial-row.ts). */
  rows: number[];
}


/** FNV-1a, 64 bits, as 16 hex digits: a stable fingerprint of a text (not a security hash). */
export function fingerprint(text: string): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = (1n << 64n) - 1n;
  for (let i = 0; i < text.length; i++) h = ((h ^ BigInt(text.charCodeAt(i))) * prime) & mask;
  return h.toString(16).padStart(16, '0');
}

/** The shard document of final trial rows (from simulateTrials or its parallel twin). */
export function failureShard(r: { context: SummaryContext; model: RunModel; start: number; end: number; rows: Float64Array }, shard: ShardSpec, label: { scenario: string; gpus: number }): FailureShard {
  return {
    clusterplanShard: { kind: 'failures', index: shard.index, count: shard.count, inputsHash: fingerprint(JSON.stringify({ context: r.context, model: r.model })) },
    scenario: label.scenario,
    gpus: label.gpus,
    start: r.start,
    end: r.end,
    context: r.context,
    rows: Array.from(r.rows),
  };
}

const bad = (message: string, field: string) => new UserError(message, undefined, field);

/**
 * Merges the shard documents of one run (any order) into the FailureSummary the single run
 * gives, byte for byte. Pure; throws a UserError naming the field when the shards are not one
 * complete set of the same inputs.
 */
export function mergeFailureShards(docs: readonly FailureShard[]): FailureSummary {
  if (docs.length === 0) throw bad('no shards to merge', 'clusterplanShard');
  const first = docs[0];
  for (const d of docs) {
    const h = d?.clusterplanShard;
    if (!h || h.kind !== 'failures') throw bad(`expected a failures shard, got kind ${JSON.stringify(h?.kind)}`, 'clusterplanShard.kind');
    if (h.count !== first.clusterplanShard.count) throw bad(`shards of different splits (${h.count} and ${first.clusterplanShard.count} shards)`, 'clusterplanShard.count');
    if (h.inputsHash !== first.clusterplanShard.inputsHash) throw bad(`shards of different runs (inputs ${h.inputsHash} and ${first.clusterplanShard.inputsHash})`, 'clusterplanShard.inputsHash');
    if (JSON.stringify(d.context) !== JSON.stringify(first.context)) throw bad('shards with the same inputs hash but different contexts (edited?)', 'context');
  }
  const count = first.clusterplanShard.count;
  const ctx = first.context;
  const byIndex = new Map<number, FailureShard>();
  for (const d of docs) {
    const i = d.clusterplanShard.index;
    if (!(Number.isInteger(i) && i >= 0 && i < count)) throw bad(`shard index ${i} is not from 0 to ${count - 1}`, 'clusterplanShard.index');
    if (byIndex.has(i)) throw bad(`shard ${i}/${count} given twice`, 'clusterplanShard.index');
    byIndex.set(i, d);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0) throw bad(`missing shard(s) ${missing.join(', ')} of ${count}`, 'clusterplanShard.index');
  const width = TrialField.components + ctx.components.length;
  const rows = new Float64Array(ctx.trials * width);
  for (let i = 0; i < count; i++) {
    const d = byIndex.get(i)!;
    const [start, end] = shardRange(ctx.trials, { index: i, count });
    if (d.start !== start || d.end !== end) throw bad(`shard ${i}/${count} holds trials ${d.start}–${d.end}, expected ${start}–${end}`, 'start');
    if (!Array.isArray(d.rows) || d.rows.length !== (end - start) * width || !d.rows.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw bad(`shard ${i}/${count} needs ${(end - start) * width} finite numbers`, 'rows');
    }
    rows.set(d.rows, start * width);
  }
  return summarize(ctx, rows);
}
