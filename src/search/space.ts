/**
 * The candidate space of a layout search: every plan the scenario's model, cluster and software
 * allow, enumerated in one fixed order so that a candidate's index names it in every process
 * (shards split the space by index).
 */
import type { Scenario } from '../plan/resolve.js';
import type { Plan } from '../schema/plan.js';

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

/** Whether a value passes the user's `--fix`es. */
const ok = <K extends keyof PlanChoice>(fixes: Fixes, key: K, value: PlanChoice[K]) => fixes[key] === undefined || fixes[key] === value;

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
export function* enumerate(sc: Scenario, sizes: ClusterSize[], fixes: Fixes = {}, nvlinkOnly = true): Generator<Candidate> {
  const model = sc.model;
  const seqChunks = (cp: number) => model.seqLen % (cp > 1 ? 2 * cp : 1) === 0 && (cp === 1 || model.seqLen / cp >= MIN_TOKENS_PER_CP_RANK || fixes.cp === cp);
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
  for (const size of sizes) {
    const g = size.gpus;
    const B = size.globalBatchSequences;
    for (const tp of divs(g)) {
      if (!tpOk(tp) || !ok(fixes, 'tp', tp)) continue;
      if (nvlinkOnly && fixes.tp === undefined && tp > sc.node.gpusPerNode) continue;
      for (const cp of divs(g / tp)) {
        if (!seqChunks(cp) || !ok(fixes, 'cp', cp)) continue;
        for (const pp of divs(g / (tp * cp))) {
          if (pp > model.layers || !ok(fixes, 'pp', pp)) continue;
          const dp = g / (tp * cp * pp);
          if (B % dp !== 0 || !ok(fixes, 'dp', dp)) continue;
          for (const vpp of vppOptions(model.layers, pp)) {
            if (!ok(fixes, 'vpp', vpp)) continue;
            const schedules: PlanChoice['schedule'][] = pp === 1 ? ['1f1b'] : vpp > 1 ? ['interleaved-1f1b'] : ['1f1b', 'zero-bubble'];
            for (const schedule of schedules) {
              if (!ok(fixes, 'schedule', schedule)) continue;
              const eps = moe ? divs(moe.experts) : [1];
              for (const ep of eps) {
                if (!ok(fixes, 'ep', ep)) continue;
                for (const etp of moe ? divs(tp) : [tp]) {
                  if (!ok(fixes, 'etp', etp)) continue;
                  if (moe && (tp * cp * dp) % (ep * etp) !== 0) continue;
                  const expertDp = moe ? (tp * cp * dp) / (ep * etp) : 1;
                  const zeros = dp * cp === 1 && expertDp === 1 ? [0] : [0, 1, 2, 3];
                  for (const zeroStage of zeros) {
                    if (!ok(fixes, 'zeroStage', zeroStage)) continue;
                    for (const microBatch of divs(B / dp)) {
                      if (!ok(fixes, 'microBatch', microBatch)) continue;
                      // The interleaved schedule needs the micro-batches to be a multiple of pp (Narayanan et al. 2021 §2.2.2).
                      if (schedule === 'interleaved-1f1b' && (B / (dp * microBatch)) % pp !== 0) continue;
                      for (const recompute of recomputes) {
                        if (!ok(fixes, 'recompute', recompute)) continue;
                        for (const precision of precisions) {
                          if (!ok(fixes, 'precision', precision)) continue;
                          yield { index: index++, gpus: g, globalBatchSequences: B, tp, cp, pp, vpp, dp, ep, etp, zeroStage, microBatch, recompute, schedule, precision };
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
