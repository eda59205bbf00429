/** Synthetic scenarios and op costs for step-engine tests: round numbers, no dependence on calibration. */
import { join } from 'node:path';
import { loadScenario, packageRoot } from '../../src/io/load.js';
import type { Scenario } from '../../src/plan/resolve.js';
import { stepCosts, type LayerCost, type StepCosts } from '../../src/step/costs.js';
import type { ScheduleName } from '../../src/plan/pipeline.js';

export const scenarioFile = (name: string) => join(packageRoot, 'scenarios', `${name}.yaml`);

let tinyCache: Scenario | undefined;
/** The bundled tiny scenario (TP2 PP2 DP2 on one node). */
export function tiny(): Scenario {
  tinyCache ??= loadScenario(scenarioFile('tiny'));
  return tinyCache;
}

export interface SyntheticShape {
  pp: number;
  vpp?: number;
  m: number;
  schedule: ScheduleName;
  layersPerStage?: number;
  overlap?: { tp?: boolean; dp?: boolean; pp?: boolean };
  simulation?: { stragglerSlowdown?: number; throughputVariation?: number };
  zeroStage?: number;
}

/** The tiny scenario reshaped to a pipeline of `pp` ranks (the plan fields the step engines read). */
export function shapedScenario(shape: SyntheticShape): Scenario {
  const sc = tiny();
  const layers = shape.layersPerStage ?? 2;
  return {
    ...sc,
    model: { ...sc.model, layers: layers * shape.pp },
    plan: {
      ...sc.plan,
      pp: shape.pp,
      vpp: shape.vpp ?? 1,
      schedule: shape.schedule,
      numMicroBatches: shape.m,
      layersPerStage: new Array<number>(shape.pp).fill(layers),
      zeroStage: shape.zeroStage ?? sc.plan.zeroStage,
      overlap: { ...sc.plan.overlap, ...shape.overlap },
    },
    simulation: { engine: 'des', stragglerSlowdown: 0, throughputVariation: 0, ...shape.simulation },
  };
}

/** A layer with the given compute times and no communication. */
export function layer(forwardSeconds: number, backwardInputSeconds: number, backwardWeightSeconds: number): LayerCost {
  return {
    moe: false,
    forwardSeconds,
    backwardInputSeconds,
    backwardWeightSeconds,
    recomputeSeconds: 0,
    overlappableGemmSeconds: 0,
    tpForwardCommSeconds: 0,
    tpBackwardCommSeconds: 0,
    cpForwardCommSeconds: 0,
    cpBackwardCommSeconds: 0,
    epForwardCommSeconds: 0,
    epBackwardCommSeconds: 0,
    attentionForwardSeconds: 0,
    attentionBackwardSeconds: 0,
  };
}

/** Op costs for `sc` with identical layers, no communication, no extras and no optimizer. */
export function zeroCommCosts(sc: Scenario, l: LayerCost = layer(1, 1, 1)): StepCosts {
  const real = stepCosts(tiny());
  const pp = sc.plan.pp;
  return {
    ...real,
    stages: sc.plan.layersPerStage.map((n, stage) => ({ stage, layers: new Array<LayerCost>(n).fill(l), extraForwardSeconds: 0, extraBackwardSeconds: 0, denseParams: 1, expertParams: 0 })),
    ppSendSeconds: 0,
    ppSendSecondsSameNode: 0,
    dp: new Array(pp).fill(0).map(() => ({ gradientSeconds: 0, paramGatherSeconds: 0, perMicroBatch: false, placement: real.dp[0].placement })),
    optimizerSeconds: new Array<number>(pp).fill(0),
    numMicroBatches: sc.plan.numMicroBatches,
  };
}
