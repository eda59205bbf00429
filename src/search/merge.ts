/**
 * Shard documents and their merge. A shard document is a JSON object whose `clusterplanShard`
 * envelope says what it is: `{kind, index, count, inputsHash}`. `mergeShards` checks that the
 * documents are the n distinct shards of one study and dispatches on `kind`; a whole run is its
 * one shard merged, so merged shards print exactly what a whole run prints.
 */
import { UserError } from '../errors.js';
import { mergeFailureShards, type FailureShard } from '../run/shard.js';
import { formatGiB } from '../units/format.js';
import { type SearchShardBody, type PoolEntry, type Miss, type Objective, type CandidateCounts, type SearchResults, type SearchDetail, type SearchPlanChoice } from './search.js';
import { explain } from './why.js';

export type ShardKind = 'search' | 'failures';

export interface ShardEnvelope {
  kind: ShardKind;
  index: number;
  count: number;
  /** Hash of everything that shapes the answer (scenario, options); shards of one study share it. */
  inputsHash: string;
}

export interface SearchShardDoc extends SearchShardBody {
  clusterplanShard: ShardEnvelope;
  /** Wall-clock seconds of this shard (null when timing is off). */
  seconds: number | null;
}

/** A reported plan: the issue's `{plan, results, why}` plus its cluster size and the parts the report shows. */
export interface TopEntry {
  rank: number;
  gpus: number;
  plan: SearchPlanChoice;
  results: SearchResults;
  why: string;
  detail: SearchDetail;
}

export interface ClosestMiss {
  gpus: number;
  plan: SearchPlanChoice;
  memoryPerGpuBytes: number;
  capacityBytes: number;
  lacks: string;
}

/** What `clusterplan search --json` prints. */
export interface SearchResult {
  scenario: string;
  objective: Objective;
  gpus: number[];
  /** The global batches searched, in sequences (only with --global-batch). */
  globalBatches?: number[];
  candidates: CandidateCounts;
  /** Wall-clock seconds of the search (summed over shards when merged; null when timing is off). */
  seconds: number | null;
  feasible: boolean;
  top: TopEntry[];
  /** Only when nothing fits: the plans that came closest and what each lacks. */
  closestMisses?: ClosestMiss[];
  notes: string[];
}

/** A shard document read from a file, for error messages. */
export interface ShardInput {
  file: string;
  doc: unknown;
}

/** Reads and checks the envelopes, then merges by kind. */
export function mergeShards(inputs: ShardInput[]): unknown {
  if (inputs.length === 0) throw new UserError('name at least one shard output', undefined, 'merge');
  const envs = inputs.map(({ file, doc }) => {
    const env = (doc as { clusterplanShard?: ShardEnvelope } | null)?.clusterplanShard;
    if (!env || typeof env !== 'object' || typeof env.kind !== 'string' || !Number.isInteger(env.index) || !Number.isInteger(env.count) || typeof env.inputsHash !== 'string') {
      throw new UserError('not a clusterplan shard output (no clusterplanShard {kind, index, count, inputsHash})', file, 'clusterplanShard');
    }
    return env;
  });
  const first = envs[0];
  const seen = new Map<number, string>();
  envs.forEach((e, k) => {
    const file = inputs[k].file;
    if (e.kind !== first.kind) throw new UserError(`is a ${e.kind} shard, ${inputs[0].file} a ${first.kind} shard`, file, 'clusterplanShard.kind');
    if (e.count !== first.count) throw new UserError(`is one of ${e.count} shards, ${inputs[0].file} one of ${first.count}`, file, 'clusterplanShard.count');
    if (e.inputsHash !== first.inputsHash) throw new UserError(`comes from other inputs than ${inputs[0].file} (inputsHash differs)`, file, 'clusterplanShard.inputsHash');
    if (e.index < 0 || e.index >= e.count) throw new UserError(`index ${e.index} is outside 0..${e.count - 1}`, file, 'clusterplanShard.index');
    if (seen.has(e.index)) throw new UserError(`shard ${e.index}/${e.count} is also in ${seen.get(e.index)}`, file, 'clusterplanShard.index');
    seen.set(e.index, file);
  });
  if (seen.size !== first.count) {
    const missing = [...Array(first.count).keys()].filter((i) => !seen.has(i));
    throw new UserError(`missing shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${first.count}`).join(', ')}`, undefined, 'merge');
  }
  const ordered = [...inputs].sort((a, b) => envs[inputs.indexOf(a)].index - envs[inputs.indexOf(b)].index).map((x) => x.doc);
  if (first.kind === 'search') return mergeSearch(ordered as SearchShardDoc[]);
  if (first.kind === 'failures') return mergeFailureShards(ordered as FailureShard[]);
  throw new UserError(`unknown shard kind "${String(first.kind)}"`, inputs[0].file, 'clusterplanShard.kind');
}

/** Merges search shards (in index order) into the search result. */
export function mergeSearch(docs: SearchShardDoc[]): SearchResult {
  const d0 = docs[0];
  const K = d0.top;
  const candidates: CandidateCounts = { enumerated: 0, pruned: 0, evaluated: 0, prunedBy: { bound: 0, memory: 0, layout: 0 } };
  let seconds: number | null = 0;
  const pool: PoolEntry[] = [];
  const misses: Miss[] = [];
  const notes: string[] = [];
  for (const d of docs) {
    candidates.enumerated += d.candidates.enumerated;
    candidates.pruned += d.candidates.pruned;
    candidates.evaluated += d.candidates.evaluated;
    candidates.prunedBy.bound += d.candidates.prunedBy.bound;
    candidates.prunedBy.memory += d.candidates.prunedBy.memory;
    candidates.prunedBy.layout += d.candidates.prunedBy.layout;
    seconds = seconds === null || d.seconds === null ? null : seconds + d.seconds;
    pool.push(...d.entries);
    misses.push(...d.misses);
    for (const n of d.notes) if (!notes.includes(n)) notes.push(n);
  }
  // The pool is the best R by the failure-free closed form over all shards; the top K are the
  // best of the pool by the objective from the step and run engines.
  pool.sort((a, b) => a.proxy - b.proxy || a.index - b.index);
  const ranked = pool.slice(0, d0.pool).sort((a, b) => a.objectiveValue - b.objectiveValue || a.index - b.index).slice(0, K);
  const best = ranked[0];
  const top: TopEntry[] = ranked.map((e, k) => ({ rank: k + 1, gpus: e.gpus, plan: e.plan, results: e.results, why: explain(e, best, d0.objective), detail: e.detail }));
  const result: SearchResult = { scenario: d0.scenario, objective: d0.objective, gpus: d0.gpus, ...(d0.globalBatches ? { globalBatches: d0.globalBatches } : {}), candidates, seconds, feasible: top.length > 0, top, notes };
  if (top.length === 0) {
    misses.sort((a, b) => a.excessBytesLowerBound - b.excessBytesLowerBound || a.index - b.index);
    result.closestMisses = misses.slice(0, 3).map((m) => ({ gpus: m.gpus, plan: m.plan, memoryPerGpuBytes: m.memoryPerGpuBytes, capacityBytes: m.capacityBytes, lacks: lacks(m) }));
  }
  return result;
}

/** What a plan that does not fit lacks, and the change most likely to fix it. */
function lacks(m: Miss): string {
  const over = m.memoryPerGpuBytes - m.capacityBytes;
  const p = m.plan;
  const parts = m.largest.map((l) => `${l.part} ${formatGiB(l.bytes)}`).join(', ');
  const activations = ['activations', 'logits', 'working buffers'].includes(m.largest[0]?.part ?? '');
  let hint: string;
  if (activations && p.recompute !== 'full') hint = `try recompute ${p.recompute === 'none' ? 'selective' : 'full'}`;
  else if (activations && p.microBatch > 1) hint = 'try micro-batch 1';
  else if (!activations && p.zeroStage < 3) hint = `try ZeRO-${p.zeroStage < 1 ? 1 : 3}`;
  else hint = 'try more pipeline stages or GPUs';
  return `needs ${formatGiB(Math.max(0, over))} more on stage ${m.peakStage} (largest: ${parts}); ${hint}`;
}
