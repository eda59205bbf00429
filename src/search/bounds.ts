/**
 * A candidate as a scenario, and the cheap bounds that let a search skip most of them:
 * - a lower bound on the closed-form step time, from one step-cost evaluation per "layer key"
 *   (tp, cp, micro-batch, recompute, precision, ep, etp) instead of one per plan;
 * - a lower bound on the peak memory per GPU (pipeline stage 0 without its transient buffers).
 * Both are true lower bounds of what `evaluate` computes (test/search/bounds.test.ts checks every
 * candidate of small spaces), so pruning with them never drops a plan that belongs in the top K.
 */
import { resolvePlan, autoLayerSplit, mtpLayerEquivalents, type Scenario, type ResolvedPlan, type ResolvedModel, type LayoutProblem } from '../plan/resolve.js';
import { layerActivationBytesPerToken, inFlightMicroBatches, stateBytesPerParam, allocatorSlackFraction, lowPrecisionWeightBytes } from '../plan/memory.js';
import { stageShards, stageExtrasParams, expertDataParallel, tokensPerMicroBatch } from '../plan/layout.js';
import { isMoeLayer } from '../model/params.js';
import { modelFacts } from '../model/facts.js';
import type { Plan } from '../schema/plan.js';
import { stepCosts } from '../step/costs.js';
import { stageTimes, exposedDpSeconds } from '../step/analytic.js';
import type { Candidate, ClusterSize, PlanChoice } from './space.js';

/** The scenario's plan input with a candidate's layout choices; software settings (overlap, kernels, CP method) stay the scenario's. */
export function candidatePlan(sc: Scenario, c: PlanChoice, globalBatchSequences: number): Plan {
  const base = sc.plan;
  const layers = sc.model.layers;
  // A plain spread of the scenario's plan (a fast object clone) with the choices over it, every
  // software setting carried as it is; the resolved-only counts are blanked for resolvePlan to
  // derive again. (An object rest that leaves keys out took tens of microseconds per call.)
  return {
    ...base,
    tp: c.tp, cp: c.cp, pp: c.pp, vpp: c.vpp, dp: c.dp, ep: c.ep, etp: c.etp, zeroStage: c.zeroStage, microBatch: c.microBatch,
    recompute: c.recompute, schedule: c.schedule, precision: c.precision,
    // Megatron's module list is the scenario's when it already recomputes selectively.
    recomputeModules: c.recompute === 'selective' && base.recompute === 'selective' ? base.recomputeModules : undefined,
    // A scenario that turns sequence parallelism off with TP (a 2021 stack) keeps it off.
    sequenceParallel: !base.sequenceParallel && base.tp > 1 ? false : undefined,
    globalBatch: { sequences: globalBatchSequences },
    // The scenario's own split at its pp; otherwise even, or uneven (first and last stages lighter) when pp does not divide the layers.
    layersPerStage: c.pp === base.pp ? base.layersPerStage : layers % c.pp === 0 ? undefined : 'auto',
    globalBatchSequences: undefined,
    numMicroBatches: undefined,
  } as Plan;
}

/** The scenario with a candidate's plan on a cluster of `size`; layout problems instead of a scenario when resolvePlan refuses it. */
export function candidateScenario(sc: Scenario, c: PlanChoice, size: ClusterSize): { scenario?: Scenario; problems: LayoutProblem[] } {
  const { plan, problems } = resolvePlan(candidatePlan(sc, c, size.globalBatchSequences), sc.model, size.gpus);
  if (!plan) return { problems };
  return {
    problems,
    scenario: { ...sc, plan, cluster: { ...sc.cluster, gpus: size.gpus, nodes: Math.ceil(size.gpus / sc.node.gpusPerNode), spareNodes: size.spareNodes } },
  };
}

const RECOMPUTE_INDEX: Record<Plan['recompute'], number> = { none: 0, selective: 1, 'op-sac': 2, full: 3 };
const PRECISION_INDEX: Record<Plan['precision'], number> = { bf16: 0, fp8: 1, fp4: 2 };
const SCHEDULE_INDEX: Record<PlanChoice['schedule'], number> = { '1f1b': 0, 'interleaved-1f1b': 1, 'zero-bubble': 2, gpipe: 3, dualpipe: 4 };

interface LayerKeyFacts {
  /** Σ over all stages of one micro-batch's forward + backward (input and weight) seconds. */
  sumSeconds: number;
  /** Σ over all stages of forward + backward-input − backward-weight: what ZB-H1's fill adds. */
  zeroBubbleFillSeconds: number;
  /** One layer's forward and backward seconds by kind. */
  dense: { f: number; b: number };
  moe: { f: number; b: number };
  /** Embedding and LM head (+ MTP) per micro-batch. */
  extraForwardSeconds: number;
  extraBackwardSeconds: number;
}

/** Stage 0 of a (tp, pp, ep, etp): its layers, MoE layers and per-GPU parameters. */
interface Stage0Facts {
  tp: number;
  pp: number;
  ep: number;
  etp: number;
  layers: number;
  denseParams: number;
  expertParams: number;
  moeLayers: number;
  /** Of denseParams, the embedding (and LM head when pp is 1). */
  extras: number;
}

/** Stage 0's activation bytes per token at a (tp, recompute, pp, precision). */
interface ActivationFacts {
  storedPerToken: number;
  /** The smallest layer's stored bytes per token among the kinds stage 0 holds (a lower bound per layer of any chunk). */
  minStoredPerLayer: number;
  transientPerToken: number;
  layerWeights: number;
}

/** Memoised bounds for one scenario. */
export class Bounds {
  /** Layer-key facts by (gpus, tp, cp, ep, etp), then by (micro-batch, recompute, precision) as one number. */
  private readonly layerFacts = new Map<string, Map<number, LayerKeyFacts>>();
  /** The last outer layer key looked up: consecutive candidates share it (enumeration order), so most look-ups build no string. */
  private lastOuter: { gpus: number; tp: number; cp: number; ep: number; etp: number; inner: Map<number, LayerKeyFacts> } | null = null;
  /** Micro-batches stage 0 holds, by (pp, vpp, schedule) and m: inFlightMicroBatches derives a whole pipeline shape per call. */
  private readonly held = new Map<number, Map<number, number>>();
  private readonly lastHeld = { shape: -1, m: -1, held: 0 };
  /** stateBytesPerParam by ZeRO stage · 4 + precision index. */
  private readonly stateBytes: ReturnType<typeof stateBytesPerParam>[] = [];
  private last0: Stage0Facts | null = null;
  private readonly seqLen: number;
  private readonly offloadLayers: number;
  private readonly fragmentationFactor: number;
  private readonly reservedBytes: number;
  private readonly dpFacts = new Map<string, { gatherSeconds: number; gradientSeconds: number; perMicroBatch: boolean; optimizerSeconds: number }>();
  private readonly split = new Map<number, number[]>();
  private readonly stage0 = new Map<number, Stage0Facts>();
  private readonly act = new Map<number, ActivationFacts>();

  constructor(private readonly sc: Scenario) {
    this.seqLen = sc.model.seqLen;
    this.offloadLayers = sc.plan.offloadLayers;
    this.fragmentationFactor = 1 + allocatorSlackFraction(sc.plan, sc.gpu);
    this.reservedBytes = sc.gpu.memory.reserved;
    for (let z = 0; z <= 3; z++) {
      for (const precision of ['bf16', 'fp8', 'fp4'] as const) {
        this.stateBytes[z * 4 + PRECISION_INDEX[precision]] = stateBytesPerParam({ zeroStage: z, precision, fp8PrimaryWeights: sc.plan.fp8PrimaryWeights, gradientAccumulationFp32: sc.plan.gradientAccumulationFp32, fp8Recipe: sc.plan.fp8Recipe, optimizerMoments: sc.plan.optimizerMoments }, sc.gpu);
      }
    }
  }

  /** Layers on each stage, as candidateScenario's plan resolves them. */
  layersPerStage(pp: number): number[] {
    let s = this.split.get(pp);
    if (!s) {
      const L = this.sc.model.layers;
      s = pp === this.sc.plan.pp ? this.sc.plan.layersPerStage : L % pp === 0 ? new Array<number>(pp).fill(L / pp) : autoLayerSplit(L, pp, mtpLayerEquivalents(this.sc.model));
      this.split.set(pp, s);
    }
    return s;
  }

  /**
   * Step-time facts of the candidate's layer key (tp, cp, micro-batch, recompute, precision, ep,
   * etp), from one step-cost evaluation at pp = 1 and ZeRO 0. Layer and embedding/LM-head costs do
   * not depend on pp, dp or the schedule, and ZeRO-3 only adds to them (by at most the profile's
   * overlapSlowdown share), so they bound every candidate with this key.
   */
  private layerKey(c: Candidate): LayerKeyFacts {
    let o = this.lastOuter;
    if (o === null || o.gpus !== c.gpus || o.tp !== c.tp || o.cp !== c.cp || o.ep !== c.ep || o.etp !== c.etp) {
      const outerKey = `${c.gpus}|${c.tp}|${c.cp}|${c.ep}|${c.etp}`;
      let inner = this.layerFacts.get(outerKey);
      if (!inner) this.layerFacts.set(outerKey, (inner = new Map()));
      o = this.lastOuter = { gpus: c.gpus, tp: c.tp, cp: c.cp, ep: c.ep, etp: c.etp, inner };
    }
    const key = (c.microBatch * 4 + RECOMPUTE_INDEX[c.recompute]) * 4 + PRECISION_INDEX[c.precision];
    let f = o.inner.get(key);
    if (!f) {
      const dp = c.gpus / (c.tp * c.cp);
      const ksc = this.keyScenario({ ...c, pp: 1, vpp: 1, schedule: '1f1b', dp, zeroStage: 0 }, dp * c.microBatch, true);
      // Per-layer costs do not depend on the number of layers: cost them on the fewest layers
      // that hold every layer kind (and the last layer's kind, which the MTP modules copy).
      const small: Scenario = { ...ksc, model: this.shortModel(), plan: { ...ksc.plan, layersPerStage: [this.shortModel().layers] } };
      const costs = stepCosts(small);
      const st = costs.stages[0];
      // One layer of each kind through the same stage-time rules (exposed in-layer communication included).
      const one = (moe: boolean) => {
        const layer = st.layers.find((l) => l.moe === moe);
        if (!layer) return { f: 0, bi: 0, w: 0 };
        const t = stageTimes(small, { ...costs, stages: [{ ...st, layers: [layer], extraForwardSeconds: 0, extraBackwardSeconds: 0 }] })[0];
        return { f: t.forwardSeconds, bi: t.backwardInputSeconds, w: t.backwardWeightSeconds };
      };
      const dense = one(false);
      const moe = one(true);
      const { denseLayers, moeLayers } = this.layerCounts();
      const sum = (g: (x: { f: number; bi: number; w: number }) => number) => denseLayers * g(dense) + moeLayers * g(moe);
      f = {
        sumSeconds: sum((x) => x.f + x.bi + x.w) + st.extraForwardSeconds + st.extraBackwardSeconds,
        zeroBubbleFillSeconds: sum((x) => x.f + x.bi - x.w) + st.extraForwardSeconds + st.extraBackwardSeconds,
        dense: { f: dense.f, b: dense.bi + dense.w },
        moe: { f: moe.f, b: moe.bi + moe.w },
        extraForwardSeconds: st.extraForwardSeconds,
        extraBackwardSeconds: st.extraBackwardSeconds,
      };
      o.inner.set(key, f);
    }
    return f;
  }

  private short?: ResolvedModel;
  /** The model cut to its first n layers, n the fewest that hold each layer kind it has and end on its last layer's kind. */
  private shortModel(): ResolvedModel {
    if (!this.short) {
      const m = this.sc.model;
      const { denseLayers, moeLayers } = this.layerCounts();
      const lastMoe = isMoeLayer(m, m.layers - 1);
      let n = 1;
      for (; n < m.layers; n++) {
        let d = 0;
        let e = 0;
        for (let i = 0; i < n; i++) (isMoeLayer(m, i) ? e++ : d++);
        if ((d > 0 || denseLayers === 0) && (e > 0 || moeLayers === 0) && isMoeLayer(m, n - 1) === lastMoe) break;
      }
      this.short = { ...m, layers: n };
    }
    return this.short;
  }

  private counts?: { denseLayers: number; moeLayers: number };
  private layerCounts(): { denseLayers: number; moeLayers: number } {
    if (!this.counts) {
      const p = modelFacts(this.sc.model).params;
      this.counts = { denseLayers: p.denseLayers, moeLayers: p.moeLayers };
    }
    return this.counts;
  }

  /** Stage 0's DP collectives and optimizer step for the candidate's (tp, cp, pp, dp, ep, etp, ZeRO): they depend on nothing else. */
  private dpKey(c: Candidate): { gatherSeconds: number; gradientSeconds: number; perMicroBatch: boolean; optimizerSeconds: number } {
    const key = `${c.gpus}|${c.tp}|${c.cp}|${c.pp}|${c.ep}|${c.etp}|${c.zeroStage}`;
    let f = this.dpFacts.get(key);
    if (!f) {
      const costs = stepCosts(this.keyScenario({ ...c, vpp: 1, schedule: '1f1b', microBatch: 1, recompute: 'none', precision: 'bf16' }, c.dp, false));
      const d = costs.dp[0];
      f = { gatherSeconds: d.paramGatherSeconds, gradientSeconds: d.gradientSeconds, perMicroBatch: d.perMicroBatch, optimizerSeconds: costs.optimizerSeconds[0] };
      this.dpFacts.set(key, f);
    }
    return f;
  }

  private keyScenario(choice: PlanChoice & { gpus: number }, sequences: number, evenSplit: boolean): Scenario {
    const plan = candidatePlan(this.sc, choice, sequences);
    if (evenSplit) plan.layersPerStage = undefined;
    const r = resolvePlan(plan, this.sc.model, choice.gpus);
    if (!r.plan) throw new Error(`internal: key plan refused: ${r.problems.map((p) => p.reason).join('; ')}`);
    return { ...this.sc, plan: r.plan, cluster: { ...this.sc.cluster, gpus: choice.gpus, nodes: Math.ceil(choice.gpus / this.sc.node.gpusPerNode) } };
  }

  /**
   * Lower bound on the closed-form step time (analyticStep), each term a lower bound of its own:
   * - pipeline: with S the key's sum over stages, the slowest stage takes at least S/pp per
   *   micro-batch, so 1F1B and interleaved take at least (S/pp)·(m + (pp-1)/v) (Narayanan et al.
   *   2021 §2.2's bubble with balanced stages); zero-bubble at least m·S/pp and (m-1)·S/pp + Σ(F + B - W) (its fill, Qi et al. 2024, less the slowest stage's share);
   * - DP: what stage 0 (which has no drain slack) leaves exposed, with its forward and backward
   *   times bounded from above;
   * - optimizer: stage 0's step (the closed form takes the slowest stage's);
   * - PP sends only add.
   */
  stepSecondsLowerBound(c: Candidate): number {
    return this.pipelineSecondsLowerBound(c) + this.dpSecondsLowerBound(c);
  }

  /** The pipeline term alone (no DP collectives or optimizer): a weaker bound, at one memo look-up. */
  pipelineSecondsLowerBound(c: Candidate): number {
    const k = this.layerKey(c);
    const S = k.sumSeconds;
    const m = c.globalBatchSequences / (c.dp * c.microBatch);
    if (c.pp === 1) return m * S;
    if (c.schedule === 'zero-bubble') return Math.max((m * S) / c.pp, ((m - 1) * S) / c.pp + k.zeroBubbleFillSeconds);
    return (S / c.pp) * (m + (c.pp - 1) / (c.schedule === 'interleaved-1f1b' ? c.vpp : 1));
  }

  /** The DP and optimizer terms of the bound. */
  private dpSecondsLowerBound(c: Candidate): number {
    const k = this.layerKey(c);
    const m = c.globalBatchSequences / (c.dp * c.microBatch);
    const d = this.dpKey(c);
    // Stage 0's forward and backward per micro-batch, from above: its layers, the embedding and LM
    // head (only the embedding is there when pp > 1), and ZeRO-3's overlap slowdown.
    const l0 = this.layersPerStage(c.pp)[0];
    const moe0 = this.stage0Facts(c).moeLayers;
    const grow = c.zeroStage >= 3 ? 1 + this.sc.gpu.efficiency.overlapSlowdown : 1;
    const fwd = grow * ((l0 - moe0) * k.dense.f + moe0 * k.moe.f + k.extraForwardSeconds);
    const bwd = grow * ((l0 - moe0) * k.dense.b + moe0 * k.moe.b + k.extraBackwardSeconds);
    // The exposed DP time of analyticStep's stage 0 (slack 0), at these times.
    const dp = exposedDpSeconds(
      { paramGatherSeconds: d.gatherSeconds, gradientSeconds: d.gradientSeconds, perMicroBatch: d.perMicroBatch },
      // Interleaved, the last micro-batch group (pp micro-batches: the space keeps m a multiple of pp) covers the early chunks.
      { microBatches: m, forwardSeconds: fwd, backwardSeconds: bwd, layers: l0, overlap: this.sc.plan.overlap.dp, coverMicroBatches: c.schedule === 'interleaved-1f1b' && c.pp > 1 ? Math.min(m, c.pp) : 1 },
    );
    return Math.max(0, dp) + d.optimizerSeconds;
  }

  private stage0Facts(c: Pick<PlanChoice, 'tp' | 'pp' | 'ep' | 'etp'>): Stage0Facts {
    const last = this.last0;
    if (last !== null && last.tp === c.tp && last.pp === c.pp && last.ep === c.ep && last.etp === c.etp) return last;
    const pkey = ((c.tp * 16385 + c.pp) * 65537 + c.ep) * 1025 + c.etp;
    let st = this.stage0.get(pkey);
    if (!st) {
      const split = this.layersPerStage(c.pp);
      const l0 = split[0];
      const p = stageShards(this.sc.model, { tp: c.tp, pp: c.pp, ep: c.ep, etp: c.etp, layersPerStage: split })[0];
      let moeLayers = 0;
      for (let i = 0; i < l0; i++) if (isMoeLayer(this.sc.model, i)) moeLayers++;
      st = { tp: c.tp, pp: c.pp, ep: c.ep, etp: c.etp, layers: l0, denseParams: p.denseParams, expertParams: p.expertParams, moeLayers, extras: stageExtrasParams(this.sc.model, c.tp, c.pp, 0) };
      this.stage0.set(pkey, st);
    }
    this.last0 = st;
    return st;
  }

  /** Micro-batches stage 0 holds at its peak (inFlightMicroBatches), memoised: the pipeline shape it derives costs O(pp + m). */
  private heldMicroBatches(c: Pick<PlanChoice, 'pp' | 'vpp' | 'schedule'>, m: number): number {
    // Consecutive candidates (recompute and precision vary fastest) share the last answer; the memo
    // is keyed by small integers, (pp, vpp, schedule) then m, which need no heap numbers.
    const shape = (c.pp * 1024 + c.vpp) * 8 + SCHEDULE_INDEX[c.schedule];
    const last = this.lastHeld;
    if (last.shape === shape && last.m === m) return last.held;
    let byM = this.held.get(shape);
    if (!byM) this.held.set(shape, (byM = new Map()));
    let h = byM.get(m);
    if (h === undefined) byM.set(m, (h = inFlightMicroBatches({ pp: c.pp, vpp: c.vpp, schedule: c.schedule, numMicroBatches: m }, 0)));
    last.shape = shape;
    last.m = m;
    last.held = h;
    return h;
  }

  /**
   * Lower bound on the peak memory per GPU (estimateMemory): stage 0's weights, gradients,
   * optimizer state, stored activations with the embedding output, the working set of one layer,
   * the framework reserve and fragmentation (the peak stage holds at least as much as stage 0).
   */
  memoryBytesLowerBound(c: Candidate): number {
    const st = this.stage0Facts(c);
    const l0 = st.layers;
    const akey = ((c.tp * 4 + RECOMPUTE_INDEX[c.recompute]) * 16385 + c.pp) * 4 + PRECISION_INDEX[c.precision];
    const a = this.act.get(akey) ?? this.activationFacts(c, st, akey);
    const expertDp = expertDataParallel(c);
    const dpCp = c.dp * c.cp;
    const tokens = tokensPerMicroBatch(this.seqLen, c);
    const m = c.globalBatchSequences / (c.dp * c.microBatch);
    const z = c.zeroStage;
    const b = this.stateBytes[z * 4 + PRECISION_INDEX[c.precision]];
    // The embedding and LM head weights keep no low-precision copy (b.extrasWeights).
    const states =
      b.weights * ((st.denseParams - st.extras) / (z >= 3 ? dpCp : 1) + st.expertParams / (z >= 3 ? expertDp : 1)) +
      (b.extrasWeights * st.extras) / (z >= 3 ? dpCp : 1) +
      b.gradients * (st.denseParams / (z >= 2 ? dpCp : 1) + st.expertParams / (z >= 2 ? expertDp : 1)) +
      b.optimizer * (st.denseParams / (z >= 1 ? dpCp : 1) + st.expertParams / (z >= 1 ? expertDp : 1));
    const held = this.heldMicroBatches(c, m);
    // Stored activations and the working set of the layer being computed. With one model chunk
    // and no offload, stage 0's layers times the micro-batches held; otherwise (estimateMemory
    // weighs each chunk by the micro-batches of it held at the peak, and CPU offload keeps the
    // layers of a chunk it does not offload) the smallest chunk's resident layers at the
    // smallest layer's bytes, for every micro-chunk held.
    const vpp = c.schedule === 'interleaved-1f1b' && c.pp > 1 ? c.vpp : 1;
    const minChunk = Math.floor(l0 / vpp);
    const stored = vpp === 1 && this.offloadLayers === 0 ? a.storedPerToken * held : (minChunk - Math.min(this.offloadLayers, minChunk)) * a.minStoredPerLayer * held * vpp;
    const gathered = this.sc.plan.fp8PrimaryWeights && c.precision !== 'bf16' ? lowPrecisionWeightBytes({ precision: c.precision, fp8Recipe: this.sc.plan.fp8Recipe }, this.sc.gpu) : 2;
    const acts = stored * tokens + a.transientPerToken * tokens + (z >= 3 ? 2 * gathered * a.layerWeights : 0);
    return (states + acts) * this.fragmentationFactor + this.reservedBytes;
  }

  /** Stage 0's activation bytes per token at the candidate's (tp, recompute, pp, precision); sequence parallelism as candidatePlan resolves it. */
  private activationFacts(c: Candidate, st: Stage0Facts, akey: number): ActivationFacts {
    const sc = this.sc;
    const model = sc.model;
    const l0 = st.layers;
    const sp = c.tp > 1 && (sc.plan.sequenceParallel || sc.plan.tp === 1);
    const planLike = { tp: c.tp, sequenceParallel: sp, recompute: c.recompute, attentionKernel: sc.plan.attentionKernel, recomputeModules: c.recompute === 'selective' && sc.plan.recompute === 'selective' ? sc.plan.recomputeModules : undefined, precision: c.precision, fp8Recipe: sc.plan.fp8Recipe, fp8ActivationCache: sc.plan.fp8ActivationCache };
    const dense = layerActivationBytesPerToken(model, planLike, false);
    const moe = model.moe ? layerActivationBytesPerToken(model, planLike, true) : dense;
    const p = modelFacts(model).params;
    // Stage 0 holds at least one layer; its working set is at least the smaller of the kinds it holds.
    const working = st.moeLayers === 0 ? dense.workingBytes : st.moeLayers === l0 ? moe.workingBytes : Math.min(dense.workingBytes, moe.workingBytes);
    const a: ActivationFacts = {
      storedPerToken: (l0 - st.moeLayers) * dense.storedBytes + st.moeLayers * moe.storedBytes,
      minStoredPerLayer: st.moeLayers === 0 ? dense.storedBytes : st.moeLayers === l0 ? moe.storedBytes : Math.min(dense.storedBytes, moe.storedBytes),
      transientPerToken: working,
      layerWeights: (p.attentionPerLayer + p.denseMlpPerLayer) / c.tp,
    };
    this.act.set(akey, a);
    return a;
  }
}
