/**
 * The candidate space of a layout search: every plan the scenario's model, cluster and software
 * allow, enumerated in one fixed order so that a candidate's index names it in every process
 * (shards split the space by index).
 */
import type { Scenario } from '../plan/resolve.js';
import type { Plan } from '../schema/plan.js';
import { expertDataParallel } from '../plan/layout.js';

/** The layout choices the search varies: the `plan` object of every search result. */
export interface PlanChoice {
  tp: number;
  cp: number;
  pp: number;
  vpp: number;
  dp: number;
  ep: number;
  etp: number;
  zeroStage: number;
  microBatch: number;
  recompute: Plan['recompute'];
  schedule: NonNullable<Plan['schedule']>;
  precision: Plan['precision'];
}

/** One candidate: a plan on a cluster size, with its global batch and its index in the space. */
export interface Candidate extends PlanChoice {
  index: number;
  gpus: number;
  globalBatchSequences: number;
}

/** A cluster size the search covers, with what scales with it. */
export interface ClusterSize {
  gpus: number;
  spareNodes: number;
  globalBatchSequences: number;
}

export type Fixes = Partial<PlanChoice>;

/** Keys `--fix` accepts, with the short names people use. */
export const FIX_KEYS: Record<string, keyof PlanChoice> = {
  tp: 'tp', cp: 'cp', pp: 'pp', vpp: 'vpp', dp: 'dp', ep: 'ep', etp: 'etp',
  zero: 'zeroStage', zeroStage: 'zeroStage', mb: 'microBatch', microBatch: 'microBatch',
  recompute: 'recompute', schedule: 'schedule', precision: 'precision',
};

/**
 * Fewest tokens of a sequence per context-parallel rank the search tries (a bound on the space,
 * not a prediction): Llama 3 ran CP 16 on 131,072-token sequences, 8,192 per rank ([LLAMA3]
 * §3.3.2); below ~1K tokens per rank the K/V exchange outweighs the attention it splits.
 */
export const MIN_TOKENS_PER_CP_RANK = 1024;

const ZERO_NONE = [0];
const ONE = [1];
const ONE_RANK: PlanChoice['schedule'][] = ['1f1b'];
const INTERLEAVED: PlanChoice['schedule'][] = ['interleaved-1f1b'];
const NON_INTERLEAVED: PlanChoice['schedule'][] = ['1f1b', 'zero-bubble'];
const ZERO_ALL = [0, 1, 2, 3];
const RECOMPUTE_ORDER: Plan['recompute'][] = ['none', 'selective', 'op-sac', 'full'];
const PRECISION_ORDER: Plan['precision'][] = ['bf16', 'fp8', 'fp4'];

/** Divisors of n in ascending order. */
export function divisors(n: number): number[] {
  const small: number[] = [];
  const large: number[] = [];
  for (let d = 1; d * d <= n; d++) {
    if (n % d === 0) {
      small.push(d);
      if (d * d !== n) large.unshift(n / d);
    }
  }
  return [...small, ...large];
}

/**
 * Recompute policies the search tries: none, selective and full (the framework-neutral ones),
 * plus the scenario's own when it names another (op-sac is torchtitan's).
 */
export function recomputeOptions(sc: Scenario): Plan['recompute'][] {
  return RECOMPUTE_ORDER.filter((r) => r === 'none' || r === 'selective' || r === 'full' || r === sc.plan.recompute);
}

/**
 * Precisions the search tries: bf16 up to the scenario's own (a lower precision is a numerics
 * decision the scenario makes, not a layout choice), among those the GPU has peaks for.
 */
export function precisionOptions(sc: Scenario): Plan['precision'][] {
  const top = PRECISION_ORDER.indexOf(sc.plan.precision);
  return PRECISION_ORDER.filter((p, i) => i <= top && (p === 'bf16' || p === sc.plan.precision || sc.gpu.peakFlops[p] !== undefined));
}

/** Virtual stages worth trying with pp stages: divisors of the (largest) layers per stage, when pp > 1. */
export function vppOptions(layers: number, pp: number): number[] {
  if (pp === 1) return [1];
  const perStage = Math.ceil(layers / pp);
  const withEnds = (layers + 2) % pp === 0 ? (layers + 2) / pp : 0; // embedding and LM head as layer slots (Llama 3: 126 + 2 = 128)
  const set = new Set([...divisors(perStage), ...(withEnds ? divisors(withEnds) : [])]);
  return [...set].filter((v) => v <= perStage + 1).sort((a, b) => a - b);
}

/**
 * Enumerates the candidates of every cluster size in a fixed order: size, tp, cp, pp, vpp and
 * schedule, ep, etp, ZeRO stage, micro-batch, recompute, precision. Only plans whose products and
 * divisibility hold are produced:
 * - tp divides heads and divides (or is a multiple of) kvHeads, inside one NVLink domain unless fixed;
 * - cp splits the sequence into 2·cp load-balanced chunks of at least MIN_TOKENS_PER_CP_RANK / 2 tokens;
 * - tp·cp·pp divides the GPUs, dp is what is left;
 * - pp ≤ layers (an uneven split, first and last stages lighter, when pp does not divide them);
 * - vpp > 1 only with the interleaved schedule, whose micro-batches are a multiple of pp; zero-bubble (ZB-H1) and 1F1B at vpp 1;
 * - ep divides the experts and ep·etp divides tp·cp·dp (MoE only), etp divides tp;
 * - dp·microBatch divides the global batch; ZeRO stages that shard nothing (dp·cp = 1) collapse to 0.
 */
export function enumerateAll(sc: Scenario, sizes: ClusterSize[], fixes: Fixes = {}, nvlinkOnly = true): Candidate[] {
  const out: Candidate[] = [];
  // Indexed loops over arrays, and no keyed reads of `fixes`: the first search in a process runs
  // much of this loop before it is optimised, where iterators and generic look-ups cost most.
  // The fixes read once into a plain object of fixed shape (a keyed read of `fixes` per check is a slow generic look-up before the loop is optimised).
  const f: { [K in keyof PlanChoice]: PlanChoice[K] | undefined } = {
    tp: fixes.tp, cp: fixes.cp, pp: fixes.pp, vpp: fixes.vpp, dp: fixes.dp, ep: fixes.ep, etp: fixes.etp, zeroStage: fixes.zeroStage,
    microBatch: fixes.microBatch, recompute: fixes.recompute, schedule: fixes.schedule, precision: fixes.precision,
  };
  const model = sc.model;
  const seqChunks = (cp: number) => model.seqLen % (cp > 1 ? 2 * cp : 1) === 0 && (cp === 1 || model.seqLen / cp >= MIN_TOKENS_PER_CP_RANK || f.cp === cp);
  const tpOk = (tp: number) => model.heads % tp === 0 && (model.kvHeads % tp === 0 || tp % model.kvHeads === 0);
  const recomputes = recomputeOptions(sc);
  const precisions = precisionOptions(sc);
  const moe = model.moe;
  let index = 0;
  const divisorsOf = new Map<number, number[]>();
  const divs = (x: number) => {
    let d = divisorsOf.get(x);
    if (!d) divisorsOf.set(x, (d = divisors(x)));
    return d;
  };
  for (let i1 = 0; i1 < sizes.length; i1++) {
    const size = sizes[i1];
    const g = size.gpus;
    const B = size.globalBatchSequences;
    const tps_ = divs(g);
    for (let i2 = 0; i2 < tps_.length; i2++) {
      const tp = tps_[i2];
      if (!tpOk(tp) || !(f.tp === undefined || f.tp === tp)) continue;
      if (nvlinkOnly && f.tp === undefined && tp > sc.node.gpusPerNode) continue;
      const cps_ = divs(g / tp);
      for (let i3 = 0; i3 < cps_.length; i3++) {
        const cp = cps_[i3];
        if (!seqChunks(cp) || !(f.cp === undefined || f.cp === cp)) continue;
        const pps_ = divs(g / (tp * cp));
        for (let i4 = 0; i4 < pps_.length; i4++) {
          const pp = pps_[i4];
          if (pp > model.layers || !(f.pp === undefined || f.pp === pp)) continue;
          const dp = g / (tp * cp * pp);
          if (B % dp !== 0 || !(f.dp === undefined || f.dp === dp)) continue;
          const vpps_ = vppOptions(model.layers, pp);
          for (let i5 = 0; i5 < vpps_.length; i5++) {
            const vpp = vpps_[i5];
            if (!(f.vpp === undefined || f.vpp === vpp)) continue;
            const schedules_ = pp === 1 ? ONE_RANK : vpp > 1 ? INTERLEAVED : NON_INTERLEAVED;
            for (let i6 = 0; i6 < schedules_.length; i6++) {
              const schedule = schedules_[i6];
              if (!(f.schedule === undefined || f.schedule === schedule)) continue;
              const eps_ = moe ? divs(moe.experts) : ONE;
              for (let i7 = 0; i7 < eps_.length; i7++) {
                const ep = eps_[i7];
                if (!(f.ep === undefined || f.ep === ep)) continue;
                const etps_ = moe ? divs(tp) : [tp];
                for (let i8 = 0; i8 < etps_.length; i8++) {
                  const etp = etps_[i8];
                  if (!(f.etp === undefined || f.etp === etp)) continue;
                  if (moe && (tp * cp * dp) % (ep * etp) !== 0) continue;
                  // ZeRO shards over dp·cp (dense) and the expert-DP group: with both 1 it shards nothing.
                  const zeroStages_ = dp * cp === 1 && expertDataParallel({ tp, cp, dp, ep, etp }) === 1 ? ZERO_NONE : ZERO_ALL;
                  for (let i9 = 0; i9 < zeroStages_.length; i9++) {
                    const zeroStage = zeroStages_[i9];
                    if (!(f.zeroStage === undefined || f.zeroStage === zeroStage)) continue;
                    const microBatchs_ = divs(B / dp);
                    for (let i10 = 0; i10 < microBatchs_.length; i10++) {
                      const microBatch = microBatchs_[i10];
                      if (!(f.microBatch === undefined || f.microBatch === microBatch)) continue;
                      // The interleaved schedule needs the micro-batches to be a multiple of pp (Narayanan et al. 2021 §2.2.2).
                      if (schedule === 'interleaved-1f1b' && (B / (dp * microBatch)) % pp !== 0) continue;
                      for (let i11 = 0; i11 < recomputes.length; i11++) {
                        const recompute = recomputes[i11];
                        if (!(f.recompute === undefined || f.recompute === recompute)) continue;
                        for (let i12 = 0; i12 < precisions.length; i12++) {
                          const precision = precisions[i12];
                          if (!(f.precision === undefined || f.precision === precision)) continue;
                          out.push({ index: index++, gpus: g, globalBatchSequences: B, tp, cp, pp, vpp, dp, ep, etp, zeroStage, microBatch, recompute, schedule, precision });
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  return out;
}

/**
 * The candidates one at a time (enumerateAll's order). enumerateAll is the fast path: a generator's
 * loop is never optimised on stack (V8 does not OSR generators), so one long enumeration through
 * it runs unoptimised, several times slower as the first search in a process.
 */
export function* enumerate(sc: Scenario, sizes: ClusterSize[], fixes: Fixes = {}, nvlinkOnly = true): Generator<Candidate> {
  yield* enumerateAll(sc, sizes, fixes, nvlinkOnly);
}

/**
 * Cluster sizes between `min` and `max` GPUs: whole nodes on a half-octave grid (2^k and 3·2^(k-1)
 * nodes), plus both ends when they are whole nodes.
 */
export function gpuGrid(min: number, max: number, gpusPerNode: number): number[] {
  const out = new Set<number>();
  for (let nodes = 1; nodes * gpusPerNode <= max; nodes *= 2) {
    for (const n of [nodes, (3 * nodes) / 2]) {
      const g = n * gpusPerNode;
      if (Number.isInteger(n) && g >= min && g <= max) out.add(g);
    }
  }
  for (const g of [min, max]) if (g % gpusPerNode === 0) out.add(g);
  return [...out].sort((a, b) => a - b);
}

/**
 * Global batches (in sequences) between `min` and `max`: both ends and every power of two between
 * them (the sizes trainers use; 1,000..5,000 gives 1,000, 1,024, 2,048, 4,096, 5,000).
 */
export function batchGrid(min: number, max: number): number[] {
  const out = new Set<number>([min]);
  for (let b = 1; b <= max; b *= 2) if (b > min && b < max) out.add(b);
  out.add(max);
  return [...out].sort((a, b) => a - b);
}

/** Each cluster size at each of the global batches (in sequences), sizes first: the batches override what scales with the cluster. */
export function withGlobalBatches(sizes: ClusterSize[], batches: number[]): ClusterSize[] {
  return sizes.flatMap((s) => batches.map((globalBatchSequences) => ({ ...s, globalBatchSequences })));
}

/**
 * What scales with the cluster: spare nodes in proportion to the scenario's (its spares per
 * job node, rounded up), and the global batch in proportion to the GPUs (the scenario's sequences
 * per GPU, rounded to a whole sequence, at least one), unless the batch is held fixed.
 */
export function clusterSize(sc: Scenario, gpus: number, scaleBatch: boolean): ClusterSize {
  const ratio = gpus / sc.cluster.gpus;
  return {
    gpus,
    spareNodes: Math.ceil(sc.cluster.spareNodes * ratio - 1e-9),
    globalBatchSequences: scaleBatch ? Math.max(1, Math.round(sc.plan.globalBatchSequences * ratio)) : sc.plan.globalBatchSequences,
  };
}
