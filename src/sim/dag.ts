/**
 * A generic executor for a DAG of timed operations on the event core. Each op is a timer (its
 * size is seconds) or a flow on one of the shared links (its size is in the link's units); ops
 * may belong to a serial program (a stream that runs its ops one at a time in list order). An op
 * starts when all its dependencies are done and, in a program, when the op before it is done.
 * The executor knows nothing of what the ops mean; it reports when each ran and the critical-path
 * predecessor of each (whichever of its last dependency and its program predecessor ended last),
 * so the caller can walk the critical path back from any op.
 */
import { Simulation, type SimProcess } from './engine.js';
import { SharedLink } from './shared-link.js';

export interface DagSpec {
  /** Per op: seconds for a timer, flow size for a link op. */
  size: ArrayLike<number>;
  /** Per op: index into links, or -1 for a timer. */
  link: ArrayLike<number>;
  /** Per op: index into programs, or -1 for an op that runs as soon as it is ready. */
  program: ArrayLike<number>;
  /** Per op: the ops that depend on it. */
  successors: readonly (readonly number[])[];
  /** Per op: how many ops it depends on. */
  dependencies: ArrayLike<number>;
  /** Serial programs: op ids in run order. */
  programs: readonly (readonly number[])[];
  /** Shared links (fair share among their flows). */
  links: readonly { bandwidth: number; name: string }[];
}

export interface DagRun {
  /** Start and end time of each op (NaN if it never ran). */
  start: Float64Array;
  end: Float64Array;
  /** Critical-path predecessor of each op, or -1. */
  pred: Int32Array;
  /** Ops that ran; fewer than the op count means a deadlock. */
  completed: number;
  /** Per program, the position of the first op that did not run (its length when all ran). */
  programPosition: Int32Array;
  /** Events the core handled. */
  events: number;
}

/** Runs the DAG to completion (or deadlock) and returns when each op ran. */
export function runDag(spec: DagSpec): DagRun {
  const { size: dur, link, program: prog, successors: succ, programs } = spec;
  const n = dur.length;
  const sim = new Simulation<never>(() => {});
  const links = spec.links.map((l) => new SharedLink(sim, l.bandwidth, l.name));
  const depsLeft = Int32Array.from(spec.dependencies);
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
    start[id] = sim.now;
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
  return { start, end, pred, completed, programPosition: progPtr, events: run.events };
}
