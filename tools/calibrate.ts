/**
 * Calibration aid (a developer tool, not part of the product): for one GPU profile, fits
 * multipliers on its GEMM curves, attention efficiency and MoE host term that minimise the robust
 * mean |throughput error| over ALL validation cases on that GPU (every source at once, never per
 * case), with src/validation/calibrate.ts (the fit `validate --cv source` repeats per held-out
 * source), and prints the fitted multipliers. The profile YAML is then edited by hand with the
 * result and a comment; nothing here writes files.
 *   npx tsx tools/calibrate.ts h100-sxm-80gb [case files...]   (ENGINE=analytic: the closed form, ~5x faster, for exploring;
 *   FIX=bf16,attn,... holds multipliers; CAP=0.5 is the per-case cap on |error| in the robust loss; SHIFT, SHIFT8 start the size shifts;
 *   with FROM=base, SHIFT overrides the recorded bf16 shift as the start, e.g. SHIFT=40 FIX=shift,... holds it there)
 *   FROM=base: refit from the UNFITTED curve (the bundled one with validation/calibration.json's
 *   multipliers taken out, as `validate --cv` does), starting at the recorded multipliers and
 *   following the record's bf16FollowsFp8: the printed multipliers are then the absolute ones to
 *   record in calibration.json, and the printed curves the ones to put in the profile. Without it
 *   the multipliers are relative to the bundled (already fitted) curve.
 */
import { readFileSync } from 'node:fs';
import { packageProfiles } from '../src/io/profiles.js';
import { CaseSchema } from '../src/validation/case.js';
import { summarise, type CaseResult } from '../src/validation/score.js';
import { fitGpu, unapplyFit, NO_FIT, type FitParam } from '../src/validation/calibrate.js';
import { loadCalibration } from '../src/io/calibration.js';

const gpuName = process.argv[2] ?? 'h100-sxm-80gb';
const files = process.argv.length > 3 ? process.argv.slice(3) : ['validation/cases-dev.json'];
const cases = files.flatMap((file) => (JSON.parse(readFileSync(file, 'utf8')) as unknown[]).map((c) => CaseSchema.parse(c)));
const profiles = packageProfiles();
const record = process.env.FROM === 'base' ? loadCalibration().gpus[gpuName] : undefined;
if (process.env.FROM === 'base' && !record) throw new Error(`no calibration record for ${gpuName} in validation/calibration.json`);
const recorded = { ...NO_FIT, ...record?.multipliers };
const fit = fitGpu(cases, gpuName, profiles, {
  engine: (process.env.ENGINE as never) ?? undefined,
  cap: Number(process.env.CAP ?? 0.5),
  fixed: (process.env.FIX ?? '').split(',').filter(Boolean) as FitParam[],
  ...(record
    ? { base: unapplyFit(profiles.gpu(gpuName)!, recorded), start: { ...recorded, ...(process.env.SHIFT ? { shift: Number(process.env.SHIFT) } : {}) }, bf16FollowsFp8: record.bf16FollowsFp8 }
    : { start: { shift: Number(process.env.SHIFT ?? 1), shift8: Number(process.env.SHIFT8 ?? 1) } }),
});
const results = fit.results;
console.log(gpuName, JSON.stringify(fit.params), 'loss', fit.loss.toFixed(4));
const fitted = fit.gpu;
if (fitted.efficiency.moeHost) console.log(`  moeHost: perLayer ${(fitted.efficiency.moeHost.perLayer * 1e3).toFixed(3)} ms, perLocalExpert ${(fitted.efficiency.moeHost.perLocalExpert * 1e3).toFixed(3)} ms`);
for (const k of ['bf16', 'fp8', 'fp4'] as const) {
  const c = fitted.efficiency.gemm[k];
  if (c) console.log(`  ${k}: ${JSON.stringify(c.map(([x, y]) => [Number(x.toPrecision(4)), Number(y.toFixed(3))]))}`);
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
