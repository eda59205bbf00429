/**
 * A training programme's Monte Carlo trial: its stages in order on one failure timeline. Each
 * stage runs the run engine (engine.ts) on its own model (its cluster size, step time, checkpoint
 * interval and spare pool), starting where the stage before left off:
 *
 * - the generator carries on, so trial t of a one-stage programme is trial t of its scenario;
 * - nodes out for repair stay out until their repair is done, counted against the next stage's
 *   spare pool (a stage that grows the job may wait for them; assumption: nodes a shrinking job
 *   frees are not added to its spares);
 * - pending fault arrivals carry over when the next stage has the same fault processes at the same
 *   rates (same cluster size); otherwise they are drawn afresh at the boundary, exact for the
 *   exponential processes (memoryless) and a renewal from the boundary for Weibull ones (assumption);
 * - a change of layout or GPU count (or of stage kind) is a relaunch: a blocking save of the stage
 *   before's state, then the next stage's restart (relaunch, communicator init, checkpoint load),
 *   as a planned stop with no downtime, so faults during it cost what they cost any stop;
 * - a stage of fixed duration (generate) takes its ideal time: its faults are not simulated and the
 *   fault processes are drawn afresh after it (assumption, stated with the stage).
 *
 * A trial that does not finish a stage within its wall cap stops there (later stages read zero).
 * Pure: trial t draws from deriveSeed(seed, t) only, so rows do not depend on how trials are split.
 */
import { createRng, deriveSeed, type Seed } from '../sim/index.js';
import type { RunModel, ScriptedFault, StageStart } from './run-model.js';
import { TrialField as F, rowWidth } from './trial-row.js';
import { TrialRunner } from './trial-runner.js';

export interface ProgrammeStageModel {
  name: string;
  /** The stage's run model; absent for a stage of fixed duration (generate). */
  model?: RunModel;
  /** A stage without a model: its wall-clock seconds. */
  fixedSeconds?: number;
  /** The stage starts with a relaunch (new layout, GPU count or kind). */
  relaunch: boolean;
  /** Pending fault arrivals carry over from the stage before (same processes at the same rates). */
  carryArrivals: boolean;
  /** Tests: faults at fixed times from the stage's start, replacing the random ones. */
  script?: ScriptedFault[];
}

/** A programme's trial model: plain numbers, structured-clone safe (sent to worker threads). */
export interface ProgrammeModel {
  stages: ProgrammeStageModel[];
}

/** Numbers in stage `s`'s part of a programme row (a fixed stage books wall, finished and useful only). */
export function stageRowWidth(s: ProgrammeStageModel): number {
  return s.model ? rowWidth(s.model) : F.components;
}

/** Where each stage's part starts in a programme row. */
export function stageOffsets(p: ProgrammeModel): number[] {
  const out: number[] = [];
  let at = 0;
  for (const s of p.stages) {
    out.push(at);
    at += stageRowWidth(s);
  }
  return out;
}

/** Numbers in one programme trial's row: each stage's trial row, in stage order. */
export function programmeRowWidth(p: ProgrammeModel): number {
  return p.stages.reduce((a, s) => a + stageRowWidth(s), 0);
}

/** Simulates programme trials [start, end) of `seed` into a new row-major array (trial t at (t − start) · width). */
export function runProgrammeRange(p: ProgrammeModel, seed: Seed, start: number, end: number): Float64Array {
  const width = programmeRowWidth(p);
  const offsets = stageOffsets(p);
  const runners = p.stages.map((s) => (s.model ? new TrialRunner(s.model) : null));
  const out = new Float64Array((end - start) * width);
  for (let t = start; t < end; t++) {
    const rng = createRng(deriveSeed(seed, t));
    const base = (t - start) * width;
    let carry: StageStart = { repairs: [] };
    let saveSeconds = 0;
    let scripted = false;
    for (let k = 0; k < p.stages.length; k++) {
      const s = p.stages[k];
      const runner = runners[k];
      const at = base + offsets[k];
      if (!runner) {
        const d = s.fixedSeconds ?? 0;
        out[at + F.wall] = d;
        out[at + F.useful] = d;
        out[at + F.finished] = 1;
        carry = { repairs: shiftRepairs(carry.repairs, d) };
        saveSeconds = 0; // nothing trained to save
        scripted = false;
        continue;
      }
      const begin: StageStart = {
        arrivals: s.carryArrivals && !scripted ? carry.arrivals : undefined,
        repairs: carry.repairs,
        relaunchSaveSeconds: k > 0 && s.relaunch ? saveSeconds : undefined,
      };
      carry = runner.runStage(rng, out, at, begin, s.script);
      if (out[at + F.finished] !== 1) break;
      saveSeconds = s.model!.stopCheckpointSeconds;
      scripted = s.script !== undefined;
    }
  }
  return out;
}

/** Repairs `seconds` later: those done by then leave the queue. */
function shiftRepairs(repairs: number[], seconds: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < repairs.length; i += 2) if (repairs[i] > seconds) out.push(repairs[i] - seconds, repairs[i + 1]);
  return out;
}
