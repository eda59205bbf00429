/**
 * The closed-form expectation beside the Monte Carlo: Kokolis et al. 2024 ("Revisiting
 * Reliability in Large-Scale Machine Learning Research Clusters", arXiv 2410.21680, §V), the
 * expected effective training time ratio of a job with N nodes failing at rate r each,
 * restart overhead u₀, checkpoint interval Δt and checkpoint write time w:
 *
 *   E[ETTR] ≈ (1 − N·r·(u₀ + Δt/2)) / (1 + w/Δt)
 *
 * Here N·r is the job's unexpected interruption rate (every component, per second), u₀ the
 * rate-weighted detection plus the restart, Δt the work between checkpoints and w the pause per
 * save. Planned stops lose no work; they add their own term λₚ·(stop checkpoint + downtime +
 * restart) to the numerator (zero when a profile has none, which gives the paper's form).
 * Its assumptions: arrivals as a Poisson process, no waiting for spare nodes, no fault during a
 * recovery, first order in the failure rate. Young (1974) and Daly (2006) give the interval.
 */
import type { RunModel } from './run-model.js';

export interface ClosedFormInputs {
  /** N·r: unexpected interruptions per second of wall time. */
  unexpectedPerSecond: number;
  /** u₀: rate-weighted detection plus restart, seconds per unexpected interruption. */
  u0Seconds: number;
  /** λₚ: planned stops per second. */
  plannedPerSecond: number;
  /** Seconds a planned stop costs: its blocking save, the downtime and the restart. */
  plannedSeconds: number;
  /** w: job pause per checkpoint. */
  pauseSeconds: number;
  /**
   * Only under a recovery strategy other than checkpoint-restart (recovery.ts), whose faults
   * cost differently: the loss per second of wall time is `fixedPerSecond` (Σ λ_c·(detection +
   * restart + shrunk running + a rollback of half a step or half the persistent interval))
   * plus `intervalRate`·Δt/2 for the faults that roll back to the last checkpoint.
   */
  strategy?: { fixedPerSecond: number; intervalRate: number };
}

/** The rates and costs of the closed form, from the engine's model. */
export function closedFormInputs(model: Omit<RunModel, 'intervalSeconds'>): ClosedFormInputs {
  let unexpected = 0;
  let detect = 0;
  let planned = 0;
  let plannedDown = 0;
  for (const c of model.components) {
    if (c.planned) {
      planned += c.ratePerSecond;
      plannedDown += c.ratePerSecond * c.downtimeSeconds;
    } else {
      unexpected += c.ratePerSecond;
      detect += c.ratePerSecond * c.detectSeconds;
    }
  }
  const strategy = model.components.some((c) => c.restartSeconds !== undefined || c.rollback !== undefined || c.degradedSeconds !== undefined) ? strategyTerms(model) : undefined;
  return {
    ...(strategy ? { strategy } : {}),
    unexpectedPerSecond: unexpected,
    u0Seconds: (unexpected > 0 ? detect / unexpected : 0) + model.restartSeconds,
    plannedPerSecond: planned,
    plannedSeconds: (planned > 0 ? plannedDown / planned : 0) + model.stopCheckpointSeconds + model.restartSeconds,
    pauseSeconds: model.pauseSeconds,
  };
}

/** Per-fault costs under a recovery strategy: each unexpected component's own restart, shrunk running and rollback. */
function strategyTerms(model: Omit<RunModel, 'intervalSeconds'>): NonNullable<ClosedFormInputs['strategy']> {
  let fixedPerSecond = 0;
  let intervalRate = 0;
  for (const c of model.components) {
    if (c.planned) continue;
    const rollback = c.rollback ?? 'checkpoint';
    const half = rollback === 'step' ? model.stepSeconds / 2 : rollback === 'persistent' ? (model.persistentSeconds ?? 0) / 2 : 0;
    fixedPerSecond += c.ratePerSecond * (c.detectSeconds + (c.restartSeconds ?? model.restartSeconds) + (c.degradedSeconds ?? 0) + half);
    if (rollback === 'checkpoint') intervalRate += c.ratePerSecond;
  }
  return { fixedPerSecond, intervalRate };
}

/**
 * The fraction of wall time unexpected faults cost to first order, N·r·(u₀ + Δt/2) (or its
 * strategy form): the closed form's numerator is 1 minus this (and the planned term). Its square
 * is the order of what it leaves out (a fault during a recovery or during redone work).
 */
export function unexpectedLossRate(k: ClosedFormInputs, intervalSeconds: number): number {
  return k.strategy ? k.strategy.fixedPerSecond + (k.strategy.intervalRate * intervalSeconds) / 2 : k.unexpectedPerSecond * (k.u0Seconds + intervalSeconds / 2);
}

/** Kokolis et al.'s expected ETTR at checkpoint interval Δt (seconds of work); 0 when failures outpace progress. */
export function kokolisEttr(k: ClosedFormInputs, intervalSeconds: number): number {
  const lost = unexpectedLossRate(k, intervalSeconds) + k.plannedPerSecond * k.plannedSeconds;
  return Math.max(0, (1 - lost) / (1 + k.pauseSeconds / intervalSeconds));
}
