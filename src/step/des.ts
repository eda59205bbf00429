/**
 * Discrete-event step engine: one training step of one representative pipeline (pp ranks; the
 * DP replicas are symmetric, so one pipeline stands for all of them) run on the event core.
 *
 * Ops are per (stage, model chunk, micro-batch, phase): a chunk's layers run back to back on the
 * compute stream, so simulating them one by one would only multiply events. Only passes next to
 * a DP collective are split per layer (per-layer buckets: a layer's gather or reduce-scatter
 * overlaps the neighbouring layers' compute). Per-layer detail is recovered exactly for the trace
 * (trace.ts) from the same per-layer durations (buildSegments).
 *
 * Resources per pipeline rank (one GPU stands for its TP/CP group, which moves in lockstep):
 * - compute: a serial program (the schedule's op order, schedules.ts). TP/CP/EP collectives are
 *   folded into the compute ops with the overlap rules of analytic.ts (exposedLayerComm): inline
 *   when exposed, hidden behind the GEMMs (or attention, for ring CP) when overlapped. Nothing
 *   else competes for NVLink inside a layer, so the TP stream needs no events of its own; the
 *   trace draws it.
 * - nic and nvlink: fair-share links (SharedLink). Their bandwidth is normalised to 1, and a flow's
 *   size is its stand-alone duration in seconds from costs.ts, so a flow alone takes exactly the
 *   closed-form time and two flows on one link each get half of it. PP sends go on the sender's
 *   NVLink when the neighbour shares its node, else its NIC; DP collectives on the NIC when the
 *   DP group spans nodes. Only egress is modelled (a receiver's ingress is not a second bottleneck).
 * - dp: a serial program of DP collectives (NCCL runs one communicator's collectives in order)
 *   whose ops are flows on the link above, so they contend with PP sends.
 *
 * Dependencies: F(s, c, i) needs the activation of the previous virtual stage (send op); B needs
 * the gradient of the next virtual stage; W follows B. DP (ZeRO 0-2): the parameter all-gather of
 * each chunk at the start of the step (before the chunk's first forward), the gradient
 * reduce-scatter (all-reduce at ZeRO-0) of a chunk's bucket once the chunk's last backward is done,
 * overlapped with the remaining backward; ZeRO-3 gathers before every forward and backward and
 * reduce-scatters after every backward, one op ahead (prefetch). Without overlap.dp (overlap.pp)
 * those collectives (sends) sit in the compute program and block it. The optimizer runs on each
 * rank after its last bucket; the step ends when the last rank's optimizer ends.
 *
 * Where this differs from the closed form (analytic.ts), on purpose:
 * - PP sends: the closed form exposes 2(pp-1) sends when overlap.pp is on; here every send on the
 *   dependency chain is exposed. In 1F1B's steady state the chain F(s) -> send -> F(s+1) ->
 *   B(s+1) -> send -> B(s) is tight, so each micro-batch costs 2 sends whatever the overlap;
 *   interleaving adds one chain per wrap-around from the last rank to the first when its warm-up
 *   has no slack (m = pp).
 * - Contention: DP flows and PP sends on one NIC share it.
 * - Uneven stages and chunks: the schedule runs on the real per-chunk times, not a max-stage bound.
 * - DP: the exposed tail is what is left after the real drain, not the s·bwd/vpp estimate.
 * - Stragglers and throughput variation (scenario.simulation) are applied here only:
 *   stragglerSlowdown x slows one pipeline rank's compute and every collective it joins by 1 + x;
 *   the straggler sits on the rank with the most compute (the worst place: a random GPU of the
 *   cluster lands there with probability 1/pp, so this is the pessimistic step). The step of the
 *   straggler's pipeline is the step of all (DP collectives wait for it). throughputVariation v
 *   scales compute by the mean slowdown 1 + v/2 of a diurnal dip from 0 to v (Llama 3 §3.3.4
 *   reports 1-2%), deterministically.
 */
import type { Scenario } from '../plan/resolve.js';
import type { LayerCost, StepCosts } from './costs.js';
import { exposedLayerComm, epHiddenShare, type StepBreakdown, type StepResult } from './analytic.js';
import { Simulation, SharedLink, type SimProcess } from '../sim/index.js';
import { stageSchedule, inFlightFormula, type Phase, type ScheduleName } from './schedules.js';
import { countParams } from '../model/params.js';
import { invariant } from '../errors.js';

/** Largest op count the discrete-event step simulates (~1 s of work on this machine's class of CPU). */
export const MAX_DES_OPS = 1_000_000;

/** Ops the DES schedules for one step: every (stage, model chunk, micro-batch, phase F/B/W). */
export function desOpCount(plan: Pick<Scenario['plan'], 'pp' | 'vpp' | 'schedule'>, numMicroBatches: number): number {
  return plan.pp * (plan.schedule === 'interleaved-1f1b' ? plan.vpp : 1) * numMicroBatches * 3;
}

export type OpKind = 'F' | 'B' | 'W' | 'send-f' | 'send-b' | 'dp-gather' | 'dp-reduce' | 'optimizer';
const KINDS: readonly OpKind[] = ['F', 'B', 'W', 'send-f', 'send-b', 'dp-gather', 'dp-reduce', 'optimizer'];
const PHASES: readonly Phase[] = ['F', 'B', 'W'];
const K_F = 0;
const K_B = 1;
const K_W = 2;
const K_SEND_F = 3;
const K_SEND_B = 4;
const K_GATHER = 5;
const K_REDUCE = 6;
const K_OPT = 7;

/** Layers of one model chunk on one pipeline rank. */
export interface ChunkLayout {
  stage: number;
  chunk: number;
  /** Index of the chunk's first layer in costs.stages[stage].layers. */
  firstLocalLayer: number;
  numLayers: number;
  /** Index of the chunk's first layer in the model (virtual stages in order c·pp + s). */
  firstGlobalLayer: number;
  /** The chunk carries the stage's extra work (embedding on the first rank, LM head + loss on the last). */
  extras: boolean;
}

/** Where the schedule put one op, when it ran and on which stream. */
export interface DesOpRecord {
  kind: OpKind;
  stage: number;
  chunk: number;
  /** -1 for per-step ops (ZeRO 0-2 collectives, optimizer). */
  microBatch: number;
  /** Pass of a compute op, or of the compute op a send or DP collective serves; null for the optimizer. */
  phase: Phase | null;
  /** Segments (detail.segments[stage][chunk][phase]) the op covers: a whole pass, or one layer of a split pass. */
  segment: number;
  segmentCount: number;
  startSeconds: number;
  endSeconds: number;
  /** Stream the op ran on: compute (also blocking sends/collectives when not overlapped), pp or dp. */
  stream: 'compute' | 'pp' | 'dp';
}

export interface DesStageStats {
  stage: number;
  /** Compute-stream time in F/B/W ops (with the exposed TP/CP/EP collectives inside them). */
  busySeconds: number;
  /** The same without the collectives. */
  computeSeconds: number;
  /** Time the compute stream had no F/B/W op during the pipeline phase [0, pipelineSeconds]. */
  idleSeconds: number;
  /** idle / (idle + busy) over the pipeline phase. */
  bubbleFraction: number;
  /** Peak micro-batches with activations held (forward started, input-gradient backward not done), a chunk counting 1/vpp. */
  inFlightPeak: number;
  /** The same by the schedule's formula (schedules.ts inFlightFormula). */
  inFlightFormula: number;
  optimizerSeconds: number;
}

export interface DesDetail {
  schedule: ScheduleName;
  pp: number;
  vpp: number;
  numMicroBatches: number;
  /** End of the last forward/backward op on any rank (before the DP tail and optimizer), seconds. */
  pipelineSeconds: number;
  ops: DesOpRecord[];
  stages: DesStageStats[];
  chunks: ChunkLayout[][];
  /** Per-layer pieces of every pass: [stage][chunk][phase index F=0, B=1, W=2]. */
  segments: Segment[][][][];
  /** Time on the critical path by kind (sums to the step). */
  criticalPath: { computeSeconds: number; ppSeconds: number; dpSeconds: number; optimizerSeconds: number };
  /** Events the core handled. */
  events: number;
  /** Rank slowed by stragglerSlowdown, or -1. */
  slowStage: number;
  /** Multipliers applied to compute (throughput variation) and, on the slow rank, to everything. */
  computeFactor: number;
  slowFactor: number;
}

export interface DesStepResult extends StepResult {
  engine: 'des';
  detail: DesDetail;
}

/** Splits each rank's layers over its vpp chunks; the chunk holding the embedding / LM head gets fewer layers. */
export function chunkLayout(layersPerStage: number[], vpp: number): ChunkLayout[][] {
  const pp = layersPerStage.length;
  const out: ChunkLayout[][] = [];
  for (let s = 0; s < pp; s++) {
    const L = layersPerStage[s];
    const base = Math.floor(L / vpp);
    let rest = L - base * vpp;
    const counts = new Array<number>(vpp).fill(base);
    // Remainder layers go first to chunks without the extra work: the first rank's chunk 0
    // holds the embedding and the last rank's last chunk the LM head (Llama 3 §3.3.2 balances
    // the same way by giving those ranks one layer fewer).
    const order: number[] = [];
    for (let c = 0; c < vpp; c++) order.push(c);
    if (s === pp - 1 && vpp > 1) order.push(order.splice(vpp - 1, 1)[0]);
    if (s === 0 && vpp > 1) order.push(order.splice(0, 1)[0]);
    for (let k = 0; rest > 0; k = (k + 1) % vpp, rest--) counts[order[k]]++;
    const row: ChunkLayout[] = [];
    let local = 0;
    for (let c = 0; c < vpp; c++) {
      row.push({ stage: s, chunk: c, firstLocalLayer: local, numLayers: counts[c], firstGlobalLayer: 0, extras: (s === 0 && c === 0) || (s === pp - 1 && c === vpp - 1) });
      local += counts[c];
    }
    out.push(row);
  }
  let g = 0;
  for (let c = 0; c < vpp; c++) {
    for (let s = 0; s < pp; s++) {
      out[s][c].firstGlobalLayer = g;
      g += out[s][c].numLayers;
    }
  }
  return out;
}

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
  const pc = countParams(model);
  const moe = model.moe;
  const layerParams = (l: LayerCost) =>
    (pc.attentionPerLayer + (l.moe && moe ? pc.sharedExpertsPerLayer + pc.routerPerLayer : pc.denseMlpPerLayer)) / plan.tp +
    (l.moe && moe ? ((moe.experts / plan.ep) * pc.expertMlp) / plan.etp : 0);
  const extrasName = pp === 1 ? 'embedding + LM head' : null;
  const phases: Phase[] = ['F', 'B', 'W'];
  return chunks.map((row, s) => {
    const st = costs.stages[s];
    const slow = s === f.slowStage ? f.slowFactor : 1;
    const cf = f.computeFactor * slow;
    const extrasParams = (s === 0 ? pc.embedding / plan.tp : 0) + (s === pp - 1 ? (model.tiedEmbeddings ? (pp > 1 ? pc.embedding : 0) : pc.lmHead) / plan.tp : 0);
    let stageParams = extrasParams;
    for (const l of st.layers) stageParams += layerParams(l);
    const share = (p: number) => (stageParams > 0 ? p / stageParams : 0);
    return row.map((ch) =>
      phases.map((phase) => {
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
          const seg: Segment = { layer: -1, name: extrasName ?? (s === 0 ? 'embedding' : 'LM head + loss'), compute: x, tp: 0, cp: 0, ep: 0, total: x, collective: 0, paramShare: share(extrasParams) };
          // Forward: embedding first, LM head last; backward the reverse (single-rank: at the end of F).
          const atStart = s === 0 && pp > 1;
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
      }),
    );
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

/** Runs one training step on the discrete-event core and returns the step time with its detail. */
export function desStep(sc: Scenario, costs: StepCosts): DesStepResult {
  const plan = sc.plan;
  const pp = plan.pp;
  // A single rank has no bubble to fill: zero-bubble there is plain 1F1B (W stays inside B).
  const schedule: ScheduleName = pp === 1 && plan.schedule === 'zero-bubble' ? '1f1b' : plan.schedule;
  const vpp = schedule === 'interleaved-1f1b' ? plan.vpp : 1;
  const m = costs.numMicroBatches;
  const zb = schedule === 'zero-bubble';
  invariant(costs.stages.length === pp, `desStep: costs have ${costs.stages.length} stages, plan.pp is ${pp}`);
  invariant(Number.isInteger(m) && m >= 1, `desStep: numMicroBatches must be a positive integer, got ${m}`);

  const chunks = chunkLayout(costs.stages.map((st) => st.layers.length), vpp);
  const factors = stageFactors(sc, costs);
  const segments = buildSegments(sc, costs, chunks, zb, factors);
  const slowOf = (s: number) => (s === factors.slowStage ? factors.slowFactor : 1);
  const mpn = Math.max(1, costs.placements.pp.membersPerNode);
  const nodeOf = (s: number) => Math.floor(s / mpn);
  const dpOnNic = costs.dp.length > 0 && costs.dp[0].placement.nodes > 1;
  const overlapPp = plan.overlap.pp;
  const overlapDp = plan.overlap.dp;

  // ---- Op table (struct of arrays) -------------------------------------------------------
  const kind: number[] = [];
  const opStage: number[] = [];
  const opChunk: number[] = [];
  const opMb: number[] = [];
  const opPhase: number[] = []; // 0 F, 1 B, 2 W: of the op, or of the compute op a DP op serves
  const opSeg: number[] = []; // first segment
  const opSegs: number[] = []; // segment count
  const dur: number[] = [];
  const link: number[] = []; // -1: timer on the compute stream; else index into links
  const prog: number[] = []; // program (serial stream) the op belongs to, or -1 (free)
  const succ: number[][] = [];
  const depsLeft: number[] = [];
  const newOp = (k: number, s: number, c: number, i: number, ph: number, seg: number, nseg: number, d: number, l: number): number => {
    invariant(d >= 0 && d < Infinity, `desStep: op duration must be finite >= 0, got ${d}`);
    const id = kind.length;
    kind.push(k);
    opStage.push(s);
    opChunk.push(c);
    opMb.push(i);
    opPhase.push(ph);
    opSeg.push(seg);
    opSegs.push(nseg);
    dur.push(d);
    link.push(l);
    prog.push(-1);
    succ.push([]);
    depsLeft.push(0);
    return id;
  };
  const dep = (before: number, after: number) => {
    succ[before].push(after);
    depsLeft[after]++;
  };

  // Links: per rank an NVLink and a NIC egress, bandwidth normalised to 1 (flow size = seconds alone).
  const sim = new Simulation<never>(() => {});
  const links: SharedLink[] = [];
  const nvlinkOf: number[] = [];
  const nicOf: number[] = [];
  for (let s = 0; s < pp; s++) {
    nvlinkOf.push(links.push(new SharedLink(sim, 1, `stage${s}.nvlink`)) - 1);
    nicOf.push(links.push(new SharedLink(sim, 1, `stage${s}.nic`)) - 1);
  }

  // Programs: compute of rank s is program s, its DP stream program pp + s.
  const programs: number[][] = [];
  for (let p = 0; p < 2 * pp; p++) programs.push([]);
  const toProgram = (p: number, id: number) => {
    prog[id] = p;
    programs[p].push(id);
  };

  // ---- DP plan: which passes are split into per-layer pieces with their own collectives ------
  // Buckets are per layer (Megatron's 40M-parameter buckets hold about one layer of a large
  // model's TP shard), so a bucket's reduce-scatter overlaps the backward of the layers before it
  // and a layer's gather the forward of the layers after it. Only passes next to a DP collective
  // are split, which keeps the event count near one per pass.
  const dp = costs.dp;
  const zero3 = dp.length > 0 && dp[0].perMicroBatch;
  const gradKind = zb ? K_W : K_B;
  const hasGather = (s: number) => (dp[s]?.paramGatherSeconds ?? 0) > 0;
  const hasReduce = (s: number) => (dp[s]?.gradientSeconds ?? 0) > 0;

  // ---- Compute ops in schedule order ------------------------------------------------------
  const key = (s: number, c: number, i: number) => (s * vpp + c) * m + i;
  const firstOf = new Int32Array(pp * vpp * m * 3).fill(-1); // first piece of F / B / W
  const lastOf = new Int32Array(pp * vpp * m * 3).fill(-1); // last piece of F / B / W
  const sendF = new Int32Array(pp * vpp * m).fill(-1);
  const sendB = new Int32Array(pp * vpp * m).fill(-1);
  const lastVirtual = pp * vpp - 1;
  const sendLink = (from: number, to: number) => (nodeOf(from) === nodeOf(to) ? nvlinkOf[from] : nicOf[from]);
  const sendSeconds = (from: number, to: number) => (nodeOf(from) === nodeOf(to) ? costs.ppSendSecondsSameNode : costs.ppSendSeconds) * slowOf(from);
  const computeOps: number[][] = [];
  const sendAfter: number[] = []; // send op issued after compute op id, or -1
  const gatherFor: number[] = []; // DP gather needed by compute op id, or -1
  const reduceAfter: number[] = []; // DP reduce-scatter of the gradients of compute op id, or -1
  for (let s = 0; s < pp; s++) {
    const order = stageSchedule(schedule, pp, vpp, m, s);
    // Passes to split: the first forward of each chunk (ZeRO 1-2 gathers), the last gradient
    // pass of each chunk (ZeRO 0-2 buckets), every F/B and gradient pass (ZeRO-3).
    const splitAt = new Uint8Array(order.length);
    if (overlapDp && dp[s]) {
      const seenF = new Set<number>();
      const lastGrad = new Map<number, number>();
      order.forEach((op, pos) => {
        const k = op.phase === 'F' ? K_F : op.phase === 'B' ? K_B : K_W;
        if (zero3) {
          if ((k !== K_W && hasGather(s)) || (k === gradKind && hasReduce(s))) splitAt[pos] = 1;
        } else {
          if (k === K_F && !seenF.has(op.chunk) && hasGather(s)) splitAt[pos] = 1;
          if (k === K_F) seenF.add(op.chunk);
          if (k === gradKind) lastGrad.set(op.chunk, pos);
        }
      });
      if (!zero3 && hasReduce(s)) for (const pos of lastGrad.values()) splitAt[pos] = 1;
    }
    const list: number[] = [];
    order.forEach((op, pos) => {
      const c = op.chunk;
      const i = op.microBatch;
      const vs = c * pp + s;
      const ph = op.phase === 'F' ? 0 : op.phase === 'B' ? 1 : 2;
      const k = ph === 0 ? K_F : ph === 1 ? K_B : K_W;
      const segs = segments[s][c][ph];
      let first = -1;
      let last = -1;
      const piece = (seg: number, nseg: number, d: number) => {
        const id = newOp(k, s, c, i, ph, seg, nseg, d, -1);
        if (last >= 0) dep(last, id);
        else first = id;
        last = id;
        list.push(id);
        sendAfter[id] = -1;
        gatherFor[id] = -1;
        reduceAfter[id] = -1;
        return id;
      };
      if (splitAt[pos] && segs.length > 1) {
        segs.forEach((g, j) => piece(j, 1, g.total));
      } else {
        let d = 0;
        for (const g of segs) d += g.total;
        piece(0, segs.length, d);
      }
      firstOf[key(s, c, i) * 3 + ph] = first;
      lastOf[key(s, c, i) * 3 + ph] = last;
      if (k === K_F && vs < lastVirtual) {
        const to = (s + 1) % pp;
        const sid = newOp(K_SEND_F, s, c, i, ph, 0, 0, sendSeconds(s, to), sendLink(s, to));
        sendF[key(s, c, i)] = sendAfter[last] = sid;
        dep(last, sid);
      } else if (k === K_B && vs > 0) {
        const to = (s - 1 + pp) % pp;
        const sid = newOp(K_SEND_B, s, c, i, ph, 0, 0, sendSeconds(s, to), sendLink(s, to));
        sendB[key(s, c, i)] = sendAfter[last] = sid;
        dep(last, sid);
      }
    });
    computeOps.push(list);
  }
  // Cross-rank data dependencies: activations forward, gradients backward, through the sends.
  for (let s = 0; s < pp; s++) {
    for (let c = 0; c < vpp; c++) {
      const vs = c * pp + s;
      const ps = (s - 1 + pp) % pp;
      const pc = s === 0 ? c - 1 : c;
      const ns = (s + 1) % pp;
      const nc = s === pp - 1 ? c + 1 : c;
      for (let i = 0; i < m; i++) {
        const f = firstOf[key(s, c, i) * 3];
        const b = firstOf[key(s, c, i) * 3 + 1];
        invariant(f >= 0 && b >= 0, `desStep: schedule misses F or B of stage ${s} chunk ${c} micro-batch ${i}`);
        if (vs > 0) dep(sendF[key(ps, pc, i)], f);
        if (vs < lastVirtual) dep(sendB[key(ns, nc, i)], b);
        else dep(lastOf[key(s, c, i) * 3], b);
        if (zb) dep(lastOf[key(s, c, i) * 3 + 1], firstOf[key(s, c, i) * 3 + 2]);
      }
    }
  }

  // ---- DP collectives, the optimizer, and the programs --------------------------------------
  for (let s = 0; s < pp; s++) {
    const d = dp[s];
    const dpLink = dpOnNic ? nicOf[s] : nvlinkOf[s];
    const slow = slowOf(s);
    const ops = computeOps[s];
    const head: number[] = []; // blocking collectives before the pipeline (ZeRO 0-2, not overlapped)
    const tail: number[] = []; // ... after it
    const reduces: number[] = [];
    const segOf = (id: number) => segments[s][opChunk[id]][opPhase[id]];
    // Collective of compute op `id`'s parameters (or gradients): its segments' share of the rank's.
    const dpOp = (k: number, id: number, seconds: number) => {
      const segs = segOf(id);
      let share = 0;
      for (let j = opSeg[id]; j < opSeg[id] + opSegs[id]; j++) share += segs[j].paramShare;
      return newOp(k, s, opChunk[id], zero3 ? opMb[id] : -1, opPhase[id], opSeg[id], opSegs[id], seconds * share * slow, dpLink);
    };
    if (d && !zero3 && !overlapDp) {
      // Not overlapped: gather everything before the first op, reduce after the last.
      const full = (k: number, seconds: number) => newOp(k, s, -1, -1, k === K_GATHER ? 0 : gradKind, 0, 0, seconds * slow, dpLink);
      if (hasGather(s)) head.push(full(K_GATHER, d.paramGatherSeconds));
      if (hasReduce(s)) tail.push(full(K_REDUCE, d.gradientSeconds));
    } else if (d) {
      const firstFwdMb = new Map<number, number>(); // chunk -> micro-batch of its first forward here
      const lastGradMb = new Map<number, number>(); // chunk -> micro-batch of its last gradient pass
      for (const id of ops) {
        if (kind[id] === K_F && !firstFwdMb.has(opChunk[id])) firstFwdMb.set(opChunk[id], opMb[id]);
        if (kind[id] === gradKind) lastGradMb.set(opChunk[id], opMb[id]);
      }
      for (const id of ops) {
        const k = kind[id];
        const c = opChunk[id];
        if (hasGather(s) && (zero3 ? k !== K_W : k === K_F && firstFwdMb.get(c) === opMb[id])) gatherFor[id] = dpOp(K_GATHER, id, d.paramGatherSeconds);
        if (hasReduce(s) && k === gradKind && (zero3 || lastGradMb.get(c) === opMb[id])) reduceAfter[id] = dpOp(K_REDUCE, id, d.gradientSeconds);
      }
    }
    // Programs. Overlapped DP ops go on the DP stream in the order the compute program needs
    // them: a pass's gather ahead of the previous pass's reduce-scatter (prefetch); under ZeRO-3
    // a gather also waits for the pass two back to finish, so at most one layer is prefetched.
    for (const id of head) toProgram(s, id);
    let pendingReduce = -1;
    ops.forEach((id, pos) => {
      const g = gatherFor[id];
      if (g >= 0) {
        if (overlapDp) {
          toProgram(pp + s, g);
          dep(g, id);
          if (zero3 && pos >= 2) dep(ops[pos - 2], g);
        } else toProgram(s, g);
      }
      if (pendingReduce >= 0) toProgram(pp + s, pendingReduce);
      pendingReduce = -1;
      toProgram(s, id);
      if (!overlapPp && sendAfter[id] >= 0) toProgram(s, sendAfter[id]);
      const r = reduceAfter[id];
      if (r >= 0) {
        reduces.push(r);
        if (overlapDp) {
          dep(id, r);
          pendingReduce = r;
        } else toProgram(s, r);
      }
    });
    if (pendingReduce >= 0) toProgram(pp + s, pendingReduce);
    for (const id of tail) {
      reduces.push(id);
      toProgram(s, id);
    }
    const opt = newOp(K_OPT, s, -1, -1, 0, 0, 0, (costs.optimizerSeconds[s] ?? 0) * factors.computeFactor * slow, -1);
    for (const r of reduces) if (prog[r] !== s) dep(r, opt);
    toProgram(s, opt);
  }
  // ---- Execution --------------------------------------------------------------------------
  const n = kind.length;
  const start = new Float64Array(n).fill(NaN);
  const end = new Float64Array(n).fill(NaN);
  const pred = new Int32Array(n).fill(-1);
  const lastDep = new Int32Array(n).fill(-1);
  const ready = new Uint8Array(n);
  const progPos = new Int32Array(n).fill(-1);
  programs.forEach((p) => p.forEach((id, pos) => (progPos[id] = pos)));
  const progPtr = new Int32Array(programs.length);
  const progBusy = new Uint8Array(programs.length);
  let completed = 0;

  const launch = (id: number) => {
    const now = sim.now;
    start[id] = now;
    // Critical-path predecessor: whichever of (last dependency, previous op of the program) ended last.
    let p = lastDep[id];
    const pr = prog[id];
    if (pr >= 0 && progPos[id] > 0) {
      const prev = programs[pr][progPos[id] - 1];
      if (p < 0 || end[prev] > end[p] || (end[prev] === end[p] && prev > p)) p = prev;
    }
    pred[id] = p;
    const l = link[id];
    if (l < 0) sim.scheduleProcess(dur[id], timer, id);
    else links[l].startFlow(dur[id], onFlowDone, 0, id);
  };
  const advance = (p: number) => {
    if (progBusy[p] !== 0) return;
    const list = programs[p];
    const k = progPtr[p];
    if (k >= list.length) return;
    const id = list[k];
    if (ready[id] === 0) return;
    progBusy[p] = 1;
    launch(id);
  };
  const markReady = (id: number) => {
    ready[id] = 1;
    const p = prog[id];
    if (p < 0) launch(id);
    else advance(p);
  };
  const complete = (id: number) => {
    end[id] = sim.now;
    completed++;
    const out = succ[id];
    for (let j = 0; j < out.length; j++) {
      const t = out[j];
      lastDep[t] = id;
      if (--depsLeft[t] === 0) markReady(t);
    }
    const p = prog[id];
    if (p >= 0) {
      progBusy[p] = 0;
      progPtr[p]++;
      advance(p);
    }
  };
  const timer: SimProcess = { onSimEvent: (tag: number) => complete(tag) };
  const onFlowDone = (tag: number) => complete(tag);

  for (let id = 0; id < n; id++) if (depsLeft[id] === 0) ready[id] = 1;
  for (let id = 0; id < n; id++) if (ready[id] === 1 && prog[id] < 0) launch(id);
  for (let p = 0; p < programs.length; p++) advance(p);
  const run = sim.run();
  if (completed !== n) {
    const stuck: string[] = [];
    for (let p = 0; p < programs.length && stuck.length < 4; p++) {
      const id = programs[p][progPtr[p]];
      if (id !== undefined) stuck.push(`${p < pp ? 'compute' : 'dp'} of stage ${p % pp} at ${KINDS[kind[id]]} chunk ${opChunk[id]} micro-batch ${opMb[id]}`);
    }
    invariant(false, `desStep: deadlock, ${n - completed} of ${n} ops never ran (${schedule}, pp ${pp}, vpp ${vpp}, m ${m}): ${stuck.join('; ')}`);
  }

  // ---- Results ----------------------------------------------------------------------------
  let stepSeconds = 0;
  let lastOp = 0;
  let pipelineSeconds = 0;
  for (let id = 0; id < n; id++) {
    if (end[id] > stepSeconds) {
      stepSeconds = end[id];
      lastOp = id;
    }
    if (kind[id] <= K_W && end[id] > pipelineSeconds) pipelineSeconds = end[id];
  }
  // Walk the critical path back from the op that ends the step: every op starts when its
  // predecessor ends, so the segments tile [0, step].
  let cpCompute = 0;
  let cpPp = 0;
  let cpDp = 0;
  let cpOpt = 0;
  for (let id = lastOp; id >= 0; id = pred[id]) {
    const p = pred[id];
    const seg = end[id] - (p >= 0 ? end[p] : 0);
    const k = kind[id];
    if (k <= K_W) cpCompute += seg;
    else if (k === K_SEND_F || k === K_SEND_B) cpPp += seg;
    else if (k === K_GATHER || k === K_REDUCE) cpDp += seg;
    else cpOpt += seg;
  }

  // Compute and exposed-collective parts of a compute op (sum over its segments).
  const parts = { compute: 0, tp: 0, cp: 0, ep: 0 };
  const partsOf = (id: number) => {
    const segs = segments[opStage[id]][opChunk[id]][opPhase[id]];
    parts.compute = parts.tp = parts.cp = parts.ep = 0;
    for (let j = opSeg[id]; j < opSeg[id] + opSegs[id]; j++) {
      parts.compute += segs[j].compute;
      parts.tp += segs[j].tp;
      parts.cp += segs[j].cp;
      parts.ep += segs[j].ep;
    }
    return parts;
  };
  const stages: DesStageStats[] = [];
  for (let s = 0; s < pp; s++) {
    let busy = 0;
    let compute = 0;
    let opt = 0;
    let held = 0;
    let peak = 0;
    for (const id of programs[s]) {
      const k = kind[id];
      if (k <= K_W) {
        busy += dur[id];
        compute += partsOf(id).compute;
        // Activations are held from the start of a forward to the end of its input-gradient pass.
        if (k === K_F && opSeg[id] === 0) peak = Math.max(peak, ++held);
        else if (k === K_B && opSeg[id] + opSegs[id] === segments[s][opChunk[id]][1].length) held--;
      } else if (k === K_OPT) opt += dur[id];
    }
    const idle = Math.max(0, pipelineSeconds - busy);
    stages.push({
      stage: s,
      busySeconds: busy,
      computeSeconds: compute,
      idleSeconds: idle,
      bubbleFraction: busy + idle > 0 ? idle / (busy + idle) : 0,
      inFlightPeak: peak / vpp,
      inFlightFormula: inFlightFormula(schedule, pp, vpp, m, s),
      optimizerSeconds: opt,
    });
  }
  // Breakdown on the bottleneck rank (most compute-stream time), as the closed form does.
  let b = 0;
  for (let s = 1; s < pp; s++) if (stages[s].busySeconds > stages[b].busySeconds) b = s;
  let tp = 0;
  let cp = 0;
  let ep = 0;
  for (const id of programs[b]) {
    const k = kind[id];
    if (k > K_W) continue;
    const t = partsOf(id);
    tp += t.tp;
    cp += t.cp;
    ep += t.ep;
  }
  const busyB = stages[b].busySeconds;
  let dpExposed = cpDp;
  let ppExposed = cpPp;
  let bubbleSeconds = cpCompute - busyB;
  if (bubbleSeconds < 0) {
    // The critical path ran through communication while the bottleneck rank computed (e.g. a
    // DP-bound ZeRO-3 step): that communication was partly hidden, count only the rest.
    let deficit = -bubbleSeconds;
    const fromDp = Math.min(deficit, dpExposed);
    dpExposed -= fromDp;
    deficit -= fromDp;
    ppExposed -= Math.min(deficit, ppExposed);
    bubbleSeconds = 0;
  }
  const breakdown: StepBreakdown = {
    computeSeconds: stages[b].computeSeconds,
    exposedCommunicationSeconds: tp + cp + ep + ppExposed + dpExposed,
    bubbleSeconds,
    optimizerSeconds: cpOpt,
    tpSeconds: tp,
    cpSeconds: cp,
    epSeconds: ep,
    ppSeconds: ppExposed,
    dpSeconds: dpExposed,
  };

  const ops: DesOpRecord[] = new Array(n);
  for (let id = 0; id < n; id++) {
    const k = kind[id];
    const p = prog[id];
    ops[id] = {
      kind: KINDS[k],
      stage: opStage[id],
      chunk: opChunk[id],
      microBatch: opMb[id],
      phase: k === K_OPT ? null : PHASES[opPhase[id]],
      segment: opSeg[id],
      segmentCount: opSegs[id],
      startSeconds: start[id],
      endSeconds: end[id],
      stream: p >= 0 && p < pp ? 'compute' : k === K_SEND_F || k === K_SEND_B ? 'pp' : 'dp',
    };
  }

  return {
    stepSeconds,
    engine: 'des',
    bubbleFraction: stepSeconds > 0 ? bubbleSeconds / stepSeconds : 0,
    breakdown,
    detail: {
      schedule,
      pp,
      vpp,
      numMicroBatches: m,
      pipelineSeconds,
      ops,
      stages,
      chunks,
      segments,
      criticalPath: { computeSeconds: cpCompute, ppSeconds: cpPp, dpSeconds: cpDp, optimizerSeconds: cpOpt },
      events: run.events,
      slowStage: factors.slowStage,
      computeFactor: factors.computeFactor,
      slowFactor: factors.slowFactor,
    },
  };
}

/** The DES as an `evaluate` step engine: `evaluate(sc, desEngine)`. */
export const desEngine = { name: 'des' as const, run: desStep };
