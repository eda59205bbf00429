/** Plain-text rendering of an evaluation: memory bar, step breakdown, throughput, run totals. */
import type { Evaluation } from '../run/evaluate.js';
import type { StageEvaluation, ProgrammeTotal } from '../run/programme.js';
import { formatGiB, formatSeconds, formatPercent, formatSi, formatCount, formatFlop, formatWhole } from '../units/format.js';

/** A horizontal bar of `width` cells filled to `fraction` (over 1 is marked with '!'). */
export function bar(fraction: number, width = 40): string {
  const f = Math.max(0, fraction);
  const filled = Math.min(width, Math.round(Math.min(f, 1) * width));
  return '[' + '█'.repeat(filled) + '░'.repeat(width - filled) + ']' + (f > 1 ? '!' : ' ');
}

const int = formatWhole;

/** Facility power: MW from 1 MW up, else kW (a small cluster is never "0.0 MW"). */
export function formatPower(megawatts: number): string {
  return megawatts >= 1 ? `${megawatts.toFixed(1)} MW` : `${(megawatts * 1000).toFixed(1)} kW`;
}

/** Energy: whole MWh from 1 MWh up, else kWh. */
export function formatEnergy(megawattHours: number): string {
  return megawattHours >= 1 ? `${int(megawattHours)} MWh` : `${(megawattHours * 1000).toFixed(1)} kWh`;
}

/** The software profile in effect as the report names it (io/load.ts SoftwareInEffect). */
export interface SoftwareLine {
  name: string;
  path: string;
  values: { description?: string };
  notModelled: string[];
}

/** Renders the evaluate report (with the software line when the profile in effect is given). */
export function renderEvaluation(ev: Evaluation, extra: string[] = [], software?: SoftwareLine): string {
  const L = ev.layout;
  const out: string[] = [];
  const schedule = L.pp > 1 ? `, ${L.schedule}${L.vpp > 1 ? ` vpp ${L.vpp}` : ''}` : '';
  out.push(`clusterplan evaluate · ${ev.scenario} · ${int(L.gpus)} GPUs on ${int(L.nodes)} node${L.nodes === 1 ? "" : "s"} · ${ev.engine === 'des' ? 'discrete-event' : 'closed-form'} step`);
  out.push('');
  out.push(`Model    ${formatCount(ev.model.paramsTotal)} parameters (${formatCount(ev.model.paramsActive)} active) · ${formatFlop(ev.model.flopsPerToken)} per token (causal attention; ${formatFlop(ev.model.flopsPerTokenFullAttention)} with full)`);
  out.push(`Layout   TP${L.tp} CP${L.cp} PP${L.pp}${schedule} DP${L.dp}${L.ep > 1 ? ` EP${L.ep}` : ''} · ZeRO-${L.zeroStage} · ${L.numMicroBatches} micro-batches of ${L.microBatch} · global batch ${int(L.globalBatchSequences)} sequences`);
  const modules = L.recomputeModules ? ` (${L.recomputeModules.join(', ') || 'no modules'})` : '';
  out.push(`Compute  ${L.precision} · recompute ${L.recompute}${modules} · overlapped: ${L.overlap.length ? L.overlap.map((k) => k.toUpperCase()).join(', ') : 'none'}`);
  if (software) {
    out.push(`Software ${software.name} (${software.path})${software.values.description ? ` · ${software.values.description}` : ''}`);
    for (const n of software.notModelled) out.push(`  not modelled: ${n}`);
  }
  out.push('');
  const m = ev.memory;
  const frac = m.perGpuBytes / m.capacityBytes;
  out.push(`Memory per GPU (peak on stage ${m.peakStage})  ${formatGiB(m.perGpuBytes)} of ${formatGiB(m.capacityBytes)}  ${bar(frac, 30)} ${ev.feasible ? 'fits' : 'DOES NOT FIT'}`);
  const b = m.breakdown;
  const parts: [string, number][] = [
    ['weights', b.weightsBytes], ['gradients', b.gradientsBytes], ['optimizer state', b.optimizerBytes], ['activations', b.activationsBytes],
    ['logits', b.logitsBytes], ['working buffers', b.transientBytes], ['framework/NCCL', b.frameworkBytes], ['fragmentation', b.fragmentationBytes],
  ];
  for (const [name, bytes] of parts) if (bytes > 0) out.push(`  ${name.padEnd(17)}${formatGiB(bytes).padStart(11)}  ${bar(bytes / m.capacityBytes, 20)}`);
  out.push(`  in-flight micro-batches on stage 0: ${m.inFlightMicroBatches.toFixed(2)}`);
  out.push('');
  const st = ev.step;
  const d = st.breakdown;
  out.push(`Step     ${formatSeconds(st.seconds)} for ${int(st.tokensPerStep)} tokens`);
  const rows: [string, number][] = [
    ['compute', d.computeSeconds], ['exposed comm', d.exposedCommunicationSeconds], ['pipeline bubble', d.bubbleSeconds], ['optimizer', d.optimizerSeconds],
  ];
  for (const [name, s] of rows) out.push(`  ${name.padEnd(17)}${formatSeconds(s).padStart(11)}  ${formatPercent(s / st.seconds).padStart(6)}  ${bar(s / st.seconds, 20)}`);
  const comm = [['TP', d.tpSeconds], ['CP', d.cpSeconds], ['EP', d.epSeconds], ['PP', d.ppSeconds], ['DP', d.dpSeconds]].filter(([, s]) => (s as number) > 0);
  if (comm.length) out.push(`  exposed by kind: ${comm.map(([k, s]) => `${k} ${formatSeconds(s as number)}`).join(', ')}`);
  out.push('');
  const t = ev.throughput;
  out.push(`Speed    ${t.tokensPerSecondPerGpu.toFixed(1)} tokens/s per GPU · ${formatSi(t.tokensPerSecond, 2)} tokens/s · ${t.tflopsPerGpu.toFixed(0)} TFLOP/s per GPU · MFU ${formatPercent(t.mfu)} · HFU ${formatPercent(t.hfu)} (of ${t.peakTflops.toFixed(0)} TFLOP/s bf16 peak)${L.precision !== 'bf16' && t.mfuAtPrecisionPeak > 0 ? ` · MFU ${formatPercent(t.mfuAtPrecisionPeak)} of the ${(t.tflopsPerGpu / t.mfuAtPrecisionPeak).toFixed(0)} TFLOP/s ${L.precision} peak` : ''}`);
  const r = ev.run;
  out.push(`Run      ${int(r.steps)} steps · ideal ${r.idealDays.toFixed(1)} days · ${formatCount(r.gpuHours, 2)} GPU-hours · ${formatEnergy(r.energyMWh)} at ${formatPower(r.averagePowerMW)} · ${r.costUsd === null ? 'price not set' : `$${formatCount(r.costUsd, 2)}`}`);
  if (t.interval80 && st.secondsInterval80 && r.idealDaysInterval80) {
    const [lo, hi] = t.interval80;
    out.push(`80% range ${lo.toFixed(1)}–${hi.toFixed(1)} tokens/s per GPU · step ${formatSeconds(st.secondsInterval80[0])}–${formatSeconds(st.secondsInterval80[1])} · ideal ${r.idealDaysInterval80[0].toFixed(1)}–${r.idealDaysInterval80[1].toFixed(1)} days (cross-validated errors of ${t.intervalPool})`);
  }
  for (const n of ev.notes) out.push(`Note     ${n}`);
  for (const reason of ev.reasons) out.push(`Problem  ${reason}`);
  if (extra.length) out.push('', ...extra);
  return out.join('\n') + '\n';
}

/** Renders a programme: one row per stage (kind, GPUs, layout, sequence, tokens, days, GPU-hours, energy, cost) and the total. */
export function renderProgramme(name: string, stages: { ev: StageEvaluation; expectedDays: number | null }[], total: ProgrammeTotal, extra: string[] = []): string {
  const out: string[] = [];
  out.push(`clusterplan evaluate · ${name} · programme of ${stages.length} stage${stages.length === 1 ? '' : 's'}`);
  out.push('');
  const cost = (c: number | null) => (c === null ? 'price not set' : `$${formatCount(c, 2)}`);
  const head = ['stage', 'kind', 'GPUs', 'layout', 'seq', 'batch', 'tokens', 'step', 'MFU', 'days', 'exp. days', 'GPU-hours', 'energy', 'cost'];
  const rows = stages.map(({ ev, expectedDays }) => {
    const L = ev.layout;
    return [
      ev.stage.name, ev.stage.kind, int(L.gpus), `${L.tp}·${L.cp}·${L.pp}·${L.dp}${L.ep > 1 ? ` ep${L.ep}` : ''}`, ev.stage.seqLen % 1024 === 0 ? `${ev.stage.seqLen / 1024}K` : int(ev.stage.seqLen), int(L.globalBatchSequences),
      formatCount(ev.stage.tokens, 2), formatSeconds(ev.step.seconds), ev.stage.kind === 'generate' ? '-' : formatPercent(ev.throughput.mfu), ev.run.idealDays.toFixed(2),
      expectedDays === null ? '-' : expectedDays.toFixed(2), formatCount(ev.run.gpuHours, 2), formatEnergy(ev.run.energyMWh), cost(ev.run.costUsd),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  out.push(line(head), ...rows.map(line));
  out.push('');
  out.push(
    `Total    ideal ${total.idealDays.toFixed(1)} days${total.expectedDays === null ? '' : ` · expected ${total.expectedDays.toFixed(1)} (p90 ${total.p90Days!.toFixed(1)}) days`} · ${formatCount(total.gpuHours, 2)} GPU-hours${total.expectedGpuHours === null ? '' : ` (expected ${formatCount(total.expectedGpuHours, 2)}, p90 ${formatCount(total.p90GpuHours!, 2)})`} · ${formatEnergy(total.energyMWh)} · ${cost(total.costUsd)}${total.expectedCostUsd === null ? '' : ` (expected $${formatCount(total.expectedCostUsd, 2)}, p90 $${formatCount(total.p90CostUsd!, 2)})`}`,
  );
  out.push(`Note     ${total.note}`);
  for (const { ev } of stages) {
    for (const a of ev.stage.assumptions) out.push(`Assume   ${ev.stage.name}: ${a}`);
    for (const n of ev.notes) out.push(`Note     ${ev.stage.name}: ${n}`);
    for (const r of ev.reasons) out.push(`Problem  ${ev.stage.name}: ${r}`);
  }
  if (extra.length) out.push('', ...extra);
  return out.join('\n') + '\n';
}
