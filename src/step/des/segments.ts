/**
 * Per-layer pieces of every pass of the DES: each layer's phase time under the overlap rules
 * (overlap.ts), scaled by the straggler and throughput-variation factors, with its share of the
 * rank's parameters (the DP bucket weight, from the plan's layout).
 */
import type { Scenario } from '../../plan/resolve.js';
import { planLayout } from '../../plan/layout.js';
import type { LayerCost, StepCosts } from '../costs.js';
import { exposedLayerComm, epHiddenShare } from '../overlap.js';
import type { Phase } from '../schedules.js';
import type { ChunkLayout } from './chunks.js';

/** One layer's (or the extras') time in one phase: compute, exposed collectives by kind, and the collectives' full length. */
export interface PhaseTimes {
  computeSeconds: number;
  tpSeconds: number;
  cpSeconds: number;
  epSeconds: number;
  /** Total TP/CP/EP collective time (exposed or hidden), for the trace's TP stream. */
  collectiveSeconds: number;
}

/** Per-layer phase time under the plan's overlap rules; `zb` separates W from B. Unscaled. */
export function layerPhaseTimes(l: LayerCost, phase: Phase, overlapTp: boolean, cpRing: boolean, zb: boolean, epHidden = 0): PhaseTimes {
  const e = exposedLayerComm(l, overlapTp, cpRing, epHidden);
  if (phase === 'F') {
    return { computeSeconds: l.forwardSeconds, tpSeconds: e.tpF, cpSeconds: e.cpF, epSeconds: e.epF, collectiveSeconds: l.tpForwardCommSeconds + l.cpForwardCommSeconds + l.epForwardCommSeconds };
  }
  if (phase === 'W') return { computeSeconds: l.backwardWeightSeconds, tpSeconds: 0, cpSeconds: 0, epSeconds: 0, collectiveSeconds: 0 };
  return {
    computeSeconds: l.backwardInputSeconds + l.recomputeSeconds + (zb ? 0 : l.backwardWeightSeconds),
    tpSeconds: e.tpB,
    cpSeconds: e.cpB,
    epSeconds: e.epB,
    collectiveSeconds: l.tpBackwardCommSeconds + l.cpBackwardCommSeconds + l.epBackwardCommSeconds,
  };
}

/**
 * One piece of a chunk's pass, in execution order: a layer, or the rank's extra work (embedding
 * on the first rank, LM head + loss on the last; both on a single rank). Times are scaled by the
 * straggler and variation factors; `total` is what the compute stream spends on it.
 */
export interface Segment {
  /** Model layer index, or -1 for the extras. */
  layer: number;
  name: string;
  total: number;
  compute: number;
  tp: number;
  cp: number;
  ep: number;
  /** TP/CP/EP collective time including the hidden part (trace only). */
  collective: number;
  /** Share of the rank's parameters (DP bucket weight). */
  paramShare: number;
}

/** Segments of every (rank, chunk, phase): [stage][chunk][phase index F=0, B=1, W=2]. */
export function buildSegments(sc: Scenario, costs: StepCosts, chunks: ChunkLayout[][], zb: boolean, f: StageFactors): Segment[][][][] {
  const { model, plan } = sc;
  const overlapTp = plan.overlap.tp;
  const cpRing = plan.cpMethod === 'ring';
  const epHidden = epHiddenShare(sc);
  const pp = chunks.length;
  const layout = planLayout(model, plan);
  const { dense, moe } = layout.layerShards;
  const layerParams = (l: LayerCost) => {
    const shard = l.moe && moe ? moe : dense;
    return shard.denseParams + shard.expertParams;
  };
  const extrasName = pp === 1 ? 'embedding + LM head' : null;
  const phases: Phase[] = ['F', 'B', 'W'];
  return chunks.map((row, s) => {
    const slow = s === f.slowStage ? f.slowFactor : 1;
    const cf = f.computeFactor * slow;
    // The rank's parameters: those of every stage its chunks run (two under DualPipe).
    const costStages = [...new Set(row.map((ch) => ch.costStage ?? s))];
    let stageParams = 0;
    for (const cs of costStages) {
      stageParams += layout.extrasParams[cs];
      for (const l of costs.stages[cs].layers) stageParams += layerParams(l);
    }
    const share = (p: number) => (stageParams > 0 ? p / stageParams : 0);
    return row.map((ch) => {
      const cs = ch.costStage ?? s;
      const st = costs.stages[cs];
      const extrasParams = layout.extrasParams[cs];
      return phases.map((phase) => {
        const segs: Segment[] = [];
        for (let k = 0; k < ch.numLayers; k++) {
          const l = st.layers[ch.firstLocalLayer + k];
          const t = layerPhaseTimes(l, phase, overlapTp, cpRing, zb, epHidden);
          const seg: Segment = {
            layer: ch.firstGlobalLayer + k,
            name: `L${ch.firstGlobalLayer + k}`,
            compute: t.computeSeconds * cf,
            tp: t.tpSeconds * slow,
            cp: t.cpSeconds * slow,
            ep: t.epSeconds * slow,
            total: 0,
            collective: t.collectiveSeconds * slow,
            paramShare: share(layerParams(l)),
          };
          seg.total = seg.compute + seg.tp + seg.cp + seg.ep;
          segs.push(seg);
        }
        if (ch.extras) {
          const x = (phase === 'F' ? st.extraForwardSeconds : phase === 'B' ? st.extraBackwardSeconds : 0) * cf;
          const seg: Segment = { layer: -1, name: extrasName ?? (cs === 0 ? 'embedding' : 'LM head + loss'), compute: x, tp: 0, cp: 0, ep: 0, total: x, collective: 0, paramShare: share(extrasParams) };
          // Forward: embedding first, LM head last; backward the reverse (single-rank: at the end of F).
          const atStart = cs === 0 && pp > 1;
          if (phase === 'F' ? atStart : !atStart) segs.unshift(seg);
          else segs.push(seg);
        }
        if (phase !== 'F') {
          // Backward runs the layers last to first (the extras were placed above).
          const ex = segs.findIndex((g) => g.layer < 0);
          const layers = segs.filter((g) => g.layer >= 0).reverse();
          if (ex < 0) return layers;
          return ex === 0 ? [segs[0], ...layers] : [...layers, segs[ex]];
        }
        return segs;
      });
    });
  });
}

export interface StageFactors {
  slowStage: number;
  slowFactor: number;
  computeFactor: number;
}

/** Straggler rank and time multipliers from scenario.simulation (see the header comment). */
export function stageFactors(sc: Scenario, costs: StepCosts): StageFactors {
  const sim = sc.simulation;
  const computeFactor = 1 + (sim?.throughputVariation ?? 0) / 2;
  const x = sim?.stragglerSlowdown ?? 0;
  if (!(x > 0)) return { slowStage: -1, slowFactor: 1, computeFactor };
  let slowStage = 0;
  let best = -1;
  costs.stages.forEach((st, s) => {
    let t = st.extraForwardSeconds + st.extraBackwardSeconds;
    for (const l of st.layers) t += l.forwardSeconds + l.backwardInputSeconds + l.backwardWeightSeconds + l.recomputeSeconds;
    if (t > best) {
      best = t;
      slowStage = s;
    }
  });
  return { slowStage, slowFactor: 1 + x, computeFactor };
}
