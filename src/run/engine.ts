/**
 * The run engine: one training run as failures, detection, restarts, node repairs and
 * checkpoints on the discrete-event core, sampled once per Monte Carlo trial.
 *
 * Only changes of the job's state are events: a fault (or planned stop) arriving, a planned
 * stop's save done, a restart done, the work done. Work and checkpoints between them follow a
 * fixed cycle (work τ, pause for the save) and are advanced in closed form, and nodes out for
 * repair are a sorted list read when a restart needs the spare pool, so a 70-day run of 16K GPUs
 * costs about two events per interruption instead of a million steps. Stale events are ignored
 * by comparing the epoch they carry with the trial's current one (SimPy-style interrupt).
 *
 * Pure: no fs, no clock, no Math.random. Everything random comes from the trial's own
 * generator, deriveSeed(seed, trial), so a trial replays alone and results do not depend on
 * how trials are split across worker threads.
 */
import { Simulation, createRng, deriveSeed, type Rng, type Seed } from '../sim/index.js';
import { invariant } from '../errors.js';

/** Events one trial may handle before it is given up (a whole llama3-405b run needs ~2,000; 10x headroom). */
export const MAX_EVENTS_PER_TRIAL = 20_000;

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
  | { kind: 'stopped'; epoch: number }
  | { kind: 'restarted'; epoch: number }
  | { kind: 'finish'; epoch: number };

// Job phases. RECOVER is the outage: detection (or maintenance) until readyTime, waiting for
// repaired nodes until restartStart when the spare pool is short, then the restart.
const RUNNING = 0;
const STOPPING = 1; // planned stop: writing a blocking checkpoint
const RECOVER = 2;
const DONE = 3;

// Tie-break at equal times: the run finishing comes before a new fault.
const PRIO_FINISH = -1;

// Relative slack when dividing work into whole intervals, so float noise never adds a cycle.
const EPS = 1e-9;

/** Arrival processes: all exponential components merged into one, each Weibull on its own. */
interface Processes {
  expRate: number;
  /** Walker alias table over the exponential components: one uniform picks one in O(1). */
  aliasProb: Float64Array;
  aliasOf: Int32Array;
  aliasComponent: Int32Array;
  weibull: { component: number; scale: number; shape: number }[];
}

function buildProcesses(model: RunModel): Processes {
  const exp: number[] = [];
  const weibull: Processes['weibull'] = [];
  let expRate = 0;
  model.components.forEach((c, i) => {
    if (!(c.ratePerSecond > 0)) return;
    if (c.shape === 1) {
      exp.push(i);
      expRate += c.ratePerSecond;
    } else {
      // Weibull inter-arrivals with mean 1/rate: scale = mean / Γ(1 + 1/k).
      weibull.push({ component: i, scale: 1 / c.ratePerSecond / gamma(1 + 1 / c.shape), shape: c.shape });
    }
  });
  const n = exp.length;
  const aliasProb = new Float64Array(n);
  const aliasOf = new Int32Array(n);
  // Vose's alias construction: scaled probabilities, small ones topped up by large ones.
  const scaled = exp.map((c) => (model.components[c].ratePerSecond * n) / expRate);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((q, i) => (q < 1 ? small : large).push(i));
  while (small.length > 0 && large.length > 0) {
    const s = small.pop()!;
    const l = large[large.length - 1];
    aliasProb[s] = scaled[s];
    aliasOf[s] = l;
    scaled[l] -= 1 - scaled[s];
    if (scaled[l] < 1) small.push(large.pop()!);
  }
  for (const i of [...small, ...large]) {
    aliasProb[i] = 1;
    aliasOf[i] = i;
  }
  return { expRate, aliasProb, aliasOf, aliasComponent: Int32Array.from(exp), weibull };
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
  private row: Float64Array = new Float64Array(0);
  private base = 0;
  private scripted = false;
  /** Time of each process's next arrival (index 0: the merged exponential one, then the Weibulls). */
  private readonly nextArrival: Float64Array;

  // Trial state.
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
  /** RECOVER: when detection (or maintenance) ends and the restart begins. */
  private readyTime = 0;
  /** RECOVER: when the restart begins (after readyTime if the pool had to wait for repairs). */
  private restartStart = 0;
  /** RECOVER: the row bucket of the time before readyTime (detection or maintenance). */
  private downBucket: number = F.detect;
  /**
   * Nodes out for repair, as (return time, nodes) sorted by time. Repairs change nothing until
   * a restart needs the pool, so they are kept here and read then, rather than queued as events.
   */
  private repairTimes: number[] = [];
  private repairNodes: number[] = [];
  private repairHead = 0;
  private nodesOut = 0;

  constructor(private readonly model: RunModel) {
    invariant(model.intervalSeconds > 0 && Number.isFinite(model.intervalSeconds), `checkpoint interval must be positive, got ${model.intervalSeconds}`);
    invariant(model.backgroundSeconds <= model.intervalSeconds * (1 + EPS), 'an async write must finish within one interval');
    this.sim = new Simulation<RunEvent>((_, e) => this.handle(e));
    this.processes = buildProcesses(model);
    this.arrivalEvents = [{ kind: 'arrival', process: -1 }, ...this.processes.weibull.map((_, i): RunEvent => ({ kind: 'arrival', process: i }))];
    this.nextArrival = new Float64Array(this.arrivalEvents.length).fill(Infinity);
    this.cycleSeconds = model.intervalSeconds + model.pauseSeconds;
  }

  /** Simulates trial `trial` of `seed` into `row` at `offset` (rowWidth(model) numbers); `script` replaces the random faults. */
  run(seed: Seed, trial: number, row: Float64Array, offset: number, script?: ScriptedFault[]): void {
    const m = this.model;
    row.fill(0, offset, offset + rowWidth(m));
    this.row = row;
    this.base = offset;
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
    this.restartStart = 0;
    this.repairTimes.length = 0;
    this.repairNodes.length = 0;
    this.repairHead = 0;
    this.nodesOut = 0;
    this.nextArrival.fill(Infinity);
    this.scripted = script !== undefined;
    if (script) {
      for (const f of script) {
        invariant(f.component >= 0 && f.component < m.components.length, `scripted fault names component ${f.component}`);
        this.sim.scheduleAt(f.timeSeconds, { kind: 'fault', component: f.component });
      }
    } else {
      const p = this.processes;
      if (p.expRate > 0) this.scheduleArrival(0, this.rng.exponential(1 / p.expRate));
      p.weibull.forEach((w, i) => this.scheduleArrival(i + 1, this.rng.weibull(w.scale, w.shape)));
    }
    this.startSegment();

    const end = Number.isFinite(m.horizonSeconds) ? m.horizonSeconds : m.maxWallSeconds;
    // A trial whose failures outpace progress (say, a huge cluster with too few spares) could
    // run millions of events before its wall-clock cap: past MAX_EVENTS_PER_TRIAL it is given up
    // and reported as unfinished at the cap, like a trial that hit the cap.
    if (this.phase !== DONE) this.sim.run({ until: end, maxEvents: MAX_EVENTS_PER_TRIAL });
    const r = this.row;
    const b = this.base;
    if (this.phase === DONE) {
      r[b + F.finished] = 1;
      r[b + F.wall] = this.sim.now;
    } else {
      // Window over (or gave up): book the open phase up to the end; work in progress is kept.
      this.closePhase(end, false);
      r[b + F.wall] = end;
    }
    r[b + F.useful] = this.progress;
  }

  private scheduleArrival(slot: number, delay: number): void {
    this.nextArrival[slot] = this.sim.now + delay;
    this.sim.schedule(delay, this.arrivalEvents[slot]);
  }

  private handle(e: RunEvent): void {
    switch (e.kind) {
      case 'arrival':
        return this.onArrival(e.process);
      case 'fault':
        return this.onFault(e.component);
      default:
        if (e.epoch !== this.epoch) return; // stale: superseded by a later fault or stop
        if (e.kind === 'stopped') this.onStopped();
        else if (e.kind === 'restarted') this.onRestarted();
        else this.onFinish();
    }
  }

  private onArrival(process: number): void {
    const p = this.processes;
    let component: number;
    if (process < 0) {
      // Superposed exponential components: next arrival of the sum, then pick one by its rate.
      const x = this.rng.uniform() * p.aliasProb.length;
      const i = Math.floor(x);
      component = p.aliasComponent[x - i < p.aliasProb[i] ? i : p.aliasOf[i]];
      this.scheduleArrival(0, this.rng.exponential(1 / p.expRate));
    } else {
      const w = p.weibull[process];
      component = w.component;
      this.scheduleArrival(process + 1, this.rng.weibull(w.scale, w.shape));
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
      this.returnRepaired(now);
      this.sendToRepair(now + comp.repairSeconds, comp.nodesOut);
      r[b + F.nodesReplaced] += comp.nodesOut;
      if (this.nodesOut > r[b + F.peakNodesOut]) r[b + F.peakNodesOut] = this.nodesOut;
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
        const detecting = phase === RECOVER && now < this.readyTime;
        const bucket = detecting ? this.downBucket : F.maintenance;
        this.closePhase(now, false);
        this.recover(now, Math.max(detecting ? this.readyTime : now, now + comp.downtimeSeconds), bucket);
      }
      return;
    }
    // Unexpected: the job dies (or its recovery does); work since the last committed checkpoint
    // is lost, and the outage is at least this fault's detection time from now.
    const keep = phase === RECOVER && now < this.readyTime ? this.readyTime : now;
    this.closePhase(now, true);
    this.recover(now, Math.max(keep, now + comp.detectSeconds), F.detect);
  }

  /**
   * Outage until `ready` (time booked to `bucket`), then the restart once enough nodes are
   * healthy: the spare pool covers nodes out for repair up to spareNodes; beyond that the job
   * waits for repairs to return. Only faults take nodes away, and a fault re-plans the outage,
   * so the restart's end is known now and scheduled directly.
   */
  private recover(now: number, ready: number, bucket: number): void {
    this.enter(RECOVER, now);
    this.readyTime = ready;
    this.downBucket = bucket;
    this.restartStart = Math.max(ready, this.poolReadyTime(now));
    this.sim.scheduleAt(this.restartStart + this.model.restartSeconds, { kind: 'restarted', epoch: ++this.epoch });
  }

  /** Drops repairs that are back by `now` (entries before repairHead are gone). */
  private returnRepaired(now: number): void {
    const times = this.repairTimes;
    let k = this.repairHead;
    while (k < times.length && times[k] <= now) this.nodesOut -= this.repairNodes[k++];
    if (k === times.length) {
      times.length = 0;
      this.repairNodes.length = 0;
      k = 0;
    } else if (k > 256) {
      times.splice(0, k);
      this.repairNodes.splice(0, k);
      k = 0;
    }
    this.repairHead = k;
  }

  private sendToRepair(back: number, nodes: number): void {
    const times = this.repairTimes;
    const counts = this.repairNodes;
    let i = times.length;
    times.push(back);
    counts.push(nodes);
    // Insertion from the back: repairs mostly return in the order they left.
    for (; i > this.repairHead && times[i - 1] > back; i--) {
      times[i] = times[i - 1];
      counts[i] = counts[i - 1];
    }
    times[i] = back;
    counts[i] = nodes;
    this.nodesOut += nodes;
  }

  /** Earliest time from `now` at which nodes out for repair fit in the spare pool. */
  private poolReadyTime(now: number): number {
    this.returnRepaired(now);
    let out = this.nodesOut;
    const spares = this.model.spareNodes;
    for (let k = this.repairHead; out > spares; k++) {
      out -= this.repairNodes[k];
      if (out <= spares) return this.repairTimes[k];
    }
    return now;
  }

  private onStopped(): void {
    const now = this.sim.now;
    this.closePhase(now, false);
    this.progress = this.committed = this.stopProgress;
    this.row[this.base + F.checkpoints]++;
    this.recover(now, now + this.pendingDowntime, F.maintenance);
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
    if (!this.scripted) for (let i = 0; i < this.nextArrival.length; i++) next = Math.min(next, this.nextArrival[i]);
    if (finish <= next) this.sim.scheduleAt(finish, { kind: 'finish', epoch }, PRIO_FINISH);
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
    } else if (phase === RECOVER) {
      // Detection or maintenance until readyTime, waiting for nodes until restartStart, then restarting.
      const start = this.phaseStart;
      const ready = Math.min(Math.max(this.readyTime, start), now);
      const restart = Math.min(Math.max(this.restartStart, ready), now);
      r[b + this.downBucket] += ready - start;
      r[b + F.wait] += restart - ready;
      r[b + F.restart] += now - restart;
      if (restart > ready) r[b + F.waitEpisodes]++;
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
