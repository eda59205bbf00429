/** Whole-run totals without failures: steps, ideal days, GPU-hours, energy and cost. */
import type { Scenario } from '../plan/resolve.js';

export interface RunTotals {
  steps: number;
  idealSeconds: number;
  idealDays: number;
  gpuHours: number;
  /** Facility energy: GPU draw at its training fraction of TDP plus node overhead, times PUE. */
  energyMWh: number;
  /** GPU-hours at the price; null when neither the scenario nor the GPU profile sets one. */
  costUsd: number | null;
  averagePowerMW: number;
}

/** USD per GPU-hour: the scenario's cluster.pricePerGpuHour, else the GPU profile's; null when neither sets one (never a silent $0). */
export function pricePerGpuHour(sc: Pick<Scenario, 'cluster' | 'gpu'>): number | null {
  return sc.cluster.pricePerGpuHour ?? sc.gpu.pricePerGpuHour ?? null;
}

/** Ideal (failure-free) totals of the run at `stepSeconds` per step. */
export function runTotals(sc: Scenario, stepSeconds: number, tokensPerStep: number): RunTotals {
  const steps = Math.ceil(sc.training.totalTokens / tokensPerStep);
  const idealSeconds = steps * stepSeconds;
  const hours = idealSeconds / 3600;
  const gpus = sc.cluster.gpus;
  const itWatts = gpus * sc.gpu.power.tdp * sc.gpu.power.trainingFraction + sc.cluster.nodes * sc.node.power.overhead;
  const facilityWatts = itWatts * sc.cluster.pue;
  const price = pricePerGpuHour(sc);
  return {
    steps,
    idealSeconds,
    idealDays: idealSeconds / 86400,
    gpuHours: gpus * hours,
    energyMWh: (facilityWatts * hours) / 1e6,
    costUsd: price === null ? null : gpus * hours * price,
    averagePowerMW: facilityWatts / 1e6,
  };
}
