/**
 * Calibration aid (a developer tool, not part of the product): for one GPU profile, searches
 * multipliers on its GEMM curves and attention efficiency that minimise the robust mean
 * |throughput error| over ALL validation cases on that GPU (every source at once, never per
 * case), and prints the fitted multipliers. The profile YAML is then edited by hand with the
 * result and a comment; nothing here writes files.
 *   npx tsx tools/calibrate.ts h100-sxm-80gb      (ENGINE=analytic: the closed form, ~5x faster, for exploring;
 *   FIX=bf16,attn,... holds multipliers; CAP=0.5 is the per-case cap on |error| in the robust loss)
 */
import { readFileSync } from 'node:fs';
import { packageProfiles } from '../src/io/profiles.js';
import { CaseSchema } from '../src/validation/case.js';
import { validateCases } from '../src/validation/cases.js';
import { summarise, type CaseResult } from '../src/validation/score.js';
import type { Gpu } from '../src/schema/system.js';

const gpuName = process.argv[2] ?? 'h100-sxm-80gb';
const file = process.argv[3] ?? 'validation/cases-dev.json';
const cases = (JSON.parse(readFileSync(file, 'utf8')) as unknown[]).map((c) => CaseSchema.parse(c)).filter((c) => c.hardware.gpu === gpuName);
const profiles = packageProfiles();
const base = structuredClone(profiles.gpu(gpuName)) as Gpu;
if (!base) throw new Error(`no profile ${gpuName}`);

type Params = { bf16: number; fp8: number; fp4: number; attn: number; shift: number; shift8: number; hostA: number; hostB: number };
function apply(p: Params): Gpu {
  const g = structuredClone(base);
  const scale = (curve: [number, number][], s: number, shift: number) => curve.map(([x, y]) => [x * shift, Math.min(1, y * s)] as [number, number]);
  g.efficiency.gemm.bf16 = scale(base.efficiency.gemm.bf16, p.bf16, p.shift);
  if (base.efficiency.gemm.fp8) g.efficiency.gemm.fp8 = scale(base.efficiency.gemm.fp8, p.fp8, p.shift8);
  if (base.efficiency.gemm.fp4) g.efficiency.gemm.fp4 = scale(base.efficiency.gemm.fp4, p.fp8 * p.fp4, p.shift8);
  if (base.efficiency.moeHost) g.efficiency.moeHost = { perLayer: base.efficiency.moeHost.perLayer * p.hostA, perLocalExpert: base.efficiency.moeHost.perLocalExpert * p.hostB };
  g.efficiency.attentionForward = Math.min(1, base.efficiency.attentionForward * p.attn);
  g.efficiency.attentionBackward = Math.min(1, base.efficiency.attentionBackward * p.attn);
  return g;
}
function run(p: Params): CaseResult[] {
  const gpu = apply(p);
  const lookup = { ...profiles, gpu: (n: string) => (n === gpuName ? gpu : profiles.gpu(n)) };
  return validateCases(cases, file, lookup, (process.env.ENGINE as never) ?? undefined);
}
function loss(p: Params): number {
  const errs = run(p).map((r) => r.errors.throughputRel).filter((x): x is number => x !== null);
  const cap = Number(process.env.CAP ?? 0.5);
  return errs.reduce((a, e) => a + Math.min(cap, Math.abs(e)), 0) / Math.max(1, errs.length);
}
let p: Params = { bf16: 1, fp8: 1, fp4: 1, attn: 1, shift: Number(process.env.SHIFT ?? 1), shift8: Number(process.env.SHIFT8 ?? 1), hostA: 1, hostB: 1 };
// Efficiencies never exceed the profile's measured ceilings (MAMF, FlashAttention): multipliers stay <= 1.
const fixed = (process.env.FIX ?? '').split(',');
// MAMF ceilings (hardware.md §1, best large-GEMM fraction of the dense peak): a fitted curve may
// not rise above them.
const MAMF: Record<string, { bf16: number; fp8: number }> = {
  'a100-sxm-40gb': { bf16: 0.869, fp8: 0.869 }, 'a100-sxm-80gb': { bf16: 0.869, fp8: 0.869 },
  'h100-sxm-80gb': { bf16: 0.803, fp8: 0.709 }, 'h200-sxm-141gb': { bf16: 0.803, fp8: 0.734 },
  b200: { bf16: 0.776, fp8: 0.763 }, gb200: { bf16: 0.729, fp8: 0.723 },
};
const top = (c: [number, number][] | undefined) => (c ? Math.max(...c.map(([, y]) => y)) : 1);
const maxBf16 = (MAMF[gpuName]?.bf16 ?? 1) / top(base.efficiency.gemm.bf16);
const maxFp8 = base.efficiency.gemm.fp8 ? (MAMF[gpuName]?.fp8 ?? 1) / top(base.efficiency.gemm.fp8) : Infinity;
const okFp4 = (q: Params) => !base.efficiency.gemm.fp4 || q.fp8 * q.fp4 * top(base.efficiency.gemm.fp4) <= (MAMF[gpuName]?.fp8 ?? 1) + 1e-9;
const ok = (q: Params) => q.bf16 <= maxBf16 + 1e-9 && q.fp8 <= maxFp8 + 1e-9 && q.attn <= 1 && okFp4(q) && fixed.every((k) => !k || q[k as keyof Params] === p[k as keyof Params]);
let best = loss(p);
for (let step = 0.2; step > 0.005; step /= 2) {
  let improved = true;
  while (improved) {
    improved = false;
    for (const k of Object.keys(p) as (keyof Params)[]) {
      for (const dir of [-1, 1]) {
        if (k.startsWith('host') && !base.efficiency.moeHost) continue;
        const q = { ...p, [k]: k.startsWith('shift') || k.startsWith('host') ? p[k] * (1 + dir * step * 2) : p[k] * (1 + dir * step) };
        if (!ok(q)) continue;
        const l = loss(q);
        if (l < best - 1e-9) { best = l; p = q; improved = true; }
      }
    }
  }
}
const results = run(p);
console.log(gpuName, JSON.stringify(p), 'loss', best.toFixed(4));
const fitted = apply(p);
if (fitted.efficiency.moeHost) console.log(`  moeHost: perLayer ${(fitted.efficiency.moeHost.perLayer * 1e3).toFixed(3)} ms, perLocalExpert ${(fitted.efficiency.moeHost.perLocalExpert * 1e3).toFixed(3)} ms`);
for (const k of ['bf16', 'fp8', 'fp4'] as const) {
  const c = fitted.efficiency.gemm[k];
  if (c) console.log(`  ${k}: ${JSON.stringify(c.map(([x, y]) => [Number(x.toPrecision(3)), Number(y.toFixed(3))]))}`);
}
const bySource = new Map<string, CaseResult[]>();
if (process.env.SHOW) for (const r of results) console.log(`    ${r.id.slice(0, 70).padEnd(70)} ${r.errors.throughputRel === null ? r.reason : (100 * r.errors.throughputRel).toFixed(1)}`);
for (const r of results) bySource.set(r.source, [...(bySource.get(r.source) ?? []), r]);
for (const [s, rs] of bySource) {
  const sum = summarise(rs);
  console.log(`  ${s.padEnd(32)} n=${rs.length} median ${(100 * (sum.throughputRelError.median ?? 0)).toFixed(1)}% p90 ${(100 * (sum.throughputRelError.p90 ?? 0)).toFixed(1)}%`);
}
const all = summarise(results);
console.log(`  all median ${(100 * (all.throughputRelError.median ?? 0)).toFixed(1)}% p90 ${(100 * (all.throughputRelError.p90 ?? 0)).toFixed(1)}%`);
