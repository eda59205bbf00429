/**
 * Compact text timeline of a simulated step: one row per pipeline rank, one character per time
 * slice of the compute stream, so the bubble shows without a trace viewer.
 */
import type { DesStepResult, OpKind } from '../step/des/types.js';
import { formatSeconds, formatPercent } from '../units/format.js';

/** Character for each kind of compute-stream occupancy. */
const CHAR: Record<OpKind, string> = {
  F: 'F',
  B: 'B',
  W: 'W',
  optimizer: 'O',
  'send-f': 'c',
  'send-b': 'c',
  'dp-gather': 'c',
  'dp-reduce': 'c',
};
const SLOTS = ['F', 'B', 'W', 'O', 'c'] as const;
const SLOT: Record<string, number> = { F: 0, B: 1, W: 2, O: 3, c: 4 };

/**
 * Renders the pipeline as text: each of `width` columns covers step/width seconds and shows what
 * the rank's compute stream did for most of it: F forward, B backward (input and weight gradients,
 * or input only under zero-bubble), W weight gradient, O optimizer, c blocking communication,
 * '.' idle for at least half the column.
 */
export function renderPipelineTimeline(result: DesStepResult, width = 100): string {
  const cols = Math.max(10, Math.floor(width));
  const { pp, stages, ops } = result.detail;
  const span = result.stepSeconds;
  const occ = new Float64Array(pp * cols * SLOTS.length);
  if (span > 0) {
    const dt = span / cols;
    for (const op of ops) {
      if (op.stream !== 'compute') continue;
      const slot = SLOT[CHAR[op.kind]];
      const a = op.startSeconds / dt;
      const b = op.endSeconds / dt;
      if (!(b > a)) continue;
      for (let k = Math.max(0, Math.floor(a)); k < Math.min(cols, Math.ceil(b)); k++) {
        const overlap = Math.min(b, k + 1) - Math.max(a, k);
        if (overlap > 0) occ[(op.stage * cols + k) * SLOTS.length + slot] += overlap;
      }
    }
  }
  const label = (s: number) => `stage ${String(s).padStart(String(pp - 1).length)} `;
  const pad = label(0).length;
  const out: string[] = [];
  const end = formatSeconds(span);
  out.push(`${' '.repeat(pad)} 0${' '.repeat(Math.max(1, cols - 1 - end.length))}${end}`);
  for (let s = 0; s < pp; s++) {
    let row = '';
    for (let k = 0; k < cols; k++) {
      const base = (s * cols + k) * SLOTS.length;
      let best = -1;
      let busy = 0;
      for (let j = 0; j < SLOTS.length; j++) {
        const v = occ[base + j];
        busy += v;
        if (v > 0 && (best < 0 || v > occ[base + best])) best = j;
      }
      row += busy >= 0.5 && best >= 0 ? SLOTS[best] : '.';
    }
    out.push(`${label(s)}|${row}| ${formatPercent(stages[s].bubbleFraction)} idle`);
  }
  out.push(`${' '.repeat(pad)} F forward  B backward${result.detail.schedule === 'zero-bubble' ? ' (input)  W weight gradient' : ''}  O optimizer  c blocking comm  . idle`);
  return out.join('\n') + '\n';
}
