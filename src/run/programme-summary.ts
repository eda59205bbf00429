/**
 * The answer of a programme's Monte Carlo: each stage's own failure summary (the stage's part of
 * every trial row, through summarize) and the programme's total per trial — wall days, GPU-hours
 * with the spare nodes, cost at each stage's price, lost GPU-hours in the goodput buckets — as
 * means and percentiles over the trials.
 */
import { TrialField as F } from './trial-row.js';
import { summarize, spareGpuSeconds, badputSeconds, BADPUT_FIELDS, type BadputBucket, type Distribution, type FailureSummary } from './summary.js';
import { mean, percentile, sorted } from './stats.js';
import { stageOffsets, stageRowWidth, programmeRowWidth } from './programme-engine.js';
import type { ProgrammePlan } from './programme-mc.js';

export interface ProgrammeStageSummary {
  index: number;
  name: string;
  kind: string;
  gpus: number;
  /** The stage starts with a relaunch (save, then restart under its layout). */
  relaunch: boolean;
  /** Pending fault arrivals carried over from the stage before (same fault processes). */
  carriedArrivals: boolean;
  /** Wall-clock days of the stage, over the trials that reached it. */
  days: { ideal: number; mean: number; p90: number };
  /** The stage's failure summary over the trials that reached it (null: a fixed stage, generate). */
  failures: FailureSummary | null;
  /** What the stage costs a buyer over the trials that reached it: job GPUs over its wall time plus its spare nodes, mean and p90 (cost null without a price). */
  expected: { gpuHours: { mean: number; p90: number }; costUsd: { mean: number; p90: number } | null };
}

const mp90 = (a: Float64Array) => ({ mean: mean(a), p90: percentile(sorted(a), 90) });

/** The programme's Monte Carlo answer: per stage, and the total per trial. */
export interface ProgrammeFailureSummary {
  trials: number;
  seed: string;
  /** Trials that finished every stage within each stage's wall cap. */
  finishedTrials: number;
  stages: ProgrammeStageSummary[];
  days: Distribution & { ideal: number };
  /** GPU-time weighted over the stages: Σ GPUs·work kept / Σ GPUs·wall. */
  goodput: Distribution;
  interruptions: { mean: number; p90: number };
  lostGpuHours: { mean: number; p90: number };
  badput: Record<BadputBucket, { mean: number; p90: number }>;
  cost: {
    /** Σ GPUs × ideal hours, and at each stage's price (null when a stage has no price). */
    ideal: { gpuHours: number; costUsd: number | null };
    /** Job GPUs over each stage's wall time plus its spare nodes (held or rented as the scenario says). */
    expected: { gpuHours: { mean: number; p90: number }; jobGpuHours: number; spareGpuHours: number; costUsd: { mean: number; p90: number } | null };
  };
  notes: string[];
}

/** Summarizes the programme's trial rows (row-major, trial order, plan.trials rows). */
export function summarizeProgramme(plan: ProgrammePlan, rows: Float64Array): ProgrammeFailureSummary {
  const n = plan.trials;
  const width = programmeRowWidth(plan.model);
  const offsets = stageOffsets(plan.model);
  const wall = new Float64Array(n);
  const job = new Float64Array(n);
  const spare = new Float64Array(n);
  const cost = new Float64Array(n);
  const useful = new Float64Array(n);
  const interruptions = new Float64Array(n);
  const badput = Object.fromEntries(Object.keys(BADPUT_FIELDS).map((b) => [b, new Float64Array(n)])) as Record<BadputBucket, Float64Array>;
  const finished = new Uint8Array(n).fill(1);
  const priced = plan.stages.every((s) => s.pricePerGpuHour !== null);
  let idealSeconds = 0;
  let idealGpuHours = 0;
  let idealCost = 0;
  const stages = plan.stages.map((s, k): ProgrammeStageSummary => {
    const sm = plan.model.stages[k];
    const ctx = plan.contexts[k];
    const w = stageRowWidth(sm);
    const stageIdeal = sm.model ? sm.model.workSeconds : (sm.fixedSeconds ?? 0);
    idealSeconds += stageIdeal;
    idealGpuHours += (s.gpus * stageIdeal) / 3600;
    idealCost += ((s.gpus * stageIdeal) / 3600) * (s.pricePerGpuHour ?? 0);
    const reached: number[] = [];
    for (let t = 0; t < n; t++) if (finished[t]) reached.push(t);
    const part = new Float64Array(reached.length * w);
    const days = new Float64Array(reached.length);
    const stageGpuHours = new Float64Array(reached.length);
    reached.forEach((t, i) => {
      const b = t * width + offsets[k];
      part.set(rows.subarray(b, b + w), i * w);
      const x = rows[b + F.wall];
      days[i] = x / 86400;
      wall[t] += x;
      job[t] += (s.gpus * x) / 3600;
      const sp = spareGpuSeconds(s, x, rows[b + F.spareNodeSeconds]) / 3600;
      spare[t] += sp;
      stageGpuHours[i] = (s.gpus * x) / 3600 + sp;
      cost[t] += stageGpuHours[i] * (s.pricePerGpuHour ?? 0);
      useful[t] += s.gpus * rows[b + F.useful];
      for (let c = F.components; c < w; c++) interruptions[t] += rows[b + c];
      for (const [bucket, fields] of Object.entries(BADPUT_FIELDS) as [BadputBucket, (typeof BADPUT_FIELDS)[BadputBucket]][]) badput[bucket][t] += (s.gpus * badputSeconds(rows, b, fields)) / 3600;
      if (rows[b + F.finished] !== 1) finished[t] = 0;
    });
    const failures = ctx && reached.length > 0 ? summarize({ ...ctx, trials: reached.length }, part) : null;
    return {
      index: s.index,
      name: s.name,
      kind: s.kind,
      gpus: s.gpus,
      relaunch: sm.relaunch,
      carriedArrivals: sm.carryArrivals,
      days: { ideal: stageIdeal / 86400, ...mp90(days) },
      failures,
      expected: {
        gpuHours: mp90(stageGpuHours),
        costUsd: s.pricePerGpuHour === null ? null : mp90(stageGpuHours.map((x) => x * (s.pricePerGpuHour as number))),
      },
    };
  });
  const gpuWall = job.map((x) => x * 3600);
  const goodput = useful.map((u, t) => (gpuWall[t] > 0 ? u / gpuWall[t] : 0));
  const total = job.map((x, t) => x + spare[t]);
  const lost = job.map((x, t) => x - useful[t] / 3600);
  const dist = (a: Float64Array): Distribution => {
    const s = sorted(a);
    return { mean: mean(a), p5: percentile(s, 5), p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99) };
  };
  const finishedTrials = finished.reduce((a, x) => a + x, 0);
  const notes = [
    `one failure timeline across the ${plan.stages.length} stages: nodes out for repair and (at the same cluster size) pending faults carry over; a change of layout or GPU count relaunches (save, restart)`,
    'expected GPU-hours and cost include the spare nodes; a generate stage takes its ideal time (its faults are not simulated)',
  ];
  if (finishedTrials < n) notes.push(`${n - finishedTrials} of ${n} trials did not finish a stage within its wall cap (failures outpace progress): their later stages are not counted`);
  return {
    trials: n,
    seed: String(plan.seed),
    finishedTrials,
    stages,
    days: { ...dist(wall.map((x) => x / 86400)), ideal: idealSeconds / 86400 },
    goodput: dist(goodput),
    interruptions: mp90(interruptions),
    lostGpuHours: mp90(lost),
    badput: Object.fromEntries(Object.entries(badput).map(([b, a]) => [b, mp90(a)])) as ProgrammeFailureSummary['badput'],
    cost: {
      ideal: { gpuHours: idealGpuHours, costUsd: priced ? idealCost : null },
      expected: { gpuHours: mp90(total), jobGpuHours: mean(job), spareGpuHours: mean(spare), costUsd: priced ? mp90(cost) : null },
    },
    notes,
  };
}
