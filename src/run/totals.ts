/** Whole-run totals without failures: steps, ideal days, GPU-hours, energy and cost. */
import type { Scenario } from '../plan/resolve.js';

export interface RunTotals {
  steps: number;
  idealSeconds: number;
  idealDays: number;
  gpuHours: number;
  /** Facility energy: GPU draw at its training fraction of TDP plus node overhead, times PUE. */
  energyMWh: number;
  costUsd: number;
  averagePowerMW: number;
}

/** Ideal (failure-free) totals of the run at `stepSeconds` per step. */
export function runTotals(sc: Scenario, stepSeconds: number, tokensPerStep: number): RunTotals {
  const steps = Math.ceil(sc.training.totalTokens / tokensPerStep);
  const idealSeconds = steps * stepSeconds;
  const hours = idealSeconds / 3600;
  const gpus = sc.cluster.gpus;
  const itWatts = gpus * sc.gpu.power.tdp * sc.gpu.power.trainingFraction + sc.cluster.nodes * sc.node.power.overhead;
  const facilityWatts = itWatts * sc.cluster.pue;
  return {
    steps,
    idealSeconds,
    idealDays: idealSeconds / 86400,
    gpuHours: gpus * hours,
    energyMWh: (facilityWatts * hours) / 1e6,
    costUsd: gpus * hours * sc.cluster.pricePerGpuHour,
    averagePowerMW: facilityWatts / 1e6,
  };
}
