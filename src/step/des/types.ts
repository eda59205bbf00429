/** The DES step engine's result types and op kinds (des.ts builds, runs and reports them). */
import type { Phase } from '../schedules.js';
import type { ScheduleName } from '../../plan/pipeline.js';
import type { StepResult } from '../result.js';
import type { ChunkLayout } from './chunks.js';
import type { Segment } from './segments.js';

export type OpKind = 'F' | 'B' | 'W' | 'send-f' | 'send-b' | 'dp-gather' | 'dp-reduce' | 'optimizer';
export const KINDS: readonly OpKind[] = ['F', 'B', 'W', 'send-f', 'send-b', 'dp-gather', 'dp-reduce', 'optimizer'];
export const PHASES: readonly Phase[] = ['F', 'B', 'W'];
export const K_F = 0;
export const K_B = 1;
export const K_W = 2;
export const K_SEND_F = 3;
export const K_SEND_B = 4;
export const K_GATHER = 5;
export const K_REDUCE = 6;
export const K_OPT = 7;

/** Where the schedule put one op, when it ran and on which stream. */
export interface DesOpRecord {
  kind: OpKind;
  stage: number;
  chunk: number;
  /** -1 for per-step ops (ZeRO 0-2 collectives, optimizer). DualPipe numbers direction 1's micro-batches after direction 0's (m/2 + j). */
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
  /** The same by the schedule's formula (plan/pipeline.ts inFlightFormula). */
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
