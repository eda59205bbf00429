/** Fault arrival processes of a trial: exponential components merged behind one alias table, Weibulls on their own. */
import type { RunModel } from './run-model.js';

/** Arrival processes: all exponential components merged into one, each Weibull on its own. */
export interface Processes {
  expRate: number;
  /** Walker alias table over the exponential components: one uniform picks one in O(1). */
  aliasProb: Float64Array;
  aliasOf: Int32Array;
  aliasComponent: Int32Array;
  weibull: { component: number; scale: number; shape: number }[];
}

export function buildProcesses(model: RunModel): Processes {
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
