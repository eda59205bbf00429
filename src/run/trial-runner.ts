/**
 * Running trials of the run engine (engine.ts): the part of a model every trial shares is built
 * once, and each trial starts from a fresh Trial with its own generator, deriveSeed(seed, trial),
 * so a trial replays alone and results do not depend on how trials are split across worker
 * threads. A programme's trial (programme-engine.ts) runs its stages one after another on one
 * generator, each stage starting where the one before left the faults and the repair queue.
 */
import { Simulation, createRng, deriveSeed, type Rng, type Seed } from '../sim/index.js';
import type { RunModel, ScriptedFault, StageStart } from './run-model.js';
import { rowWidth } from './trial-row.js';
import { Trial, shareModel, type RunEvent, type Shared } from './engine.js';

/** Runs trials of one model, each from a fresh Trial. */
export class TrialRunner {
  private readonly shared: Shared;
  /** The trial running now: the one event queue, reset for each trial, hands it every event. */
  private trial: Trial | undefined;
  private readonly sim = new Simulation<RunEvent>((_, e) => this.trial!.handle(e));

  constructor(model: RunModel) {
    this.shared = shareModel(model);
  }

  /** Simulates trial `trial` of `seed` into `row` at `offset` (rowWidth(model) numbers); `script` replaces the random faults. */
  run(seed: Seed, trial: number, row: Float64Array, offset: number, script?: ScriptedFault[]): void {
    this.start(createRng(deriveSeed(seed, trial)), row, offset, undefined, script).run();
  }

  /**
   * One stage of a programme's trial: `rng` carries on from the stage before and `start` is where
   * that stage left the faults and the repair queue. Returns where this one leaves them.
   */
  runStage(rng: Rng, row: Float64Array, offset: number, start?: StageStart, script?: ScriptedFault[]): StageStart {
    const trial = this.start(rng, row, offset, start, script);
    trial.run();
    return trial.carry();
  }

  /** A fresh trial on the runner's emptied queue, its row zeroed. */
  private start(rng: Rng, row: Float64Array, offset: number, start?: StageStart, script?: ScriptedFault[]): Trial {
    row.fill(0, offset, offset + rowWidth(this.shared.model));
    return (this.trial = new Trial(this.sim, this.shared, rng, row, offset, script, start));
  }
}

/** Simulates trials [start, end) of `seed` into a new row-major array (trial t at (t - start) · width). */
export function runTrialRange(model: RunModel, seed: Seed, start: number, end: number): Float64Array {
  const width = rowWidth(model);
  const out = new Float64Array((end - start) * width);
  const runner = new TrialRunner(model);
  for (let t = start; t < end; t++) runner.run(seed, t, out, (t - start) * width);
  return out;
}
