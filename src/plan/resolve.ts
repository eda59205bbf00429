/**
 * Turns validated inputs into the resolved Scenario the engines use: defaults filled in, the
 * layout checked (products, divisibility), and the pipeline split decided.
 */
import { UserError, UserErrors } from '../errors.js';
import type { Model } from '../schema/model.js';
import { resolveModel, type ResolvedModel } from '../model/resolved.js';
import { modelFacts } from '../model/facts.js';
import { forwardAttentionFlopsPerToken } from '../model/flops.js';

export { resolveModel, type ResolvedModel };
import type { Gpu, Node, Fabric } from '../schema/system.js';
import type { FailureProfile } from '../schema/failures.js';
import type { ScenarioInput } from '../schema/scenario.js';
import type { Plan, Training } from '../schema/plan.js';
import { formatInt } from '../units/format.js';


/**
 * The resolved plan. The sequence length is not on it: the resolver puts the stage's plan.seqLen
 * on the resolved model (ResolvedModel.seqLen), the one place every formula reads it from.
 */
export interface ResolvedPlan extends Omit<Plan, 'dp' | 'schedule' | 'sequenceParallel' | 'globalBatch' | 'layersPerStage' | 'etp' | 'seqLen'> {
  dp: number;
  etp: number;
  schedule: NonNullable<Plan['schedule']>;
  sequenceParallel: boolean;
  globalBatchSequences: number;
  /** Micro-batches each pipeline processes per step: globalBatch / (dp · microBatch). */
  numMicroBatches: number;
  /** Layers on each pipeline stage (length pp). */
  layersPerStage: number[];
}

export interface Scenario {
  name: string;
  file: string;
  model: ResolvedModel;
  gpu: Gpu;
  node: Node;
  fabric: Fabric;
  failures?: FailureProfile;
  cluster: Omit<ScenarioInput['cluster'], 'gpu' | 'node' | 'fabric' | 'failures' | 'gpus'> & { gpus: number; nodes: number };
  plan: ResolvedPlan;
  training: Training;
  simulation: ScenarioInput['simulation'];
  /** What the resolver filled in that the reader should know (a deprecated field used, a derived size); printed by evaluate. */
  notes?: string[];
}

/** A layout problem: which field and why. Searches keep these as values; explicit plans throw. */
export interface LayoutProblem {
  field: string;
  reason: string;
}

export interface ResolveInputs {
  input: ScenarioInput;
  model: Model;
  gpu: Gpu;
  node: Node;
  fabric: Fabric;
  failures?: FailureProfile;
}


/**
 * Splits `layers` over `pp` stages so that no stage carries more than it must, where the last
 * stage also carries `lastStageExtra` layer-equivalents of MTP modules. Every stage starts at the
 * smallest bound that fits; layers it does not need are given back from the last stage, then the
 * first, then the middle ones from the end. Without MTP this is Llama 3's split (§3.3.2: the first
 * and last stages, which hold the embedding and LM head, get one fewer layer); with DeepSeek-V3's
 * one MTP module it gives Megatron-Bridge's DeepSeek-V3 layouts (PP 16: fifteen stages of 4 and a
 * last stage of 1 + MTP + loss; PP 4: 16, 16, 16, 13).
 */
export function autoLayerSplit(layers: number, pp: number, lastStageExtra = 0): number[] {
  if (pp === 1) return [layers];
  const cap = (s: number, bound: number) => Math.max(1, Math.floor(s === pp - 1 ? bound - lastStageExtra + 1e-9 : bound));
  const capSum = (bound: number) => {
    let sum = 0;
    for (let s = 0; s < pp; s++) sum += cap(s, bound);
    return sum;
  };
  let bound = Math.ceil(layers / pp);
  while (capSum(bound) < layers) bound++;
  const split: number[] = [];
  for (let s = 0; s < pp; s++) split.push(cap(s, bound));
  let surplus = capSum(bound) - layers;
  // Give back from the last stage, then the first, then the middle ones from the end.
  const order = [pp - 1, 0];
  for (let s = pp - 2; s >= 1; s--) order.push(s);
  while (surplus > 0) {
    let moved = false;
    for (const s of order) {
      if (surplus === 0) break;
      if (split[s] > 1) {
        split[s]--;
        surplus--;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return split;
}

/** Forward FLOPs of the model's MTP modules (projection, block, LM head again) in units of an average layer's. */
export function mtpLayerEquivalents(model: ResolvedModel): number {
  const mtp = model.mtpLayers;
  if (mtp === 0) return 0;
  const c = modelFacts(model).params;
  const h = model.hidden;
  const layerMatmulParams = (c.active - c.embedding - c.lmHead - c.finalNorm - mtp * c.mtpModuleActive) / model.layers;
  const layerFlops = 2 * layerMatmulParams + forwardAttentionFlopsPerToken(model) / (model.layers + mtp);
  return (mtp * (2 * 2 * h * h + layerFlops + 2 * h * model.vocab)) / layerFlops;
}

/** Checks the layout and resolves the plan; returns problems instead of throwing. */
export function resolvePlan(plan: Plan, model: ResolvedModel, gpus: number): { plan?: ResolvedPlan; problems: LayoutProblem[] } {
  const problems: LayoutProblem[] = [];
  const { tp, cp, pp, vpp, ep, microBatch } = plan;
  const product = tp * cp * pp;
  const dp = plan.dp ?? gpus / product;
  if (model.heads % tp !== 0) problems.push({ field: 'plan.tp', reason: `tp (${tp}) must divide heads (${model.heads})` });
  if (model.kvHeads % tp !== 0 && tp % model.kvHeads !== 0) {
    problems.push({ field: 'plan.tp', reason: `tp (${tp}) must divide kvHeads (${model.kvHeads}) or be a multiple of it` });
  }
  if (plan.dp === undefined && !Number.isInteger(dp)) {
    problems.push({ field: 'plan', reason: `tp(${tp})·cp(${cp})·pp(${pp}) = ${product} does not divide ${gpus} GPUs` });
  } else if (product * dp !== gpus) {
    problems.push({ field: 'plan.dp', reason: `tp(${tp})·cp(${cp})·pp(${pp})·dp(${dp}) = ${product * dp} ≠ ${gpus} GPUs` });
  }
  if (model.seqLen % (cp > 1 ? 2 * cp : 1) !== 0) problems.push({ field: 'plan.cp', reason: `seqLen (${model.seqLen}) must divide into 2·cp = ${2 * cp} chunks` });
  if (model.moe) {
    if (model.moe.experts % ep !== 0) problems.push({ field: 'plan.ep', reason: `ep (${ep}) must divide experts (${model.moe.experts})` });
  } else if (ep !== 1) {
    problems.push({ field: 'plan.ep', reason: `ep is ${ep} but the model has no moe block` });
  }
  const etp = plan.etp ?? (ep > 1 ? 1 : tp);
  if (model.moe && Number.isInteger(dp) && (tp * cp * dp) % (ep * etp) !== 0) {
    problems.push({ field: 'plan.ep', reason: `ep(${ep})·etp(${etp}) must divide tp(${tp})·cp(${cp})·dp(${dp})` });
  }
  const schedule = plan.schedule ?? (vpp > 1 ? 'interleaved-1f1b' : '1f1b');
  if (vpp > 1 && schedule !== 'interleaved-1f1b') problems.push({ field: 'plan.vpp', reason: `vpp (${vpp}) > 1 needs schedule interleaved-1f1b, got ${schedule}` });
  if (vpp > 1 && pp === 1) problems.push({ field: 'plan.vpp', reason: 'virtual stages need pp > 1' });
  // DualPipe pairs rank s with rank pp − 1 − s and feeds half the micro-batches from each end (DeepSeek-V3 §3.2.1: stages and micro-batches divisible by 2).
  if (schedule === 'dualpipe' && pp > 1 && pp % 2 !== 0) problems.push({ field: 'plan.pp', reason: `dualpipe needs an even pp, got ${pp}` });

  let layersPerStage: number[] = [];
  if (plan.layersPerStage === undefined) {
    if (model.layers % pp !== 0) problems.push({ field: 'plan.pp', reason: `pp (${pp}) does not divide layers (${model.layers}); give plan.layersPerStage (a list, or "auto")` });
    else layersPerStage = new Array<number>(pp).fill(model.layers / pp);
  } else if (plan.layersPerStage === 'auto') {
    if (model.layers < pp) problems.push({ field: 'plan.pp', reason: `pp (${pp}) exceeds layers (${model.layers})` });
    else layersPerStage = autoLayerSplit(model.layers, pp, mtpLayerEquivalents(model));
  } else {
    layersPerStage = plan.layersPerStage;
    const sum = layersPerStage.reduce((a, b) => a + b, 0);
    if (layersPerStage.length !== pp) problems.push({ field: 'plan.layersPerStage', reason: `has ${layersPerStage.length} entries, pp is ${pp}` });
    else if (sum !== model.layers) problems.push({ field: 'plan.layersPerStage', reason: `sums to ${sum}, the model has ${model.layers} layers` });
  }
  if (vpp > 1 && layersPerStage.length > 0 && layersPerStage.some((l) => l + 2 < vpp)) {
    problems.push({ field: 'plan.vpp', reason: `vpp (${vpp}) exceeds the layers on a stage (${Math.min(...layersPerStage)})` });
  }

  const gb = plan.globalBatch;
  let globalBatchSequences: number;
  if (typeof gb === 'number') globalBatchSequences = gb;
  else if ('sequences' in gb) globalBatchSequences = gb.sequences;
  else {
    globalBatchSequences = gb.tokens / model.seqLen;
    if (!Number.isInteger(globalBatchSequences)) problems.push({ field: 'plan.globalBatch.tokens', reason: `${gb.tokens} tokens is not a whole number of ${model.seqLen}-token sequences` });
  }
  const numMicroBatches = globalBatchSequences / (dp * microBatch);
  if (Number.isInteger(dp) && Number.isInteger(globalBatchSequences) && !Number.isInteger(numMicroBatches)) {
    problems.push({ field: 'plan.globalBatch', reason: `global batch (${globalBatchSequences} sequences) is not divisible by dp(${dp})·microBatch(${microBatch}) = ${dp * microBatch}` });
  }
  if (schedule === 'dualpipe' && pp > 1 && Number.isInteger(numMicroBatches) && numMicroBatches % 2 !== 0) {
    problems.push({ field: 'plan.globalBatch', reason: `dualpipe feeds half the micro-batches from each end: ${numMicroBatches} micro-batches per pipeline is odd` });
  }
  if (problems.length > 0) return { problems };
  // Every field listed (the mapped type makes a new Plan field a compile error here): object rest
  // and spread of the plan cost a layout search several microseconds per candidate.
  const resolved: { [K in keyof Required<ResolvedPlan>]: ResolvedPlan[K] } = {
    tp,
    cp,
    pp,
    vpp,
    schedule,
    dp,
    zeroStage: plan.zeroStage,
    ep,
    etp,
    microBatch,
    recompute: plan.recompute,
    recomputeModules: plan.recomputeModules,
    precision: plan.precision,
    sequenceParallel: plan.sequenceParallel ?? tp > 1,
    attentionKernel: plan.attentionKernel,
    elementwise: plan.elementwise,
    cudaGraphs: plan.cudaGraphs,
    cpMethod: plan.cpMethod,
    overlap: plan.overlap,
    gradientAccumulationFp32: plan.gradientAccumulationFp32,
    gradReduceFp32: plan.gradReduceFp32,
    offloadLayers: plan.offloadLayers,
    fp8PrimaryWeights: plan.fp8PrimaryWeights,
    fp8Recipe: plan.fp8Recipe,
    fp8Casts: plan.fp8Casts,
    fp8WeightCast: plan.fp8WeightCast,
    expandableSegments: plan.expandableSegments,
    optimizerMoments: plan.optimizerMoments,
    fp8ActivationCache: plan.fp8ActivationCache,
    crossEntropy: plan.crossEntropy,
    moeRouting: plan.moeRouting,
    globalBatchSequences,
    numMicroBatches,
    layersPerStage,
  };
  return { problems, plan: resolved };
}

/** Layout problems as one error: a single problem is one UserError line; several are one line each. */
export function layoutError(problems: LayoutProblem[], file: string): UserError {
  const errors = problems.map((p) => new UserError(p.reason, file, p.field));
  return errors.length === 1 ? errors[0] : new UserErrors(errors);
}

/**
 * The sequence length of the run: plan.seqLen, else the model file's deprecated seqLen (with a
 * note saying where it belongs now), else a UserError naming plan.seqLen.
 */
export function stageSeqLen(plan: Pick<Plan, 'seqLen'>, model: Model, file: string, notes: string[]): number {
  if (plan.seqLen !== undefined) return plan.seqLen;
  if (model.seqLen !== undefined) {
    notes.push(`model.seqLen (${formatInt(model.seqLen)}) is deprecated and was used as plan.seqLen: the sequence length belongs to the plan, so one model file serves every context length; move it there`);
    return model.seqLen;
  }
  throw new UserError('is required: the training sequence length in tokens (it moved from the model file to the plan)', file, 'plan.seqLen');
}

/**
 * The job's GPU count: cluster.gpus, or with `gpus: auto` the fixed layout's tp·cp·pp·dp (dp must
 * then be given: there is nothing for it to be "what is left" of).
 */
export function clusterGpus(input: ScenarioInput, file: string): number {
  const g = input.cluster.gpus;
  if (g !== 'auto') return g;
  const { tp, cp, pp, dp } = input.plan;
  if (dp === undefined) throw new UserError('gpus: auto needs a fixed layout: give plan.dp (both cannot be "auto")', file, 'cluster.gpus');
  return tp * cp * pp * dp;
}

/** Resolves a validated scenario; impossible layouts throw a UserError naming each problem's field (one line each). */
export function resolveScenario(r: ResolveInputs, file: string): Scenario {
  const { input } = r;
  const notes: string[] = [];
  const model = resolveModel(r.model, stageSeqLen(input.plan, r.model, file, notes));
  const gpus = clusterGpus(input, file);
  const { plan, problems } = resolvePlan(input.plan, model, gpus);
  if (!plan) throw layoutError(problems, file);
  const gpusPerNode = r.node.gpusPerNode;
  const { gpu: _g, node: _n, fabric: _f, failures: _x, ...cluster } = input.cluster;
  return {
    name: input.name ?? file.replace(/^.*\//, '').replace(/\.(ya?ml|json)$/, ''),
    file,
    model,
    gpu: r.gpu,
    node: r.node,
    fabric: r.fabric,
    failures: r.failures,
    cluster: { ...cluster, gpus, nodes: Math.ceil(gpus / gpusPerNode) },
    plan,
    training: input.training,
    simulation: input.simulation,
    ...(notes.length > 0 ? { notes } : {}),
  };
}
