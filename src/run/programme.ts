/**
 * A training programme evaluated stage by stage, and its total. Each stage is evaluated as the
 * scenario it resolves to (so a programme of one stage gives today's numbers), with the stage
 * kind's cost on top: dpo adds the reference model's forward, generate is priced at a roofline.
 * The failure Monte Carlo runs per stage (each stage's own cluster size); the programme is not yet
 * simulated end to end as one run (see `expectedNote`).
 */
import type { ResolvedStage } from '../plan/programme.js';
import { modelFacts } from '../model/facts.js';
import { evaluate, type EngineName, type Evaluation } from './evaluate.js';
import { runTotals, pricePerGpuHour } from './totals.js';
import type { FailureSummary } from './summary.js';
import { formatGiB } from '../units/format.js';

/**
 * Reference-model forward of DPO in units of the policy's training step: forward FLOPs are 2 of
 * the 6 per parameter and token of forward plus backward (Kaplan et al. 2020 §2.1), so the
 * reference model's forward on the same chosen and rejected sequences adds 2/6 = 1/3, at the
 * training step's efficiency (assumption: same GPUs, same layout, reference weights fit beside).
 */
export const DPO_REFERENCE_FORWARD_SHARE = 1 / 3;

export interface StageEvaluation extends Evaluation {
  stage: { index: number; name: string; kind: ResolvedStage['kind']; seqLen: number; tokens: number; assumptions: string[] };
}

export interface ProgrammeTotal {
  idealDays: number;
  /** Sum of each stage's Monte Carlo mean days; null when a stage has no failure profile. */
  expectedDays: number | null;
  gpuHours: number;
  expectedGpuHours: number | null;
  costUsd: number | null;
  expectedCostUsd: number | null;
  energyMWh: number;
  /** How expectedDays was obtained. */
  note: string;
}

/** What the expected figures mean until the Monte Carlo runs the programme end to end. */
export const expectedNote = "expected days are each stage's own failure Monte Carlo, summed (the programme is not yet simulated as one run across changes of cluster size)";

/** Roofline time of a generate stage: prefill (compute-bound) plus decode (the larger of compute and HBM reads per decode step). */
export function generateSeconds(st: ResolvedStage): { seconds: number; assumptions: string[] } {
  const sc = st.scenario;
  const g = st.generate!;
  const m = sc.model;
  const p = modelFacts(m).params;
  const gpusPerReplica = sc.plan.tp * sc.plan.pp;
  const replicas = Math.max(1, Math.floor(sc.cluster.gpus / gpusPerReplica));
  const peak = sc.gpu.peakFlops.bf16 * gpusPerReplica;
  const bandwidth = sc.gpu.hbm.bandwidth * gpusPerReplica;
  const prefillSeconds = (g.prompts * 2 * p.active * g.promptTokens) / (peak * replicas);
  const kvBytesPerToken = 2 * m.layers * m.kvHeads * m.headDim * 2;
  const sequences = g.prompts * g.samplesPerPrompt;
  const batches = Math.ceil(sequences / (replicas * g.decodeBatch));
  const b = Math.min(g.decodeBatch, Math.ceil(sequences / replicas));
  const context = g.promptTokens + g.responseTokens / 2;
  const stepSeconds = Math.max((2 * p.active * b) / peak, (2 * p.total + kvBytesPerToken * b * context) / bandwidth);
  const decodeSeconds = batches * g.responseTokens * stepSeconds;
  return {
    seconds: prefillSeconds + decodeSeconds,
    assumptions: [
      `generate at a roofline (a lower bound): ${replicas.toLocaleString('en-US')} replicas of TP${sc.plan.tp}·PP${sc.plan.pp}, bf16 weights and KV cache, peak FLOP/s and peak HBM bandwidth`,
      `prefill once per prompt (its KV pages shared by the ${g.samplesPerPrompt} samples, Llama 3 §4.2.2), decode ${g.decodeBatch} sequences together at a mean context of ${Math.round(context)} tokens`,
    ],
  };
}

/** Evaluates one stage: today's evaluation of its scenario with the stage kind's cost applied. */
export function evaluateStage(st: ResolvedStage, options: { engine?: EngineName } = {}): StageEvaluation {
  const sc = st.scenario;
  const ev = evaluate(sc, options);
  const assumptions: string[] = [];
  let stepSeconds = ev.step.seconds;
  let tokensPerStep = ev.step.tokensPerStep;
  if (st.kind === 'sft') assumptions.push('sft: packed sequences, so a step costs what a pre-training step of the same shape does (masked prompt tokens still run)');
  if (st.kind === 'dpo') {
    stepSeconds *= 1 + DPO_REFERENCE_FORWARD_SHARE;
    assumptions.push('dpo: the global batch counts chosen and rejected sequences; the reference model forward adds 1/3 of the policy step (forward 2 of 6 FLOPs per parameter and token)');
  }
  let reasons = ev.reasons;
  if (st.kind === 'generate') {
    // The training memory estimate does not apply: inference holds bf16 weights and the KV cache.
    const g = st.generate!;
    const m = sc.model;
    const perGpu = (2 * modelFacts(m).params.total + 2 * m.layers * m.kvHeads * m.headDim * 2 * g.decodeBatch * (g.promptTokens + g.responseTokens)) / (sc.plan.tp * sc.plan.pp);
    reasons = perGpu > sc.gpu.hbm.capacity ? [`memory: bf16 weights and a full KV cache need ${formatGiB(perGpu)} per GPU, above ${formatGiB(sc.gpu.hbm.capacity)} of HBM`] : [];
    const gen = generateSeconds(st);
    stepSeconds = gen.seconds;
    tokensPerStep = sc.training.totalTokens;
    assumptions.push(...gen.assumptions);
  }
  const changed = stepSeconds !== ev.step.seconds || tokensPerStep !== ev.step.tokensPerStep;
  const scale = ev.step.seconds / stepSeconds;
  const out: StageEvaluation = {
    ...ev,
    feasible: reasons.length === 0,
    reasons,
    step: changed ? { ...ev.step, seconds: stepSeconds, tokensPerStep } : ev.step,
    throughput: changed && st.kind === 'dpo' ? { ...ev.throughput, tokensPerSecond: ev.throughput.tokensPerSecond * scale, tokensPerSecondPerGpu: ev.throughput.tokensPerSecondPerGpu * scale } : ev.throughput,
    run: changed ? runTotals(sc, stepSeconds, tokensPerStep) : ev.run,
    stage: { index: st.index, name: st.name, kind: st.kind, seqLen: sc.model.seqLen, tokens: sc.training.totalTokens, assumptions },
  };
  return out;
}

/** The programme's total: sums of the stages' ideal and expected figures. */
export function programmeTotal(stages: { ev: StageEvaluation; failures?: FailureSummary; price: number | null; gpus: number }[]): ProgrammeTotal {
  let idealDays = 0, gpuHours = 0, energyMWh = 0, cost = 0, expectedDays = 0, expectedGpuHours = 0, expectedCost = 0;
  let priced = true, expected = true;
  for (const s of stages) {
    idealDays += s.ev.run.idealDays;
    gpuHours += s.ev.run.gpuHours;
    energyMWh += s.ev.run.energyMWh;
    if (s.ev.run.costUsd === null || s.price === null) priced = false;
    else cost += s.ev.run.costUsd;
    // A generate stage restarts a failed batch; its failure losses are not modelled (its ideal days stand).
    const days = s.failures ? s.failures.days.mean : s.ev.stage.kind === 'generate' ? s.ev.run.idealDays : null;
    if (days === null) expected = false;
    else {
      expectedDays += days;
      expectedGpuHours += days * 24 * s.gpus;
      if (s.price !== null) expectedCost += days * 24 * s.gpus * s.price;
    }
  }
  return {
    idealDays,
    expectedDays: expected ? expectedDays : null,
    gpuHours,
    expectedGpuHours: expected ? expectedGpuHours : null,
    costUsd: priced ? cost : null,
    expectedCostUsd: expected && priced ? expectedCost : null,
    energyMWh,
    note: expectedNote,
  };
}

export { pricePerGpuHour };
