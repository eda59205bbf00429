/**
 * Discrete-event step engine: one training step of one representative pipeline (pp ranks; the
 * DP replicas are symmetric, so one pipeline stands for all of them) run on the event core.
 *
 * Ops are per (stage, model chunk, micro-batch, phase): a chunk's layers run back to back on the
 * compute stream, so simulating them one by one would only multiply events. Only passes next to
 * a DP collective are split per layer (per-layer buckets: a layer's gather or reduce-scatter
 * overlaps the neighbouring layers' compute). Per-layer detail is recovered exactly for the trace
 * (report/chrome-trace.ts) from the same per-layer durations (des/segments.ts buildSegments).
 *
 * Resources per pipeline rank (one GPU stands for its TP/CP group, which moves in lockstep):
 * - compute: a serial program (the schedule's op order, schedules.ts). TP/CP/EP collectives are
 *   folded into the compute ops with the overlap rules both engines share (overlap.ts): inline
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
 * Files: des/chunks.ts (layers per model chunk), des/segments.ts (per-layer pass pieces),
 * des/graph.ts (the op graph and programs), sim/dag.ts (the generic executor), des/analysis.ts
 * (critical path, statistics, op records), des/types.ts (result types).
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
import type { StepCosts } from './costs.js';
import { planLayout } from '../plan/layout.js';
import type { ScheduleName } from '../plan/pipeline.js';
import { runDag } from '../sim/dag.js';
import { invariant } from '../errors.js';
import { chunkLayout } from './des/chunks.js';
import { dualPipeChunkLayout, dualPipeRuns } from './des/dualpipe.js';
import { buildSegments, stageFactors } from './des/segments.js';
import { buildStepGraph } from './des/graph.js';
import { analyseStep } from './des/analysis.js';
import { KINDS, type DesStepResult } from './des/types.js';

/** Largest op count the discrete-event step simulates (~1 s of work on this machine's class of CPU). */
export const MAX_DES_OPS = 1_000_000;

/** Ops the DES schedules for one step: every (stage, model chunk, micro-batch, phase F/B/W). */
export function desOpCount(plan: Pick<Scenario['plan'], 'pp' | 'vpp' | 'schedule' | 'numMicroBatches'>): number {
  return plan.pp * (plan.schedule === 'interleaved-1f1b' ? plan.vpp : 1) * plan.numMicroBatches * 3;
}

/**
 * Whether the discrete-event engine runs this schedule. DualPipe runs as its reference
 * implementation does (des/dualpipe.ts), which needs at least 2·pp micro-batches; with fewer the
 * closed form (analytic.ts, DeepSeek-V3 Table 2's bubble) answers for it.
 */
export function desRunsSchedule(schedule: ScheduleName, pp: number, m: number): boolean {
  return schedule !== 'dualpipe' || pp === 1 || dualPipeRuns(pp, m);
}

/** Runs one training step on the discrete-event core and returns the step time with its detail. */
export function desStep(sc: Scenario, costs: StepCosts): DesStepResult {
  const plan = sc.plan;
  // The schedule as run (plan/pipeline.ts): a single rank runs plain 1F1B (no pipeline).
  const { schedule, pp, vpp } = planLayout(sc.model, plan).pipeline;
  const m = costs.numMicroBatches;
  invariant(Number.isInteger(m) && m >= 1, `desStep: numMicroBatches must be a positive integer, got ${m}`);
  // Weight-gradient passes are ops of their own under zero bubble and DualPipe.
  const zb = schedule === 'zero-bubble' || schedule === 'dualpipe';
  invariant(desRunsSchedule(schedule, pp, m), `desStep: DualPipe needs an even pp and an even m >= 2·pp (desRunsSchedule), got pp ${pp}, m ${m}`);
  invariant(costs.stages.length === pp, `desStep: costs have ${costs.stages.length} stages, plan.pp is ${pp}`);

  const layersPerStage = costs.stages.map((st) => st.layers.length);
  // DualPipe: two chunks per rank, one per direction (stage s and stage pp − 1 − s).
  const dual = schedule === 'dualpipe';
  const shape = { schedule, pp, vpp: dual ? 2 : vpp, m };
  const chunks = dual ? dualPipeChunkLayout(layersPerStage) : chunkLayout(layersPerStage, vpp);
  const factors = stageFactors(sc, costs);
  const segments = buildSegments(sc, costs, chunks, zb, factors);
  const { ops, links } = buildStepGraph(sc, costs, shape, segments, factors);
  const run = runDag({ size: ops.duration, link: ops.link, program: ops.program, successors: ops.successors, dependencies: ops.dependencies, programs: ops.programs, links });
  const n = ops.size;
  if (run.completed !== n) {
    const stuck: string[] = [];
    for (let p = 0; p < ops.programs.length && stuck.length < 4; p++) {
      const id = ops.programs[p][run.programPosition[p]];
      if (id !== undefined) stuck.push(`${p < pp ? 'compute' : 'dp'} of stage ${p % pp} at ${KINDS[ops.kind[id]]} chunk ${ops.chunk[id]} micro-batch ${ops.microBatch[id]}`);
    }
    invariant(false, `desStep: deadlock, ${n - run.completed} of ${n} ops never ran (${schedule}, pp ${pp}, vpp ${shape.vpp}, m ${m}): ${stuck.join('; ')}`);
  }
  return analyseStep(ops, run, shape, chunks, segments, factors);
}
