/**
 * A training programme evaluated stage by stage, and its total. Each stage is evaluated as the
 * scenario it resolves to (so a programme of one stage gives today's numbers), with the stage
 * kind's cost on top: dpo adds the reference model's forward, generate is priced at a roofline.
 * The failure Monte Carlo runs the programme end to end (programme-mc.ts, programme-engine.ts).
 */
import type { ResolvedStage } from '../plan/programme.js';
import { modelFacts } from '../model/facts.js';
import { evaluate, type EngineName, type Evaluation } from './evaluate.js';
import type { Scenario } from '../plan/resolve.js';
import { runTotals, pricePerGpuHour } from './totals.js';
import type { ProgrammeFailureSummary } from './programme-summary.js';
import type { ProgrammeStageRun } from './programme-mc.js';
import { runInputsFromScenario } from './inputs.js';
import { formatGiB, formatInt } from '../units/format.js';

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
  /** The programme's Monte Carlo mean wall days, end to end; null when it could not run (no failure profile). */
  expectedDays: number | null;
  p90Days: number | null;
  gpuHours: number;
  /** Job GPUs over the Monte Carlo's wall time plus the spare nodes (mean, p90). */
  expectedGpuHours: number | null;
  p90GpuHours: number | null;
  costUsd: number | null;
  expectedCostUsd: number | null;
  p90CostUsd: number | null;
  energyMWh: number;
  /** How the expected figures were obtained. */
  note: string;
}

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
      `generate at a roofline (a lower bound): ${formatInt(replicas)} replicas of TP${sc.plan.tp}·PP${sc.plan.pp}, bf16 weights and KV cache, peak FLOP/s and peak HBM bandwidth`,
      `prefill once per prompt (its KV pages shared by the ${g.samplesPerPrompt} samples, Llama 3 §4.2.2), decode ${g.decodeBatch} sequences together at a mean context of ${Math.round(context)} tokens`,
    ],
  };
}

/** Evaluations by everything but the token budget and the name (StepCache keys). */
export type StepCache = Map<string, Evaluation>;

/**
 * evaluate(sc), shared between stages that differ only in their token budget and name (the
 * programme's anneal and last context stage, sft and dpo): one step simulation each, the run
 * totals redone for the stage's tokens.
 */
export function cachedEvaluate(sc: Scenario, engine: EngineName | undefined, cache: StepCache | undefined): Evaluation {
  if (!cache) return evaluate(sc, { engine });
  const key = `${engine ?? ''}|${JSON.stringify({ ...sc, name: '', file: '', training: { ...sc.training, totalTokens: 0 } })}`;
  const hit = cache.get(key);
  if (!hit) {
    const ev = evaluate(sc, { engine });
    cache.set(key, ev);
    return { ...ev, notes: [...ev.notes], reasons: [...ev.reasons] };
  }
  return { ...hit, scenario: sc.name, notes: [...hit.notes], reasons: [...hit.reasons], run: runTotals(sc, hit.step.seconds, hit.step.tokensPerStep) };
}

/** Evaluates one stage: today's evaluation of its scenario with the stage kind's cost applied. */
export function evaluateStage(st: ResolvedStage, options: { engine?: EngineName; cache?: StepCache } = {}): StageEvaluation {
  const sc = st.scenario;
  // A generate stage's step is its roofline below: the training step under it needs no DES.
  const ev = cachedEvaluate(sc, st.kind === 'generate' ? 'analytic' : options.engine, options.cache);
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

/** The programme's total: the stages' ideal figures summed, and the expected ones from the programme's Monte Carlo (when it ran). */
export function programmeTotal(stages: { ev: StageEvaluation }[], mc?: ProgrammeFailureSummary | null): ProgrammeTotal {
  let idealDays = 0, gpuHours = 0, energyMWh = 0, cost = 0;
  let priced = true;
  for (const s of stages) {
    idealDays += s.ev.run.idealDays;
    gpuHours += s.ev.run.gpuHours;
    energyMWh += s.ev.run.energyMWh;
    if (s.ev.run.costUsd === null) priced = false;
    else cost += s.ev.run.costUsd;
  }
  const e = mc?.cost.expected;
  return {
    idealDays,
    expectedDays: mc ? mc.days.mean : null,
    p90Days: mc ? mc.days.p90 : null,
    gpuHours,
    expectedGpuHours: e ? e.gpuHours.mean : null,
    p90GpuHours: e ? e.gpuHours.p90 : null,
    costUsd: priced ? cost : null,
    expectedCostUsd: e?.costUsd ? e.costUsd.mean : null,
    p90CostUsd: e?.costUsd ? e.costUsd.p90 : null,
    energyMWh,
    note: mc
      ? `expected: the programme's failure Monte Carlo end to end (${formatInt(mc.trials)} trials, one failure timeline across the stages, relaunch at a change of layout or GPU count), spare nodes included`
      : 'expected: not available (the failure Monte Carlo did not run)',
  };
}

/** Kind, GPU count and parallel degrees: a stage whose key differs from the one before is a relaunch. */
export function layoutKey(st: ResolvedStage): string {
  const p = st.scenario.plan;
  return [st.kind === 'generate' ? 'generate' : 'train', st.scenario.cluster.gpus, p.tp, p.cp, p.pp, p.vpp, p.dp, p.ep].join('/');
}

/** Each stage as the programme's Monte Carlo needs it (throws the UserError of a stage without a failure profile or storage). */
export function programmeStageRuns(stages: { st: ResolvedStage; ev: StageEvaluation }[]): ProgrammeStageRun[] {
  return stages.map(({ st, ev }) => {
    const sc = st.scenario;
    const generate = st.kind === 'generate';
    return {
      index: st.index,
      name: st.name,
      kind: st.kind,
      ...(generate ? { fixedSeconds: ev.run.idealSeconds } : { inputs: runInputsFromScenario(sc, ev) }),
      gpus: sc.cluster.gpus,
      gpusPerNode: sc.node.gpusPerNode,
      spareNodes: sc.cluster.spareNodes,
      pricePerGpuHour: pricePerGpuHour(sc),
      spareBilling: sc.cluster.spareBilling ?? 'held',
      layoutKey: layoutKey(st),
    };
  });
}

export { pricePerGpuHour };

/**
 * What `--gpus N` does to a programme, beside the scenario's own --gpus note (io/load.ts: dp
 * re-derived, global batch and spare pool scaled): stages inherit the new GPU count, batch and
 * spares unless they set their own, which are kept as written. Names the stages that keep their
 * own GPU count.
 */
export function programmeResizeNote(sc: Scenario, stages: ResolvedStage[]): string {
  const own = stages.filter((st) => st.scenario.cluster.gpus !== sc.cluster.gpus);
  const kept = own.length === 0 ? 'every stage runs at it' : `${own.map((st) => `${st.name} (${formatInt(st.scenario.cluster.gpus)})`).join(', ')} keep${own.length === 1 ? 's' : ''} the GPU count ${own.length === 1 ? 'it sets' : 'they set'}`;
  return `--gpus on a programme: stages inherit the scenario's new GPU count, global batch and spare nodes unless they set their own, which are kept as written: ${kept}`;
}
