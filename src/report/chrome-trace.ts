/**
 * Chrome Trace Event Format (the JSON that Perfetto and chrome://tracing open) of a simulated
 * step: a process per pipeline rank, threads for its compute, TP/CP/EP collectives, PP sends and
 * DP collectives; complete ("X") events per layer, micro-batch and phase. Times are microseconds
 * rounded to the nanosecond, and events come out in a fixed order, so the same scenario gives a
 * byte-identical file.
 * Format: https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU
 */
import type { Scenario } from '../plan/resolve.js';
import type { DesOpRecord, DesStepResult } from '../step/des/types.js';
import { pipelineNeighbours } from '../step/des/dualpipe.js';

/** One trace event: metadata ("M") or complete ("X"). */
export interface TraceEvent {
  name: string;
  ph: 'X' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, string | number>;
}

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, string | number>;
}

const TID_COMPUTE = 1;
const TID_COLLECTIVES = 2;
const TID_PP = 3;
const TID_DP = 4;

/** Seconds to trace microseconds, rounded to the nanosecond so output does not depend on float noise. */
const us = (seconds: number) => Math.round(seconds * 1e9) / 1e3;

/** Builds the trace of a DES step (desStep's result) for scenario `sc`. */
export function buildChromeTrace(sc: Scenario, result: DesStepResult): ChromeTrace {
  const d = result.detail;
  const { pp, vpp, chunks, segments } = d;
  const route = pipelineNeighbours(d.schedule, pp, vpp);
  const plan = sc.plan;
  const collectiveKinds = [plan.tp > 1 ? 'TP' : '', plan.cp > 1 ? 'CP' : '', plan.ep > 1 && sc.model.moe ? 'EP' : ''].filter(Boolean).join('+') || 'collectives';
  const dpWord = plan.zeroStage === 0 ? 'all-reduce' : 'reduce-scatter';
  const events: TraceEvent[] = [];
  const pid = (stage: number) => stage + 1;

  for (let s = 0; s < pp; s++) {
    const layers = chunks[s].filter((c) => c.numLayers > 0).map((c) => `L${c.firstGlobalLayer}-${c.firstGlobalLayer + c.numLayers - 1}`);
    events.push({ name: 'process_name', ph: 'M', pid: pid(s), tid: 0, args: { name: `stage ${s}${layers.length ? ` (${layers.join(', ')})` : ''}` } });
    events.push({ name: 'process_sort_index', ph: 'M', pid: pid(s), tid: 0, args: { sort_index: s } });
    const threads: [number, string][] = [
      [TID_COMPUTE, 'compute'],
      [TID_COLLECTIVES, `${collectiveKinds} (NVLink)`],
      [TID_PP, 'PP send'],
      [TID_DP, 'DP'],
    ];
    for (const [tid, name] of threads) {
      events.push({ name: 'thread_name', ph: 'M', pid: pid(s), tid, args: { name } });
      events.push({ name: 'thread_sort_index', ph: 'M', pid: pid(s), tid, args: { sort_index: tid } });
    }
  }

  const mbLabel = (op: DesOpRecord) => (op.microBatch >= 0 ? ` mb${op.microBatch}` : '');
  const chunkArg = (op: DesOpRecord): Record<string, number> => (vpp > 1 && op.chunk >= 0 ? { chunk: op.chunk } : {});
  const segName = (op: DesOpRecord) => {
    if (op.phase === null || op.chunk < 0 || op.segmentCount === 0) return `stage ${op.stage}`;
    const segs = segments[op.stage][op.chunk][op.phase === 'F' ? 0 : op.phase === 'B' ? 1 : 2];
    if (op.segmentCount === 1) return segs[op.segment].name;
    const names = segs.slice(op.segment, op.segment + op.segmentCount).map((g) => g.name);
    return names.length > 2 ? `${names[0]}..${names[names.length - 1]}` : names.join(', ');
  };

  for (const op of d.ops) {
    const p = pid(op.stage);
    switch (op.kind) {
      case 'F':
      case 'B':
      case 'W': {
        const phase = op.kind;
        const segs = segments[op.stage][op.chunk][phase === 'F' ? 0 : phase === 'B' ? 1 : 2];
        let t = op.startSeconds;
        for (let j = op.segment; j < op.segment + op.segmentCount; j++) {
          const g = segs[j];
          const args: Record<string, string | number> = { microBatch: op.microBatch, phase, ...(g.layer >= 0 ? { layer: g.layer } : {}), ...chunkArg(op) };
          events.push({ name: `${g.name} ${phase}${mbLabel(op)}`, ph: 'X', cat: phase === 'F' ? 'forward' : 'backward', pid: p, tid: TID_COMPUTE, ts: us(t), dur: us(g.total), args });
          if (g.collective > 0) {
            // The exposed part ends the layer's slot; a hidden part runs alongside its GEMMs.
            const exposed = g.tp + g.cp + g.ep;
            const hidden = Math.max(0, g.collective - exposed);
            const begin = Math.max(t, t + g.compute - hidden);
            events.push({ name: `${g.name} ${collectiveKinds} ${phase}${mbLabel(op)}`, ph: 'X', cat: 'collective', pid: p, tid: TID_COLLECTIVES, ts: us(begin), dur: us(t + g.total - begin), args: { exposedUs: us(exposed), ...args } });
          }
          t += g.total;
        }
        break;
      }
      case 'send-f':
      case 'send-b': {
        const to = (op.kind === 'send-f' ? route.next : route.prev)(op.stage, op.chunk)?.s ?? op.stage;
        const what = op.kind === 'send-f' ? 'activation' : 'gradient';
        events.push({ name: `send ${what}${mbLabel(op)} → stage ${to}`, ph: 'X', cat: 'pp', pid: p, tid: TID_PP, ts: us(op.startSeconds), dur: us(op.endSeconds - op.startSeconds), args: { microBatch: op.microBatch, to, blocking: op.stream === 'compute' ? 1 : 0, ...chunkArg(op) } });
        break;
      }
      case 'dp-gather':
      case 'dp-reduce': {
        const what = op.kind === 'dp-gather' ? 'all-gather params' : `${dpWord} grads`;
        const ph = op.microBatch >= 0 && op.phase ? ` ${op.phase}` : '';
        events.push({ name: `${what} ${segName(op)}${ph}${mbLabel(op)}`, ph: 'X', cat: 'dp', pid: p, tid: TID_DP, ts: us(op.startSeconds), dur: us(op.endSeconds - op.startSeconds), args: { blocking: op.stream === 'compute' ? 1 : 0, ...chunkArg(op) } });
        break;
      }
      case 'optimizer':
        events.push({ name: 'optimizer', ph: 'X', cat: 'optimizer', pid: p, tid: TID_COMPUTE, ts: us(op.startSeconds), dur: us(op.endSeconds - op.startSeconds) });
        break;
    }
  }
  return {
    traceEvents: events,
    displayTimeUnit: 'ms',
    otherData: {
      scenario: sc.name,
      engine: 'des',
      schedule: d.schedule,
      pp,
      vpp,
      numMicroBatches: d.numMicroBatches,
      stepSeconds: Math.round(result.stepSeconds * 1e9) / 1e9,
      bubbleFraction: Math.round(result.bubbleFraction * 1e6) / 1e6,
    },
  };
}

/** Serialises a trace with one event per line (stable, diff-friendly). */
export function chromeTraceJson(trace: ChromeTrace): string {
  const lines = trace.traceEvents.map((e) => JSON.stringify(e));
  return `{"traceEvents":[\n${lines.join(',\n')}\n],\n"displayTimeUnit":${JSON.stringify(trace.displayTimeUnit)},\n"otherData":${JSON.stringify(trace.otherData)}}\n`;
}
