/**
 * The DES op graph of one step: compute ops in each rank's schedule order (split per layer next
 * to a DP collective), PP sends between ranks, DP collectives and the optimizer, their data
 * dependencies, and the serial programs (compute and DP stream of each rank) they run in.
 * See des.ts for the model.
 */
import type { Scenario } from '../../plan/resolve.js';
import type { StepCosts } from '../costs.js';
import { stageSchedule } from '../schedules.js';
import { dualPipeSchedule, pipelineNeighbours } from './dualpipe.js';
import type { ScheduleName } from '../../plan/pipeline.js';
import type { DagSpec } from '../../sim/dag.js';
import { invariant } from '../../errors.js';
import type { Segment } from './segments.js';
import type { StageFactors } from './segments.js';
import { K_F, K_B, K_W, K_SEND_F, K_SEND_B, K_GATHER, K_REDUCE, K_OPT } from './types.js';

/**
 * Ops as parallel arrays (struct of arrays): what each op is, how long it takes and where it runs.
 * Typed arrays with room to grow, trimmed to the op count by `done()`: adding an op is a handful
 * of stores (no array push, whose inlined fast and growth paths made V8's optimising compile of
 * the graph builder long enough to hold up its compiles of the run engine in a cold `evaluate`).
 */
export class OpTable {
  kind: Int32Array;
  stage: Int32Array;
  chunk: Int32Array;
  microBatch: Int32Array;
  /** 0 F, 1 B, 2 W: of the op, or of the compute op a send or DP op serves. */
  phase: Int32Array;
  /** First segment the op covers, and how many. */
  segment: Int32Array;
  segmentCount: Int32Array;
  /** Seconds (timer) or flow size (link op; links have bandwidth 1, so also seconds alone). */
  duration: Float64Array;
  /** -1: timer on the compute stream; else index into links. */
  link: Int32Array;
  /** Program (serial stream) the op belongs to, or -1 (free). */
  program: Int32Array;
  dependencies: Int32Array;
  readonly successors: number[][] = [];
  readonly programs: number[][];
  private n = 0;

  constructor(programCount: number, capacity = 1024) {
    this.programs = [];
    for (let p = 0; p < programCount; p++) this.programs.push([]);
    this.kind = new Int32Array(capacity);
    this.stage = new Int32Array(capacity);
    this.chunk = new Int32Array(capacity);
    this.microBatch = new Int32Array(capacity);
    this.phase = new Int32Array(capacity);
    this.segment = new Int32Array(capacity);
    this.segmentCount = new Int32Array(capacity);
    this.duration = new Float64Array(capacity);
    this.link = new Int32Array(capacity);
    this.program = new Int32Array(capacity);
    this.dependencies = new Int32Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  add(k: number, s: number, c: number, i: number, ph: number, seg: number, nseg: number, d: number, l: number): number {
    if (!(d >= 0 && d < Infinity)) invariant(false, `desStep: op duration must be finite >= 0, got ${d}`);
    const id = this.n++;
    if (id === this.kind.length) this.resize(2 * id);
    this.kind[id] = k;
    this.stage[id] = s;
    this.chunk[id] = c;
    this.microBatch[id] = i;
    this.phase[id] = ph;
    this.segment[id] = seg;
    this.segmentCount[id] = nseg;
    this.duration[id] = d;
    this.link[id] = l;
    this.program[id] = -1;
    this.successors.push([]);
    return id;
  }

  /** Trims the arrays to the ops added (readers take their lengths as the op count). */
  done(): this {
    this.resize(this.n);
    return this;
  }

  private resize(capacity: number): void {
    const grow = <A extends Int32Array | Float64Array>(a: A): A => {
      const b = new (a.constructor as new (n: number) => A)(capacity);
      b.set(a.subarray(0, Math.min(a.length, capacity)));
      return b;
    };
    this.kind = grow(this.kind);
    this.stage = grow(this.stage);
    this.chunk = grow(this.chunk);
    this.microBatch = grow(this.microBatch);
    this.phase = grow(this.phase);
    this.segment = grow(this.segment);
    this.segmentCount = grow(this.segmentCount);
    this.duration = grow(this.duration);
    this.link = grow(this.link);
    this.program = grow(this.program);
    this.dependencies = grow(this.dependencies);
  }

  dep(before: number, after: number): void {
    this.successors[before].push(after);
    this.dependencies[after]++;
  }

  toProgram(p: number, id: number): void {
    this.program[id] = p;
    this.programs[p].push(id);
  }
}

export interface StepGraph {
  ops: OpTable;
  links: DagSpec['links'];
}

/**
 * Builds the op graph of one step. Programs: compute of rank s is program s, its DP stream program
 * pp + s. `vpp` is the number of model chunks per rank (2 under DualPipe, one per direction, each
 * running m/2 micro-batches: des/dualpipe.ts).
 */
export function buildStepGraph(sc: Scenario, costs: StepCosts, shape: { schedule: ScheduleName; pp: number; vpp: number; m: number }, segments: Segment[][][][], factors: StageFactors): StepGraph {
  const plan = sc.plan;
  const { schedule, pp, vpp } = shape;
  const dual = schedule === 'dualpipe';
  // Micro-batches through each chunk, and whether the weight-gradient passes are ops of their own.
  const m = dual ? shape.m / 2 : shape.m;
  const zb = schedule === 'zero-bubble' || dual;
  const route = pipelineNeighbours(schedule, pp, vpp);
  const slowOf = (s: number) => (s === factors.slowStage ? factors.slowFactor : 1);
  const mpn = Math.max(1, costs.placements.pp.membersPerNode);
  const nodeOf = (s: number) => Math.floor(s / mpn);
  const dpOnNic = costs.dp.length > 0 && costs.dp[0].placement.nodes > 1;
  const overlapPp = plan.overlap.pp;
  const overlapDp = plan.overlap.dp;
  const t = new OpTable(2 * pp);
  const newOp = (k: number, s: number, c: number, i: number, ph: number, seg: number, nseg: number, d: number, l: number) => t.add(k, s, c, i, ph, seg, nseg, d, l);
  const dep = (before: number, after: number) => t.dep(before, after);
  const toProgram = (p: number, id: number) => t.toProgram(p, id);

  // Links: per rank an NVLink and a NIC egress, bandwidth normalised to 1 (flow size = seconds alone).
  const links: { bandwidth: number; name: string }[] = [];
  const nvlinkOf: number[] = [];
  const nicOf: number[] = [];
  for (let s = 0; s < pp; s++) {
    nvlinkOf.push(links.push({ bandwidth: 1, name: `stage${s}.nvlink` }) - 1);
    nicOf.push(links.push({ bandwidth: 1, name: `stage${s}.nic` }) - 1);
  }

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
  const sendLink = (from: number, to: number) => (nodeOf(from) === nodeOf(to) ? nvlinkOf[from] : nicOf[from]);
  const sendSeconds = (from: number, to: number) => (nodeOf(from) === nodeOf(to) ? costs.ppSendSecondsSameNode : costs.ppSendSeconds) * slowOf(from);
  const computeOps: number[][] = [];
  const sendAfter: number[][] = []; // send ops issued after compute op id
  const blockFirst: number[] = []; // first piece of the block (schedules.ts ScheduledOp.block) compute op id belongs to: itself outside blocks
  const gatherFor: number[] = []; // DP gather needed by compute op id, or -1
  const reduceAfter: number[] = []; // DP reduce-scatter of the gradients of compute op id, or -1
  for (let s = 0; s < pp; s++) {
    const order = dual ? dualPipeSchedule(pp, shape.m, s) : stageSchedule(schedule, pp, vpp, m, s);
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
    // Sends wait for the end of the block their pass belongs to (a pass alone is its own block):
    // pending ones as (kind, chunk, micro-batch, phase, to) five numbers at a time. Plain loops and
    // no objects per op: this runs once per pass in a cold process (the CLI's one evaluation).
    const pendingSends: number[] = [];
    let startOfBlock = -1;
    for (let pos = 0; pos < order.length; pos++) {
      const op = order[pos];
      const c = op.chunk;
      const i = op.microBatch;
      const ph = op.phase === 'F' ? 0 : op.phase === 'B' ? 1 : 2;
      const k = ph === 0 ? K_F : ph === 1 ? K_B : K_W;
      const segs = segments[s][c][ph];
      const opensBlock = op.block === undefined || order[pos - 1]?.block !== op.block;
      const closesBlock = op.block === undefined || order[pos + 1]?.block !== op.block;
      // Split: one piece per segment; else one piece for the whole pass.
      const split = splitAt[pos] === 1 && segs.length > 1;
      const pieces = split ? segs.length : 1;
      let first = -1;
      let last = -1;
      for (let j = 0; j < pieces; j++) {
        let d = 0;
        if (split) d = segs[j].total;
        else for (const g of segs) d += g.total;
        const id = newOp(k, s, c, i, ph, split ? j : 0, split ? 1 : segs.length, d, -1);
        if (last >= 0) dep(last, id);
        else first = id;
        if (first === id && opensBlock) startOfBlock = id;
        last = id;
        list.push(id);
        sendAfter[id] = [];
        blockFirst[id] = startOfBlock;
        gatherFor[id] = -1;
        reduceAfter[id] = -1;
      }
      firstOf[key(s, c, i) * 3 + ph] = first;
      lastOf[key(s, c, i) * 3 + ph] = last;
      if (k === K_F) {
        const next = route.next(s, c);
        if (next) pendingSends.push(K_SEND_F, c, i, ph, next.s);
      } else if (k === K_B) {
        const prev = route.prev(s, c);
        if (prev) pendingSends.push(K_SEND_B, c, i, ph, prev.s);
      }
      if (!closesBlock) continue;
      for (let q = 0; q < pendingSends.length; q += 5) {
        const pk = pendingSends[q];
        const pc = pendingSends[q + 1];
        const pi = pendingSends[q + 2];
        const pph = pendingSends[q + 3];
        const to = pendingSends[q + 4];
        const sid = newOp(pk, s, pc, pi, pph, 0, 0, sendSeconds(s, to), sendLink(s, to));
        (pk === K_SEND_F ? sendF : sendB)[key(s, pc, pi)] = sid;
        sendAfter[last].push(sid);
        dep(last, sid);
      }
      pendingSends.length = 0;
    }
    computeOps.push(list);
  }
  // Cross-rank data dependencies: activations forward, gradients backward, through the sends.
  for (let s = 0; s < pp; s++) {
    for (let c = 0; c < vpp; c++) {
      const prev = route.prev(s, c);
      const next = route.next(s, c);
      for (let i = 0; i < m; i++) {
        const f = firstOf[key(s, c, i) * 3];
        const b = firstOf[key(s, c, i) * 3 + 1];
        const w = firstOf[key(s, c, i) * 3 + 2];
        invariant(f >= 0 && b >= 0 && (!zb || w >= 0), `desStep: schedule misses F, B or W of stage ${s} chunk ${c} micro-batch ${i}`);
        // An input gates the block its pass belongs to (DualPipe's F&B waits for both inputs).
        if (prev) dep(sendF[key(prev.s, prev.c, i)], blockFirst[f]);
        if (next) dep(sendB[key(next.s, next.c, i)], blockFirst[b]);
        else dep(lastOf[key(s, c, i) * 3], b);
        if (zb) dep(lastOf[key(s, c, i) * 3 + 1], w);
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
    const segOf = (id: number) => segments[s][t.chunk[id]][t.phase[id]];
    // Collective of compute op `id`'s parameters (or gradients): its segments' share of the rank's.
    const dpOp = (k: number, id: number, seconds: number) => {
      const segs = segOf(id);
      let share = 0;
      for (let j = t.segment[id]; j < t.segment[id] + t.segmentCount[id]; j++) share += segs[j].paramShare;
      return newOp(k, s, t.chunk[id], zero3 ? t.microBatch[id] : -1, t.phase[id], t.segment[id], t.segmentCount[id], seconds * share * slow, dpLink);
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
        if (t.kind[id] === K_F && !firstFwdMb.has(t.chunk[id])) firstFwdMb.set(t.chunk[id], t.microBatch[id]);
        if (t.kind[id] === gradKind) lastGradMb.set(t.chunk[id], t.microBatch[id]);
      }
      for (const id of ops) {
        const k = t.kind[id];
        const c = t.chunk[id];
        if (hasGather(s) && (zero3 ? k !== K_W : k === K_F && firstFwdMb.get(c) === t.microBatch[id])) gatherFor[id] = dpOp(K_GATHER, id, d.paramGatherSeconds);
        if (hasReduce(s) && k === gradKind && (zero3 || lastGradMb.get(c) === t.microBatch[id])) reduceAfter[id] = dpOp(K_REDUCE, id, d.gradientSeconds);
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
      if (!overlapPp) for (const sid of sendAfter[id]) toProgram(s, sid);
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
    for (const r of reduces) if (t.program[r] !== s) dep(r, opt);
    toProgram(s, opt);
  }
  return { ops: t.done(), links };
}
