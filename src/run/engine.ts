/**
 * The run engine: one training run as failures, detection, restarts, node repairs and
 * checkpoints on the discrete-event core, sampled once per Monte Carlo trial.
 *
 * Only state changes are events (a fault, the end of detection or maintenance, a restart done,
 * a node back from repair, the end of the work); work and checkpoints between them follow a
 * fixed cycle (work τ, pause for the save) and are advanced in closed form, so a 54-day run of
 * 16K GPUs costs a few thousand events instead of a million steps. Stale events are ignored by
 * comparing the epoch they carry with the trial's current one (SimPy-style interrupt).
 *
 * Pure: no fs, no clock, no Math.random. Everything random comes from the trial's own
 * generator, deriveSeed(seed, trial), so a trial replays alone and results do not depend on
 * how trials are split across worker threads.
 */
import { Simulation, createRng, deriveSeed, type Rng, type Seed } from '../sim/index.js';
import { invariant } from '../errors.js';

/** One failure component after unit conversion: a job-level arrival process and its recovery. */
export interface ModelComponent {
  name: string;
  category: string;
  planned: boolean;
  /** Arrivals per second for this job (rate × GPUs, nodes or 1). */
  ratePerSecond: number;
  /** Weibull shape, or 1 for exponential. */
  shape: number;
  detectSeconds: number;
  /** Planned only: seconds between the stop and the restart. */
  downtimeSeconds: number;
  /** Nodes taken out of the job (0: nothing to replace). */
  nodesOut: number;
  repairSeconds: number;
}

/** Everything a trial needs, as plain numbers (structured-clone safe, sent to worker threads). */
export interface RunModel {
  /** Work to do in seconds of uninterrupted training (steps × step time); Infinity in horizon mode. */
  workSeconds: number;
  /** Wall-clock window to simulate; Infinity in full-run mode. */
  horizonSeconds: number;
  /** Full-run mode gives up (trial marked unfinished) at this wall-clock time. */
  maxWallSeconds: number;
  stepSeconds: number;
  /** Work between checkpoints (whole steps). */
  intervalSeconds: number;
  /** Time the job is paused per checkpoint: the blocking write, or the async snapshot. */
  pauseSeconds: number;
  /** Async only: the background write after the pause; the checkpoint commits when it ends. */
  backgroundSeconds: number;
  /** Blocking save taken before a planned stop. */
  stopCheckpointSeconds: number;
  /** Relaunch + communicator init + checkpoint load. */
  restartSeconds: number;
  spareNodes: number;
  components: ModelComponent[];
}

/** A fault injected at a fixed time (tests and what-if replays) instead of the random processes. */
export interface ScriptedFault {
  timeSeconds: number;
  /** Index into RunModel.components. */
  component: number;
}

/** Layout of one trial's result row. */
export const F = {
  wall: 0,
  finished: 1,
  useful: 2,
  recompute: 3,
  checkpoint: 4,
  restart: 5,
  detect: 6,
  maintenance: 7,
  wait: 8,
  duringRunning: 9,
  duringCheckpoint: 10,
  duringRecovery: 11,
  nodesReplaced: 12,
  peakNodesOut: 13,
  waitEpisodes: 14,
  checkpoints: 15,
  /** Interruptions of component c are at components + c. */
  components: 16,
} as const;

/** Number of fields in a trial row. */
export function rowWidth(model: RunModel): number {
  return F.components + model.components.length;
}

type RunEvent =
  | { kind: 'arrival'; process: number }
  | { kind: 'fault'; component: number }
  | { kind: 'ready'; epoch: number }
  | { kind: 'stopped'; epoch: number }
  | { kind: 'restarted'; epoch: number }
  | { kind: 'finish'; epoch: number }
  | { kind: 'repaired'; nodes: number };

// Job phases. Time spent in each goes to one bucket of the trial row.
const RUNNING = 0;
const STOPPING = 1; // planned stop: writing a blocking checkpoint
const DETECT = 2;
const MAINTENANCE = 3;
const WAIT = 4; // waiting for spare nodes
const RESTART = 5;
const DONE = 6;
const phaseBucket = [-1, F.checkpoint, F.detect, F.maintenance, F.wait, F.restart, -1];

// Tie-breaks at equal times: the run finishing and nodes returning come before new faults.
const PRIO_FINISH = -2;
const PRIO_REPAIRED = -1;

// Relative slack when dividing work into whole intervals, so float noise never adds a cycle.
const EPS = 1e-9;

/** Arrival processes: all exponential components merged into one, each Weibull on its own. */
interface Processes {
  expRate: number;
  expComponents: number[];
  expCumulative: number[];
  weibull: { component: number; scale: number; shape: number }[];
}

function buildProcesses(model: RunModel): Processes {
  const p: Processes = { expRate: 0, expComponents: [], expCumulative: [], weibull: [] };
  model.components.forEach((c, i) => {
    if (!(c.ratePerSecond > 0)) return;
    if (c.shape === 1) {
      p.expRate += c.ratePerSecond;
      p.expComponents.push(i);
      p.expCumulative.push(p.expRate);
    } else {
      // Weibull inter-arrivals with mean 1/rate: scale = mean / Γ(1 + 1/k).
      p.weibull.push({ component: i, scale: 1 / c.ratePerSecond / gamma(1 + 1 / c.shape), shape: c.shape });
    }
  });
  return p;
}

/** Γ(x) for x > 0 (Lanczos, g = 7, n = 9; ~15 significant digits). */
export function gamma(x: number): number {
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x));
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  const y = x - 1;
  let a = c[0];
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (y + i);
  return Math.sqrt(2 * Math.PI) * Math.pow(t, y + 0.5) * Math.exp(-t) * a;
}

/** Runs trials of one model; reuses its simulation between trials. */
export class TrialRunner {
  private readonly sim: Simulation<RunEvent>;
  private readonly processes: Processes;
  private readonly arrivalEvents: RunEvent[];
  private readonly cycleSeconds: number;
  private rng: Rng = createRng(0);
  private row!: Float64Array;
  private base = 0;
  private script: ScriptedFault[] | undefined;

  // Trial state.
  private phase = RUNNING;
  private phaseStart = 0;
  private epoch = 0;
  private segmentStart = 0;
  /** Work done (seconds) at the start of the running segment; always a committed point. */
  private segmentProgress = 0;
  /** Work kept so far; rolled back to the last committed checkpoint on a fault. */
  private progress = 0;
  /** Work saved by the last committed checkpoint. */
  private committed = 0;
  /** Planned stop: progress frozen while its checkpoint is written. */
  private stopProgress = 0;
  private pendingDowntime = 0;
  private readyTime = 0;
  private nodesOut = 0;

  constructor(private readonly model: RunModel) {
    invariant(model.intervalSeconds > 0 && Number.isFinite(model.intervalSeconds), `checkpoint interval must be positive, got ${model.intervalSeconds}`);
    invariant(model.backgroundSeconds <= model.intervalSeconds * (1 + EPS), 'an async write must finish within one interval');
    this.sim = new Simulation<RunEvent>((_, e) => this.handle(e));
    this.processes = buildProcesses(model);
    this.arrivalEvents = [{ kind: 'arrival', process: -1 }, ...this.processes.weibull.map((_, i): RunEvent => ({ kind: 'arrival', process: i }))];
    this.cycleSeconds = model.intervalSeconds + model.pauseSeconds;
  }

  /** Simulates trial `trial` of `seed` into `row` at `offset` (rowWidth(model) numbers). */
  run(seed: Seed, trial: number, row: Float64Array, offset: number, script?: ScriptedFault[]): void {
    const m = this.model;
    const width = rowWidth(m);
    row.fill(0, offset, offset + width);
    this.row = row;
    this.base = offset;
    this.script = script;
    this.rng = createRng(deriveSeed(seed, trial));
    this.sim.reset();
    this.phase = RUNNING;
    this.phaseStart = 0;
    this.epoch = 0;
    this.progress = 0;
    this.committed = 0;
    this.stopProgress = 0;
    this.pendingDowntime = 0;
    this.readyTime = 0;
    this.nodesOut = 0;

    if (script) {
      for (const f of script) {
        invariant(f.component >= 0 && f.component < m.components.length, `scripted fault names component ${f.component}`);
        this.sim.scheduleAt(f.timeSeconds, { kind: 'fault', component: f.component });
      }
    } else {
      const p = this.processes;
      if (p.expRate > 0) this.sim.schedule(this.rng.exponential(1 / p.expRate), this.arrivalEvents[0]);
      p.weibull.forEach((w, i) => this.sim.schedule(this.rng.weibull(w.scale, w.shape), this.arrivalEvents[i + 1]));
    }
    this.startSegment();

    const end = Number.isFinite(m.horizonSeconds) ? m.horizonSeconds : m.maxWallSeconds;
    if (this.phase !== DONE) this.sim.run({ until: end });
    const r = this.row;
    const b = this.base;
    if (this.phase === DONE) {
      r[b + F.finished] = 1;
      r[b + F.wall] = this.sim.now;
    } else {
      // Window over (or gave up): close the open phase at the end; work in progress is kept.
      this.closePhase(end, false);
      r[b + F.wall] = end;
    }
    r[b + F.useful] = this.progress;
  }

  private handle(e: RunEvent): void {
    switch (e.kind) {
      case 'arrival':
        return this.onArrival(e.process);
      case 'fault':
        return this.onFault(e.component);
      case 'ready':
        if (e.epoch === this.epoch) this.onReady();
        return;
      case 'stopped':
        if (e.epoch === this.epoch) this.onStopped();
        return;
      case 'restarted':
        if (e.epoch === this.epoch) this.onRestarted();
        return;
      case 'finish':
        if (e.epoch === this.epoch) this.onFinish();
        return;
      case 'repaired':
        return this.onRepaired(e.nodes);
    }
  }

  private onArrival(process: number): void {
    const p = this.processes;
    let component: number;
    if (process < 0) {
      // Superposed exponential components: next arrival of the sum, then pick one by its rate.
      const u = this.rng.uniform() * p.expRate;
      const cum = p.expCumulative;
      let i = 0;
      while (i < cum.length - 1 && u >= cum[i]) i++;
      component = p.expComponents[i];
      this.sim.schedule(this.rng.exponential(1 / p.expRate), this.arrivalEvents[0]);
    } else {
      const w = p.weibull[process];
      component = w.component;
      this.sim.schedule(this.rng.weibull(w.scale, w.shape), this.arrivalEvents[process + 1]);
    }
    this.onFault(component);
  }

  private onFault(c: number): void {
    const comp = this.model.components[c];
    const r = this.row;
    const b = this.base;
    r[b + F.components + c]++;
    const now = this.sim.now;
    if (comp.nodesOut > 0) {
      this.nodesOut += comp.nodesOut;
      r[b + F.nodesReplaced] += comp.nodesOut;
      if (this.nodesOut > r[b + F.peakNodesOut]) r[b + F.peakNodesOut] = this.nodesOut;
      this.sim.schedule(comp.repairSeconds, { kind: 'repaired', nodes: comp.nodesOut }, PRIO_REPAIRED);
    }
    const phase = this.phase;
    if (comp.planned) {
      if (phase === RUNNING) {
        r[b + F.duringRunning]++;
        // Stop cleanly: freeze the work done, write a blocking checkpoint of it, then maintain.
        this.closePhase(now, false);
        this.stopProgress = this.progress;
        this.pendingDowntime = comp.downtimeSeconds;
        this.enter(STOPPING, now);
        this.sim.schedule(this.model.stopCheckpointSeconds, { kind: 'stopped', epoch: ++this.epoch });
        return;
      }
      r[b + (phase === STOPPING ? F.duringCheckpoint : F.duringRecovery)]++;
      if (phase === STOPPING) {
        this.pendingDowntime = Math.max(this.pendingDowntime, comp.downtimeSeconds);
      } else {
        // Already down: the maintenance runs alongside and may push the restart out.
        const keep = phase === DETECT || phase === MAINTENANCE ? this.readyTime : now;
        this.closePhase(now, false);
        this.enter(phase === DETECT ? DETECT : MAINTENANCE, now);
        this.scheduleReady(Math.max(keep, now + comp.downtimeSeconds));
      }
      return;
    }
    // Unexpected fault: the job dies; work since the last committed checkpoint is lost.
    if (phase === RUNNING) {
      r[b + (this.inPause(now) ? F.duringCheckpoint : F.duringRunning)]++;
    } else {
      r[b + (phase === STOPPING ? F.duringCheckpoint : F.duringRecovery)]++;
    }
    const keep = phase === DETECT || phase === MAINTENANCE ? this.readyTime : now;
    this.closePhase(now, true);
    this.enter(DETECT, now);
    this.scheduleReady(Math.max(keep, now + comp.detectSeconds));
  }

  private onStopped(): void {
    const now = this.sim.now;
    this.closePhase(now, false);
    this.progress = this.committed = this.stopProgress;
    this.row[this.base + F.checkpoints]++;
    this.enter(MAINTENANCE, now);
    this.scheduleReady(now + this.pendingDowntime);
  }

  private onReady(): void {
    const now = this.sim.now;
    this.closePhase(now, false);
    if (this.nodesOut > this.model.spareNodes) {
      // Not enough healthy nodes: the job waits for repairs to refill the pool.
      this.row[this.base + F.waitEpisodes]++;
      this.enter(WAIT, now);
      this.epoch++;
    } else {
      this.startRestart(now);
    }
  }

  private onRepaired(nodes: number): void {
    this.nodesOut -= nodes;
    if (this.phase === WAIT && this.nodesOut <= this.model.spareNodes) {
      const now = this.sim.now;
      this.closePhase(now, false);
      this.startRestart(now);
    }
  }

  private startRestart(now: number): void {
    this.enter(RESTART, now);
    this.sim.schedule(this.model.restartSeconds, { kind: 'restarted', epoch: ++this.epoch });
  }

  private onRestarted(): void {
    this.closePhase(this.sim.now, false);
    this.startSegment();
  }

  private onFinish(): void {
    const now = this.sim.now;
    this.closePhase(now, false);
    this.progress = this.model.workSeconds;
    this.phase = DONE;
    this.sim.stop();
  }

  private scheduleReady(time: number): void {
    this.readyTime = time;
    this.sim.scheduleAt(time, { kind: 'ready', epoch: ++this.epoch });
  }

  private enter(phase: number, now: number): void {
    this.phase = phase;
    this.phaseStart = now;
  }

  /** Starts running from the committed progress and schedules the end of the work. */
  private startSegment(): void {
    const now = this.sim.now;
    const m = this.model;
    this.enter(RUNNING, now);
    this.segmentStart = now;
    this.segmentProgress = this.progress;
    const remaining = m.workSeconds - this.progress;
    if (Number.isFinite(remaining) && remaining <= EPS * m.workSeconds) {
      this.progress = m.workSeconds;
      this.phase = DONE;
      this.sim.stop();
      return;
    }
    const epoch = ++this.epoch;
    if (Number.isFinite(remaining)) this.sim.schedule(this.finishOffset(remaining), { kind: 'finish', epoch }, PRIO_FINISH);
  }

  /** Seconds from a segment start until `remaining` work is done: full cycles, then the rest without a save. */
  private finishOffset(remaining: number): number {
    const tau = this.model.intervalSeconds;
    const cycles = Math.max(0, Math.ceil(remaining / tau - EPS) - 1);
    return cycles * this.cycleSeconds + (remaining - cycles * tau);
  }

  private inPause(now: number): boolean {
    const rel = now - this.segmentStart;
    const L = this.cycleSeconds;
    return rel - Math.floor(rel / L) * L > this.model.intervalSeconds;
  }

  /**
   * Books the time since the phase started and, for a running segment, the work done and the
   * checkpoints committed. With `fault`, work since the last committed checkpoint is lost.
   */
  private closePhase(now: number, fault: boolean): void {
    const r = this.row;
    const b = this.base;
    const phase = this.phase;
    if (phase === RUNNING) {
      const m = this.model;
      const rel = now - this.segmentStart;
      const L = this.cycleSeconds;
      const tau = m.intervalSeconds;
      let work: number;
      let saves: number;
      const remaining = m.workSeconds - this.segmentProgress;
      if (Number.isFinite(remaining) && rel >= this.finishOffset(remaining) * (1 - EPS)) {
        work = remaining;
        const cycles = Math.max(0, Math.ceil(remaining / tau - EPS) - 1);
        saves = Math.min(cycles, rel >= m.backgroundSeconds ? Math.floor((rel - m.backgroundSeconds) / L) : 0);
      } else {
        const k = Math.floor(rel / L);
        work = k * tau + Math.min(rel - k * L, tau);
        // Checkpoint k commits when its pause (and, async, its background write) is over.
        saves = rel >= m.backgroundSeconds ? Math.floor((rel - m.backgroundSeconds) / L) : 0;
      }
      r[b + F.checkpoint] += rel - work;
      r[b + F.checkpoints] += saves;
      this.committed = this.segmentProgress + saves * tau;
      if (fault) {
        r[b + F.recompute] += work - saves * tau;
        this.progress = this.committed;
      } else {
        this.progress = this.segmentProgress + work;
      }
    } else if (phase === STOPPING) {
      r[b + F.checkpoint] += now - this.phaseStart;
      if (fault) {
        // The stop's checkpoint did not complete: back to the last committed point.
        r[b + F.recompute] += this.stopProgress - this.committed;
        this.progress = this.committed;
      } else {
        this.progress = this.stopProgress;
      }
    } else if (phase !== DONE) {
      r[b + phaseBucket[phase]] += now - this.phaseStart;
    }
    this.phaseStart = now;
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
