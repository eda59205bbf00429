/** One plan evaluated end to end: parameters, FLOPs, memory fit, step time, throughput, run totals. */
import type { Scenario } from '../plan/resolve.js';
import { modelFacts } from '../model/facts.js';
import { flopsPerToken } from '../model/flops.js';
import { estimateMemory, microbatchGroupToFit, type MemoryBreakdown } from '../plan/memory.js';
import { planLayout } from '../plan/layout.js';
import { peakFlopsPerSecond } from '../system/compute.js';
import { stepCosts } from '../step/costs.js';
import { analyticStep } from '../step/analytic.js';
import type { StepBreakdown, StepResult } from '../step/result.js';
import { desStep, desOpCount, desRunsSchedule, MAX_DES_OPS } from '../step/des.js';
import type { DesStepResult } from '../step/des/types.js';
import { UserError } from '../errors.js';
import { runTotals, type RunTotals } from './totals.js';
import type { FailureSummary } from './failures.js';
import { formatGiB, formatInt } from '../units/format.js';

export type EngineName = 'des' | 'analytic';

export interface Evaluation {
  scenario: string;
  engine: 'analytic' | 'des';
  feasible: boolean;
  reasons: string[];
  notes: string[];
  model: { paramsTotal: number; paramsActive: number; flopsPerToken: number; flopsPerTokenFullAttention: number; hardwareFlopsPerToken: number };
  layout: {
    tp: number; cp: number; pp: number; vpp: number; dp: number; ep: number; schedule: string; zeroStage: number; microBatch: number; numMicroBatches: number; globalBatchSequences: number; gpus: number; nodes: number;
    /** GEMM precision, recompute policy (with Megatron's module list when given) and the overlap switches that are on. */
    precision: string; recompute: string; recomputeModules: string[] | null; overlap: string[];
  };
  memory: {
    perGpuBytes: number; capacityBytes: number; breakdown: MemoryBreakdown; peakStage: number; perStageBytes: number[]; inFlightMicroBatches: number;
    /** Interleaved plans that do not fit: the micro-batch group N (as run: `microBatchGroup`) at or below which they would (plan/memory.ts microbatchGroupToFit), else null. */
    microBatchGroup?: number; microBatchGroupToFit?: number | null;
  };
  step: {
    seconds: number; breakdown: StepBreakdown; bubbleFraction: number; tokensPerStep: number; analyticSeconds: number;
    /** 80 % prediction interval of the step time [low, high] s (validation/intervals.ts), when a residual table was given. */
    secondsInterval80?: [number, number];
  };
  throughput: {
    tokensPerSecond: number; tokensPerSecondPerGpu: number; tflopsPerGpu: number; mfu: number; hfu: number; mfuAtPrecisionPeak: number; peakTflops: number;
    /** 80 % prediction interval of tokens/s per GPU [low, high] (validation/intervals.ts), when a residual table was given. */
    interval80?: [number, number];
    /** The residual pool the intervals came from (`hopper / all software`, n cases). */
    intervalPool?: string;
  };
  run: RunTotals & {
    /** 80 % prediction interval of the ideal days [low, high]. */
    idealDaysInterval80?: [number, number];
  };
  /** Monte Carlo failure budget (few trials), when the scenario has a failure profile and the caller asks. */
  failures?: FailureSummary;
}

/** Whether the DES may simulate this plan's step: its op count against MAX_DES_OPS (every (stage, chunk, micro-batch, phase) op is scheduled). */
export function desStepSize(sc: Scenario): { ops: number; fits: boolean } {
  const ops = desOpCount(sc.plan);
  return { ops, fits: ops <= MAX_DES_OPS };
}

/** One step on the discrete-event engine, for the trace; a step too large to simulate is a user error naming the field that sizes it. */
export function tracedStep(sc: Scenario): DesStepResult {
  const { ops, fits } = desStepSize(sc);
  if (!fits) {
    throw new UserError(`a trace of ${formatInt(ops)} ops (m = ${sc.plan.numMicroBatches} micro-batches) is too large to simulate and view`, sc.file, 'plan.globalBatch', `at most ${formatInt(MAX_DES_OPS)} ops; trace a smaller global batch`);
  }
  if (!desRunsSchedule(sc.plan.schedule, sc.plan.pp, sc.plan.numMicroBatches)) {
    throw new UserError(`DualPipe needs at least 2·pp = ${2 * sc.plan.pp} micro-batches per pipeline to trace, got ${sc.plan.numMicroBatches}`, sc.file, 'plan.globalBatch', 'raise the global batch (or lower dp or the micro-batch size); evaluate answers this plan in closed form');
  }
  return desStep(sc, stepCosts(sc));
}

/** Evaluates a resolved scenario; the step engine defaults to the scenario's (discrete-event). */
export function evaluate(sc: Scenario, options: { engine?: EngineName } = {}): Evaluation {
  return evaluateDetailed(sc, options).evaluation;
}

/** Like evaluate, also returning the engine's own step result (the DES's op records feed the timeline and trace). */
export function evaluateDetailed(sc: Scenario, options: { engine?: EngineName } = {}): { evaluation: Evaluation; step: StepResult | DesStepResult } {
  const engineName = options.engine ?? sc.simulation.engine;
  const params = modelFacts(sc.model).params;
  const flops = flopsPerToken(sc.model, sc.plan.recompute, sc.plan.attentionKernel, sc.plan.recomputeModules);
  const memory = estimateMemory(sc.model, sc.plan, sc.gpu);
  const costs = stepCosts(sc);
  const analytic = analyticStep(sc, costs);
  // The DES schedules every (stage, chunk, micro-batch, phase) op: bound its work so a huge
  // global batch cannot stall a run; beyond the bound the closed form answers, and says so.
  const { ops: desOps, fits } = desStepSize(sc);
  const desSchedule = desRunsSchedule(sc.plan.schedule, sc.plan.pp, sc.plan.numMicroBatches);
  const useDes = engineName === 'des' && fits && desSchedule;
  const step = useDes ? desStep(sc, costs) : analytic;
  const tokensPerStep = sc.plan.globalBatchSequences * sc.model.seqLen;
  const gpus = sc.cluster.gpus;
  const tokensPerSecond = tokensPerStep / step.stepSeconds;
  const perGpu = tokensPerSecond / gpus;
  const bf16Peak = sc.gpu.peakFlops.bf16;
  const precisionPeak = peakFlopsPerSecond(sc.gpu, sc.plan.precision);
  const reasons: string[] = [];
  if (memory.perGpuBytes > memory.capacityBytes) {
    let hint = '';
    const shape = planLayout(sc.model, sc.plan).pipeline;
    if (shape.schedule === 'interleaved-1f1b' && shape.vpp > 1) {
      const n = microbatchGroupToFit(sc.model, sc.plan, sc.gpu);
      Object.assign(memory, { microBatchGroup: shape.group, microBatchGroupToFit: n });
      hint =
        n === null
          ? `; no micro-batch group N would fit it (runs N = ${shape.group})`
          : `; it fits with micro-batch groups of N <= ${n} (runs N = ${shape.group}${n < shape.pp ? `; Megatron's microbatch_group_size_per_vp_stage must be >= pp = ${shape.pp}, Llama 3 §3.3.2's schedule allows any N` : ''})`;
    }
    reasons.push(`memory: ${formatGiB(memory.perGpuBytes)} per GPU (stage ${memory.peakStage}) exceeds ${formatGiB(memory.capacityBytes)} of HBM${hint}`);
  }
  const notes: string[] = [...(sc.notes ?? [])];
  if (engineName === 'des' && !desSchedule) notes.push(`DualPipe's schedule needs at least 2·pp = ${2 * sc.plan.pp} micro-batches per pipeline (got ${sc.plan.numMicroBatches}); the closed form (DeepSeek-V3 Table 2 bubble) answered`);
  else if (engineName === 'des' && !useDes) {
    notes.push(`the discrete-event step was skipped: ${formatInt(desOps)} ops exceed ${formatInt(MAX_DES_OPS)} (m = ${costs.numMicroBatches} micro-batches); the closed form answered`);
  }
  const pl = sc.plan;
  if (pl.schedule === 'interleaved-1f1b' && pl.vpp > 1 && pl.pp > 1 && pl.numMicroBatches < pl.pp) {
    // Megatron-LM (schedules.py, forward_backward_pipelining_with_interleaving) requires its micro-batch group, pp by default, to be at most m.
    notes.push(`interleaved schedule with fewer micro-batches (${pl.numMicroBatches}) than pipeline ranks (${pl.pp}): Megatron-LM refuses it; modelled as the schedule would run, waiting at each of the ${pl.vpp - 1} lap changes for the first micro-batch to come round`);
  }
  if (useDes && Math.abs(step.stepSeconds / analytic.stepSeconds - 1) > 0.05) {
    const d = step.breakdown;
    const a = analytic.breakdown;
    const parts = [
      ['exposed communication', d.exposedCommunicationSeconds - a.exposedCommunicationSeconds],
      ['pipeline bubble', d.bubbleSeconds - a.bubbleSeconds],
    ] as const;
    const main = [...parts].sort((x, y) => Math.abs(y[1]) - Math.abs(x[1]))[0];
    notes.push(`the discrete-event step (${step.stepSeconds.toFixed(3)} s) differs from the closed form (${analytic.stepSeconds.toFixed(3)} s) by ${(100 * (step.stepSeconds / analytic.stepSeconds - 1)).toFixed(1)}%, mostly ${main[0]} (${main[1] >= 0 ? '+' : ''}${main[1].toFixed(3)} s)`);
  }
  const p = sc.plan;
  const evaluation: Evaluation = {
    scenario: sc.name,
    engine: step.engine,
    feasible: reasons.length === 0,
    reasons,
    notes,
    model: { paramsTotal: params.total, paramsActive: params.active, flopsPerToken: flops.model, flopsPerTokenFullAttention: flops.modelFullAttention, hardwareFlopsPerToken: flops.hardware },
    layout: {
      tp: p.tp, cp: p.cp, pp: p.pp, vpp: p.vpp, dp: p.dp, ep: p.ep, schedule: p.schedule, zeroStage: p.zeroStage, microBatch: p.microBatch, numMicroBatches: p.numMicroBatches, globalBatchSequences: p.globalBatchSequences, gpus, nodes: sc.cluster.nodes,
      precision: p.precision, recompute: p.recompute, recomputeModules: p.recompute === 'selective' ? p.recomputeModules ?? null : null,
      overlap: (['tp', 'dp', 'pp', 'ep'] as const).filter((k) => p.overlap[k]),
    },
    memory,
    step: { seconds: step.stepSeconds, breakdown: step.breakdown, bubbleFraction: step.bubbleFraction, tokensPerStep, analyticSeconds: analytic.stepSeconds },
    throughput: {
      tokensPerSecond,
      tokensPerSecondPerGpu: perGpu,
      tflopsPerGpu: (perGpu * flops.model) / 1e12,
      mfu: (perGpu * flops.model) / bf16Peak,
      hfu: (perGpu * flops.hardware) / bf16Peak,
      mfuAtPrecisionPeak: (perGpu * flops.model) / precisionPeak,
      peakTflops: bf16Peak / 1e12,
    },
    run: runTotals(sc, step.stepSeconds, tokensPerStep),
  };
  return { evaluation, step };
}
