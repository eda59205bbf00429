/**
 * The closed-form cross-check of a Monte Carlo summary (summary.ts): Kokolis et al. 2024's ETTR
 * (closed-form.ts) at the simulated interval against the trials' goodput, and the caveats that
 * say when its assumptions do not hold for the run.
 */
import type { ModelComponent } from './run-model.js';
import { kokolisEttr, unexpectedLossRate, type ClosedFormInputs } from './closed-form.js';
import { mean, percentile, sorted, stdev } from './stats.js';
import { formatPercent as pct, formatSeconds } from '../units/format.js';

/** What the cross-check reads of a summary's context (summary.ts SummaryContext). */
export interface ClosedFormContext {
  closedForm: ClosedFormInputs;
  /** shape: only when not 1 (a Weibull process; absent, Poisson). */
  components: (Pick<ModelComponent, 'name' | 'planned'> & { shape?: number })[];
  /** A programme stage that begins with a relaunch: its blocking save and restart, seconds. */
  relaunchSeconds?: number;
  interval: { seconds: number };
  dalySeconds: number | null;
}

/** The closed-form cross-check (closed-form.ts) against the Monte Carlo's goodput. */
export interface ClosedFormSummary {
  method: 'Kokolis et al. 2024 ETTR';
  /** Expected ETTR at the simulated interval. */
  ettr: number;
  intervalSeconds: number;
  /** Expected ETTR at Daly's interval (null without unexpected failures). */
  ettrAtDaly: number | null;
  unexpectedPerDay: number;
  u0Seconds: number;
  plannedPerDay: number;
  plannedSeconds: number;
  pauseSeconds: number;
  monteCarlo: {
    goodputMean: number;
    /** 95% confidence interval of the mean goodput (normal approximation). */
    meanInterval95: [number, number];
    /** Central 95% of the trials' goodput (p2.5 to p97.5). */
    trialInterval95: [number, number];
  };
  /** False when the closed form falls outside the trials' 95% interval (a note says why it may). */
  agrees: boolean;
  /** True when the closed form's assumptions hold for this run (closedFormCaveats finds none). */
  applies: boolean;
  /** Why its assumptions do not hold here, one sentence each (empty when they do). */
  caveats: string[];
}

/**
 * Where the closed form may be read as the Monte Carlo's expectation. It is a long-run average
 * (a renewal-reward rate) to first order in the failure rate, with Poisson arrivals and no wait
 * for spare nodes (closed-form.ts); with these bounds the Monte Carlo mean is within 2 % of it
 * (test/run/closed-form-validity.test.ts checks it over a range of runs).
 * - at least CLOSED_FORM_MIN_INTERRUPTIONS unexpected interruptions per run in expectation: a
 *   run much shorter than the mean time between interruptions is, in most trials, not hit at
 *   all, and its goodput is the fault-free one, not the long-run average;
 * - at least CLOSED_FORM_MIN_INTERVALS checkpoint intervals of work: the pause per save (w/Δt)
 *   and the rollback of Δt/2 are averages over whole intervals;
 * - N·r·(u₀ + Δt/2) at most CLOSED_FORM_MAX_LOSS: the terms it leaves out (a fault during a
 *   recovery or during redone work) are of the order of its square.
 */
export const CLOSED_FORM_MIN_INTERRUPTIONS = 5;
export const CLOSED_FORM_MIN_INTERVALS = 10;
export const CLOSED_FORM_MAX_LOSS = 0.1;
/** A programme stage's opening relaunch, as a share of its wall time, above which the closed form is not comparable (a quarter of the 2 % target). */
export const CLOSED_FORM_MAX_RELAUNCH_SHARE = 0.005;

/** What the trials say about a run that the closed form's caveats need. */
export interface RunObserved {
  meanWallSeconds: number;
  /** Mean work kept per trial (seconds of ideal run time). */
  meanUsefulSeconds: number;
  /** Fraction of trials in which the job waited for a spare node. */
  trialsWaited: number;
}

/** Why the closed form's assumptions do not hold for this run, one sentence each (none: they hold). */
export function closedFormCaveats(ctx: Omit<ClosedFormContext, 'dalySeconds'>, run: RunObserved): string[] {
  const out: string[] = [];
  const k = ctx.closedForm;
  const weibull = ctx.components.filter((c) => !c.planned && c.shape !== undefined && c.shape !== 1);
  if (weibull.length > 0) out.push(`${weibull.map((c) => c.name).join(', ')} ${weibull.length === 1 ? 'arrives' : 'arrive'} as a Weibull process, not a Poisson one`);
  if (run.trialsWaited > 0) out.push(`the job waited for spare nodes in ${pct(run.trialsWaited)} of trials (the closed form has no wait)`);
  const expected = k.unexpectedPerSecond * run.meanWallSeconds;
  if (k.unexpectedPerSecond > 0 && expected < CLOSED_FORM_MIN_INTERRUPTIONS) {
    out.push(
      `the run lasts ${formatSeconds(run.meanWallSeconds)}, ${expected < 0.1 ? expected.toPrecision(1) : expected.toFixed(1)} times the mean time between interruptions (${formatSeconds(1 / k.unexpectedPerSecond)}), so ${expected < 1 ? 'most trials see no interruption' : 'a trial sees only a few interruptions'}; the closed form is a long-run average over many (it needs ≥ ${CLOSED_FORM_MIN_INTERRUPTIONS} per run)`,
    );
  }
  const intervals = run.meanUsefulSeconds / ctx.interval.seconds;
  if (intervals < CLOSED_FORM_MIN_INTERVALS) {
    out.push(`its work (${formatSeconds(run.meanUsefulSeconds)}) spans ${intervals < 0.1 ? intervals.toPrecision(1) : intervals.toFixed(1)} checkpoint intervals of ${formatSeconds(ctx.interval.seconds)}; the closed form spreads the pause per save and the rollback of Δt/2 over whole intervals (it needs ≥ ${CLOSED_FORM_MIN_INTERVALS})`);
  }
  const relaunch = (ctx.relaunchSeconds ?? 0) / run.meanWallSeconds;
  if (relaunch > CLOSED_FORM_MAX_RELAUNCH_SHARE) {
    out.push(`it begins with a relaunch (a blocking save and a restart, ${formatSeconds(ctx.relaunchSeconds ?? 0)}, ${pct(relaunch)} of its wall time) that the closed form does not count`);
  }
  const loss = unexpectedLossRate(k, ctx.interval.seconds);
  if (loss > CLOSED_FORM_MAX_LOSS) {
    out.push(`faults cost ${pct(loss)} of the time to first order (N·r·(u₀ + Δt/2), above ${pct(CLOSED_FORM_MAX_LOSS, 0)}): the faults during a recovery and during redone work that the first order leaves out are no longer small`);
  }
  return out;
}

/** The closed form at the simulated interval (and Daly's), against the trials' goodput. */
export function closedFormSummary(ctx: ClosedFormContext, goodput: Float64Array, run: RunObserved): ClosedFormSummary {
  const k = ctx.closedForm;
  const ettr = kokolisEttr(k, ctx.interval.seconds);
  const s = sorted(goodput);
  const m = mean(goodput);
  const half = (1.96 * stdev(goodput)) / Math.sqrt(goodput.length);
  const trialInterval95: [number, number] = [percentile(s, 2.5), percentile(s, 97.5)];
  const caveats = closedFormCaveats(ctx, run);
  return {
    method: 'Kokolis et al. 2024 ETTR',
    ettr,
    intervalSeconds: ctx.interval.seconds,
    ettrAtDaly: ctx.dalySeconds !== null ? kokolisEttr(k, ctx.dalySeconds) : null,
    unexpectedPerDay: k.unexpectedPerSecond * 86400,
    u0Seconds: k.u0Seconds,
    plannedPerDay: k.plannedPerSecond * 86400,
    plannedSeconds: k.plannedSeconds,
    pauseSeconds: k.pauseSeconds,
    monteCarlo: { goodputMean: m, meanInterval95: [m - half, m + half], trialInterval95 },
    agrees: ettr >= trialInterval95[0] && ettr <= trialInterval95[1],
    applies: caveats.length === 0,
    caveats,
  };
}
