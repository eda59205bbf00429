/** One line on why a plan wins or loses against the best of a search: bubble, exposed traffic, recompute, memory. */
import type { PoolEntry, Objective } from './search.js';
import { formatGiB, formatSeconds, BYTES_PER_GIB, formatPercent as pct, formatInt } from '../units/format.js';

const sec = (x: number) => `${x >= 0 ? '+' : '−'}${formatSeconds(Math.abs(x))}`;

/** The parts of a step the explanation compares, in seconds. */
function parts(e: PoolEntry): [string, number][] {
  const b = e.detail.breakdown;
  return [
    ['pipeline bubble', b.bubbleSeconds],
    ['exposed TP', b.tpSeconds],
    ['exposed CP', b.cpSeconds],
    ['exposed EP', b.epSeconds],
    ['exposed PP', b.ppSeconds],
    ['exposed DP', b.dpSeconds],
    ['recompute', e.detail.recomputeSeconds],
    ['other compute', b.computeSeconds - e.detail.recomputeSeconds],
    ['optimizer', b.optimizerSeconds],
  ];
}

/** The line for `entry` against `best` (the line for the best names what it is best at and what it has left). */
export function explain(entry: PoolEntry, best: PoolEntry, objective: Objective): string {
  const headroom = `${formatGiB(entry.detail.memoryHeadroomBytes)} headroom`;
  if (entry === best) {
    const p = parts(entry).filter(([name]) => name !== 'other compute').sort((a, b) => b[1] - a[1])[0];
    const what = objective === 'time' ? 'fastest' : objective === 'cost' ? 'cheapest' : 'lowest p90 days';
    return `${what}: MFU ${pct(entry.results.mfu)}, largest overhead ${p[0]} ${pct(p[1] / entry.results.stepSeconds)} of the step, ${headroom}`;
  }
  const rel = entry.objectiveValue / best.objectiveValue - 1;
  const label = objective === 'time' ? 'slower' : objective === 'cost' ? 'dearer' : 'later at p90';
  const head = `${pct(rel)} ${label}`;
  const out: string[] = [];
  if (entry.gpus !== best.gpus) out.push(`${formatInt(entry.gpus)} GPUs vs ${formatInt(best.gpus)}`);
  const batch = entry.detail.globalBatchSequences;
  if (batch !== best.detail.globalBatchSequences) out.push(`global batch ${formatInt(batch)} vs ${formatInt(best.detail.globalBatchSequences)} sequences (${batch > best.detail.globalBatchSequences ? 'fewer' : 'more'} steps; parts below per ${formatInt(best.detail.globalBatchSequences)} sequences)`);
  const a = new Map(parts(best));
  // Across global batches, the parts of as many steps as carry the best's batch (the run's time per sequence decides).
  const scale = best.detail.globalBatchSequences / batch;
  const diffs = parts(entry)
    .map(([name, s]) => [name, s * scale - (a.get(name) ?? 0)] as [string, number])
    .filter(([, d]) => Math.abs(d) > 1e-4 * best.results.stepSeconds)
    .sort((x, y) => y[1] - x[1]);
  const worse = diffs.filter(([, d]) => d > 0).slice(0, 2);
  const better = diffs.filter(([, d]) => d < 0).sort((x, y) => x[1] - y[1]).slice(0, 1);
  if (worse.length) out.push(worse.map(([n, d]) => `${n} ${sec(d)}`).join(', '));
  if (better.length) out.push(`though ${better[0][0]} ${sec(better[0][1])}`);
  if (entry.detail.memoryHeadroomBytes > best.detail.memoryHeadroomBytes + BYTES_PER_GIB) out.push(`more memory headroom (${headroom})`);
  if (objective !== 'time' && entry.results.stepSeconds < best.results.stepSeconds) out.push(`faster step (${entry.results.stepSeconds.toFixed(2)} s vs ${best.results.stepSeconds.toFixed(2)} s)`);
  return `${head}: ${out.length ? out.join('; ') : 'same step parts within rounding'}`;
}
