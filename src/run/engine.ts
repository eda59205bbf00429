/**
 * The run engine: one training run as failures, detection, restarts, node repairs and
 * checkpoints on the discrete-event core, sampled once per Monte Carlo trial.
 *
 * Only changes of the job's state are events: a fault (or planned stop) arriving, a planned
 * stop's save done, a restart done, the work done. Work and checkpoints between them follow a
 * fixed cycle (work τ, pause for the save) and are advanced in closed form, and nodes out for
 * repair sit in a RepairPool read when a restart needs the spare pool, so a 70-day run of 16K
 * GPUs costs about two events per interruption instead of a million steps. Stale events are
 * ignored by comparing the epoch they carry with the trial's current one (SimPy-style interrupt).
 *
 * Every trial simulates every event up to its end (the token budget, the horizon, or the wall
 * cap the summary reports); planRun refuses up front a Monte Carlo whose expected events are too
 * many, so no trial is cut short silently.
 *
 * Pure: no fs, no clock, no Math.random. Everything random comes from the generator the trial
 * is given, and each trial starts from a fresh Trial object (trial-runner.ts runs them).
 */
import { Simulation, type Rng } from '../sim/index.js';
import { invariant } from '../errors.js';
import type { RunModel, ScriptedFault, StageStart } from './run-model.js';
import { TrialField as F } from './trial-row.js';
import { buildProcesses, type Processes } from './arrivals.js';
import { RepairPool } from './repair-pool.js';
import { Outage } from './outage.js';

export type RunEvent =
  | { kind: 'arrival'; process: number }
  | { kind: 'fault'; component: number }
  | { kind: 'stopped'; epoch: number }
  | { kind: 'restarted' }
  | { kind: 'finish'; epoch: number };

// Job phases. RECOVER is the outage: detection (or maintenance) until readyTime, waiting for
// repaired nodes until restartStart when the spare pool is short, then the restart.
const RUNNING = 0;
const STOPPING = 1; // planned stop: writing a blocking checkpoint
const RECOVER = 2;
const DONE = 3;

/**
 * The restart wake-up, one object for every trial: a wake-up pops at exactly the time it was
 * scheduled for, so the clock tells a live one (at restartWakeAt) from a stale one, and a cold
 * evaluate's ~30,000 wake-ups allocate nothing.
 */
const RESTARTED: RunEvent = { kind: 'restarted' };

// Tie-break at equal times: the run finishing comes before a new fault.
const PRIO_FINISH = -1;

// Relative slack when dividing work into whole intervals, so float noise never adds a cycle.
const EPS = 1e-9;

/** What every trial of one model shares (read-only): built once per model by TrialRunner (trial-runner.ts). */
export interface Shared {
  model: RunModel;
  processes: Processes;
  arrivalEvents: RunEvent[];
  /** Work interval plus the checkpoint pause. */
  cycleSeconds: number;
  /** Mean of the merged exponential process (1 / its rate), and each Weibull's 1 / shape: drawn inline per arrival, as Rng.exponential and Rng.weibull compute them. */
  expMean: number;
  invShape: Float64Array;
}

/** The shared part of `model`'s trials. */
export function shareModel(model: RunModel): Shared {
  invariant(model.intervalSeconds > 0 && Number.isFinite(model.intervalSeconds), `checkpoint interval must be positive, got ${model.intervalSeconds}`);
  invariant(model.backgroundSeconds <= model.intervalSeconds * (1 + EPS), 'an async write must finish within one interval');
  const processes = buildProcesses(model);
  return {
    model,
    processes,
    arrivalEvents: [{ kind: 'arrival', process: -1 }, ...processes.weibull.map((_, i): RunEvent => ({ kind: 'arrival', process: i }))],
    cycleSeconds: model.intervalSeconds + model.pauseSeconds,
    expMean: 1 / processes.expRate,
    invShape: Float64Array.from(processes.weibull, (w) => 1 / w.shape),
  };
}

/**
 * One trial's state: built fresh for every trial, so nothing can leak from one to the next. The
 * event queue it runs on is the runner's, emptied (reset) for each trial: its typed arrays,
 * grown to a trial's size once, and its handler are made once per runner (a cold `evaluate`
 * runs its 50 trials before V8 has optimised this code, so what a trial allocates counts).
 */
export class Trial {
  private readonly model: RunModel;
  private readonly repairs: RepairPool;
  /** Time of each process's next arrival (index 0: the merged exponential one, then the Weibulls). */
  private readonly nextArrival: Float64Array;
  private phase = RUNNING;
  private phaseStart = 0;
  /** Bumped whenever the pending stopped/restarted/finish event changes; older ones are stale. */
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
  /** RECOVER: the outage's timeline (outage.ts). */
  private readonly outage = new Outage();
  /** Time of the live restart wake-up (Infinity: none); wake-ups at other times are stale. */
  private restartWakeAt = Infinity;
  /** Work saved by the last persistent checkpoint (in-memory strategy; else the committed one). */
  private persistent = 0;

  constructor(
    private readonly sim: Simulation<RunEvent>,
    private readonly shared: Shared,
    private readonly rng: Rng,
    private readonly row: Float64Array,
    private readonly base: number,
    private readonly script: ScriptedFault[] | undefined,
    private readonly start?: StageStart,
  ) {
    this.model = shared.model;
    sim.reset();
    this.repairs = new RepairPool(shared.model.spareNodes);
    this.nextArrival = new Float64Array(shared.arrivalEvents.length).fill(Infinity);
  }

  run(): void {
    const m = this.model;
    const st = this.start;
    if (st) {
      for (let i = 0; i < st.repairs.length; i += 2) this.repairs.send(st.repairs[i], st.repairs[i + 1]);
      this.row[this.base + F.peakNodesOut] = this.repairs.nodesOut;
    }
    if (st?.arrivals) {
      st.arrivals.forEach((t, slot) => t < Infinity && this.scheduleArrival(slot, t));
    } else if (this.script) {
      for (const f of this.script) {
        invariant(f.component >= 0 && f.component < m.components.length, `scripted fault names component ${f.component}`);
        this.sim.scheduleAt(f.timeSeconds, { kind: 'fault', component: f.component });
      }
    } else {
      const p = this.shared.processes;
      if (p.expRate > 0) this.scheduleArrival(0, this.rng.exponential(1 / p.expRate));
      p.weibull.forEach((w, i) => this.scheduleArrival(i + 1, this.rng.weibull(w.scale, w.shape)));
    }
    if (st?.relaunchSaveSeconds === undefined) this.startSegment();
    else {
      // A stage boundary with a new layout runs as a planned stop with no downtime: save, then restart.
      this.enter(STOPPING, 0);
      this.sim.schedule(st.relaunchSaveSeconds, { kind: 'stopped', epoch: ++this.epoch });
    }

    const end = Number.isFinite(m.horizonSeconds) ? m.horizonSeconds : m.maxWallSeconds;
    if (this.phase !== DONE) this.sim.run({ until: end });
    const r = this.row;
    const b = this.base;
    if (this.phase === DONE) {
      r[b + F.finished] = 1;
      r[b + F.wall] = this.sim.now;
    } else {
      // Window over (or the wall cap reached): book the open phase up to the end; work in progress is kept.
      this.closePhase(end, false);
      r[b + F.wall] = end;
    }
    r[b + F.useful] = this.progress;
  }

  /** Where this trial leaves the fault processes and the repair queue, in seconds from its end. */
  carry(): StageStart {
    const end = this.row[this.base + F.wall];
    return { arrivals: this.nextArrival.map((t) => t - end), repairs: this.repairs.pending(end) };
  }

  private scheduleArrival(slot: number, delay: number): void {
    this.nextArrival[slot] = this.sim.now + delay;
    this.sim.schedule(delay, this.shared.arrivalEvents[slot]);
  }

  /** The queue's handler calls this for every event of the trial (TrialRunner routes it). */
  handle(e: RunEvent): void {
    switch (e.kind) {
      case 'arrival':
        return this.onArrival(e.process);
      case 'fault':
        return this.onFault(e.component);
      case 'restarted':
        return this.onRestartWake();
      default:
        if (e.epoch !== this.epoch) return; // stale: superseded by a later fault or stop
        if (e.kind === 'stopped') this.onStopped();
        else this.onFinish();
    }
  }

  private onArrival(process: number): void {
    const p = this.shared.processes;
    let component: number;
    if (process < 0) {
      // Superposed exponential components: next arrival of the sum, then pick one by its rate.
      const rng = this.rng;
      const x = rng.uniform() * p.aliasProb.length;
      const i = Math.floor(x);
      component = p.aliasComponent[x - i < p.aliasProb[i] ? i : p.aliasOf[i]];
      // Rng.exponential(1 / expRate), inline (the hot path of a cold process).
      this.scheduleArrival(0, -this.shared.expMean * Math.log1p(-rng.uniform()));
    } else {
      const w = p.weibull[process];
      component = w.component;
      // Rng.weibull(scale, shape), inline.
      this.scheduleArrival(process + 1, w.scale * Math.pow(-Math.log1p(-this.rng.uniform()), this.shared.invShape[process]));
    }
    this.onFault(component);
  }

  private onFault(c: number): void {
    const comp = this.model.components[c];
    const r = this.row;
    const b = this.base;
    r[b + F.components + c]++;
    const now = this.sim.now;
    if (comp.nodesOut > 0 && !comp.elastic) {
      const repairs = this.repairs;
      r[b + F.spareNodeSeconds] += comp.nodesOut * comp.repairSeconds;
      repairs.returnRepaired(now);
      repairs.send(now + comp.repairSeconds, comp.nodesOut);
      r[b + F.nodesReplaced] += comp.nodesOut;
      if (repairs.nodesOut > r[b + F.peakNodesOut]) r[b + F.peakNodesOut] = repairs.nodesOut;
    }
    const phase = this.phase;
    // Where the fault landed, for the report.
    if (phase === RUNNING) r[b + (!comp.planned && this.inPause(now) ? F.duringCheckpoint : F.duringRunning)]++;
    else r[b + (phase === STOPPING ? F.duringCheckpoint : F.duringRecovery)]++;

    if (comp.planned) {
      if (phase === RUNNING) {
        // Stop cleanly: freeze the work done, write a blocking checkpoint of it, then maintain.
        this.closePhase(now, false);
        this.stopProgress = this.progress;
        this.pendingDowntime = comp.downtimeSeconds;
        this.enter(STOPPING, now);
        this.sim.schedule(this.model.stopCheckpointSeconds, { kind: 'stopped', epoch: ++this.epoch });
      } else if (phase === STOPPING) {
        this.pendingDowntime = Math.max(this.pendingDowntime, comp.downtimeSeconds);
      } else {
        // Already down: the maintenance runs alongside and may push the restart out; a wait
        // for nodes or a restart under way is interrupted and starts over afterwards.
        const detecting = phase === RECOVER && now < this.outage.readyTime;
        const bucket = detecting ? this.outage.downBucket : F.maintenance;
        this.closePhase(now, false);
        this.recover(now, Math.max(detecting ? this.outage.readyTime : now, now + comp.downtimeSeconds), bucket, this.model.restartSeconds, this.model.restoreSeconds ?? 0, 0);
      }
      return;
    }
    // Unexpected: the job dies (or its recovery does); work since the last committed checkpoint
    // is lost, and the outage is at least this fault's detection time from now.
    const keep = phase === RECOVER && now < this.outage.readyTime ? this.outage.readyTime : now;
    this.closePhase(now, comp.rollback ?? 'checkpoint');
    const m = this.model;
    this.recover(now, Math.max(keep, now + comp.detectSeconds), F.detect, comp.restartSeconds ?? m.restartSeconds, comp.restoreSeconds ?? m.restoreSeconds ?? 0, comp.degradedSeconds ?? 0);
  }

  /**
   * Outage until `ready` (time booked to `bucket`), then the restart once enough nodes are
   * healthy: the spare pool covers nodes out for repair up to spareNodes; beyond that the job
   * waits for repairs to return. Only faults take nodes away, and a fault re-plans the outage,
   * so the restart's end is known now. One wake-up stands for it: a fault that pushes the end
   * out leaves the wake-up where it is (it re-arms itself when it comes early), so faults
   * arriving during a long outage add nothing to the event queue.
   */
  private recover(now: number, ready: number, bucket: number, restart: number, restore: number, degraded: number): void {
    this.outage.plan(now, this.phase === RECOVER, ready, bucket, restart, restore, degraded, this.repairs.readyTime(now));
    this.enter(RECOVER, now);
    ++this.epoch; // a pending stop or finish is stale now
    if (this.restartWakeAt > this.outage.restartEnd) this.wakeForRestartAt(this.outage.restartEnd);
  }

  private wakeForRestartAt(time: number): void {
    this.restartWakeAt = time;
    this.sim.scheduleAt(time, RESTARTED);
  }

  /** The restart wake-up: restarts when the outage is over, re-arms when a later fault pushed it out. */
  private onRestartWake(): void {
    if (this.sim.now !== this.restartWakeAt) return; // stale: an earlier wake-up replaced it
    this.restartWakeAt = Infinity;
    if (this.sim.now < this.outage.restartEnd) this.wakeForRestartAt(this.outage.restartEnd);
    else this.onRestarted();
  }

  private onStopped(): void {
    const now = this.sim.now;
    this.closePhase(now, false);
    this.progress = this.committed = this.persistent = this.stopProgress;
    this.row[this.base + F.checkpoints]++;
    this.recover(now, now + this.pendingDowntime, F.maintenance, this.model.restartSeconds, this.model.restoreSeconds ?? 0, 0);
  }

  private onRestarted(): void {
    this.closePhase(this.sim.now, false);
    this.startSegment();
  }

  private onFinish(): void {
    this.closePhase(this.sim.now, false);
    this.progress = this.model.workSeconds;
    this.phase = DONE;
    this.sim.stop();
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
    if (!Number.isFinite(remaining)) return;
    // Any arrival ends a running segment, so a finish after the next known arrival would only
    // sit in the queue as a stale event: schedule it when it can actually happen (the next
    // segment schedules its own).
    const finish = now + this.finishOffset(remaining);
    let next = Infinity;
    if (!this.script) for (let i = 0; i < this.nextArrival.length; i++) next = Math.min(next, this.nextArrival[i]);
    if (finish <= next) this.sim.scheduleAt(finish, { kind: 'finish', epoch }, PRIO_FINISH);
  }

  /** Seconds from a segment start until `remaining` work is done: full cycles, then the rest without a save. */
  private finishOffset(remaining: number): number {
    const tau = this.model.intervalSeconds;
    const cycles = Math.max(0, Math.ceil(remaining / tau - EPS) - 1);
    return cycles * this.shared.cycleSeconds + (remaining - cycles * tau);
  }

  private inPause(now: number): boolean {
    const rel = now - this.segmentStart;
    const L = this.shared.cycleSeconds;
    return rel - Math.floor(rel / L) * L > this.model.intervalSeconds;
  }

  /**
   * Books the time since the phase started and, for a running segment, the work done and the
   * checkpoints committed. With `fault`, work since the last committed checkpoint is lost.
   */
  private closePhase(now: number, fault: false | 'checkpoint' | 'persistent' | 'step'): void {
    const r = this.row;
    const b = this.base;
    const phase = this.phase;
    if (phase === RUNNING) {
      const m = this.model;
      const rel = now - this.segmentStart;
      const L = this.shared.cycleSeconds;
      const tau = m.intervalSeconds;
      // Checkpoint k commits when its pause (and, async, its background write) is over.
      let saves = rel >= m.backgroundSeconds ? Math.floor((rel - m.backgroundSeconds) / L) : 0;
      let work: number;
      const remaining = m.workSeconds - this.segmentProgress;
      if (Number.isFinite(remaining) && rel >= this.finishOffset(remaining) * (1 - EPS)) {
        work = remaining;
        saves = Math.min(saves, Math.max(0, Math.ceil(remaining / tau - EPS) - 1));
      } else {
        const k = Math.floor(rel / L);
        work = k * tau + Math.min(rel - k * L, tau);
      }
      r[b + F.checkpoint] += rel - work;
      r[b + F.checkpoints] += saves;
      if (saves > 0) this.commit(this.segmentProgress + saves * tau);
      if (fault === 'checkpoint' && (saves > 0 || this.committed === this.segmentProgress)) {
        // The usual case, in the segment's own terms.
        r[b + F.recompute] += work - saves * tau;
        this.progress = this.committed;
      } else {
        this.progress = this.segmentProgress + work;
        if (fault) this.rollBack(fault);
      }
    } else if (phase === STOPPING) {
      r[b + F.checkpoint] += now - this.phaseStart;
      this.progress = this.stopProgress;
      // The stop's checkpoint did not complete: back to the last committed point.
      if (fault) this.rollBack(fault === 'step' ? 'checkpoint' : fault);
    } else if (phase === RECOVER) {
      this.outage.book(r, b, this.phaseStart, now);
      // Elastic: the shrunk job kept work past its last checkpoint; a crash now loses it.
      if (fault === 'checkpoint' || fault === 'persistent') this.rollBack(fault);
    }
    this.phaseStart = now;
  }

  /** A checkpoint of `work` committed; with in-memory checkpoints, the persistent ones fall on multiples of persistentSeconds. */
  private commit(work: number): void {
    this.committed = work;
    const p = this.model.persistentSeconds;
    this.persistent = p === undefined ? work : Math.max(this.persistent, Math.floor(work / p + EPS) * p);
  }

  /** After a fault: back to the last committed (or persistent) checkpoint, or to the last finished step; the rest is done again. */
  private rollBack(to: 'checkpoint' | 'persistent' | 'step'): void {
    let keep: number;
    if (to === 'step') {
      const step = this.model.stepSeconds;
      keep = Math.max(this.committed, this.segmentProgress + Math.floor((this.progress - this.segmentProgress) / step + EPS) * step);
    } else {
      keep = to === 'persistent' ? this.persistent : this.committed;
      this.committed = keep;
    }
    this.row[this.base + F.recompute] += this.progress - keep;
    this.progress = keep;
  }
}
