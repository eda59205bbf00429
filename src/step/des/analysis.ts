/**
 * What the DES run means: the step time, the critical path by kind (walked back from the op that
 * ends the step), per-rank busy, idle and in-flight statistics, the breakdown on the bottleneck
 * rank, and a record of every op for the timeline and trace.
 */
import type { StepBreakdown } from '../result.js';
import { inFlightFormula, type ScheduleName } from '../../plan/pipeline.js';
import type { DagRun } from '../../sim/dag.js';
import type { ChunkLayout } from './chunks.js';
import type { Segment, StageFactors } from './segments.js';
import type { OpTable } from './graph.js';
import { KINDS, PHASES, K_W, K_F, K_B, K_SEND_F, K_SEND_B, K_GATHER, K_REDUCE, K_OPT, type DesOpRecord, type DesStageStats, type DesStepResult } from './types.js';

/** Turns a finished run of the step graph into the DES result. */
export function analyseStep(
  t: OpTable,
  run: DagRun,
  shape: { schedule: ScheduleName; pp: number; vpp: number; m: number },
  chunks: ChunkLayout[][],
  segments: Segment[][][][],
  factors: StageFactors,
): DesStepResult {
  const { schedule, pp, vpp, m } = shape;
  const { kind, stage: opStage, chunk: opChunk, microBatch: opMb, phase: opPhase, segment: opSeg, segmentCount: opSegs, duration: dur, program: prog, programs } = t;
  const { start, end, pred } = run;
  const n = t.size;
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
      // An interleaved chunk holds 1/vpp of a micro-batch's activations; DualPipe's two chunks are whole stages.
      inFlightPeak: peak / (schedule === 'interleaved-1f1b' ? vpp : 1),
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
      // DualPipe's chunks number their micro-batches within the direction: direction 1's follow direction 0's.
      microBatch: schedule === 'dualpipe' && opMb[id] >= 0 ? opMb[id] + opChunk[id] * (m / 2) : opMb[id],
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
