/**
 * Property test for the plan and model switches added after the first fuzz harness (MTP modules,
 * eager elementwise kernels, the FLOP-balanced auto split): any combination over a range of
 * layer counts and pipeline depths either fails with one UserError or evaluates to finite numbers,
 * puts every layer on a stage, and never makes a step faster by adding MTP work.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseScenario, packageRoot } from '../../src/io/load.js';
import { evaluate } from '../../src/run/evaluate.js';
import { UserError } from '../../src/errors.js';

/** `npm test` runs a small budget; CLUSTERPLAN_FUZZ=1 (`npm run fuzz`) the full one. */
const heavy = !!process.env.CLUSTERPLAN_FUZZ;
/** The full sweeps take minutes on a shared machine. */
const HEAVY_TIMEOUT_MS = 900_000;

const tiny = parseYaml(readFileSync(join(packageRoot, 'scenarios', 'tiny.yaml'), 'utf8')) as Record<string, unknown>;
const model = parseYaml(readFileSync(join(packageRoot, 'models', 'tiny.yaml'), 'utf8')) as Record<string, unknown>;

/** Parses a scenario, or checks that it failed with one clean UserError and gives undefined. */
function parseOrCleanError(raw: Record<string, unknown>) {
  try {
    return parseScenario(raw, 'prop.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return undefined;
  }
}

function finiteDeep(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(finiteDeep);
  if (v && typeof v === 'object') return Object.values(v).every(finiteDeep);
  return true;
}

describe('MTP, eager elementwise and auto split: clean error or finite result', () => {
  it(`holds for ${heavy ? 300 : 60} random combinations`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(1, 2, 4),
        fc.integer({ min: 0, max: 64 }),
        fc.constantFrom('fused', 'eager'),
        fc.constantFrom('none', 'selective', 'full'),
        (layers, pp, mtpLayers, elementwise, recompute) => {
          const raw = structuredClone(tiny);
          raw.model = { ...model, layers, mtpLayers };
          raw.plan = { ...(raw.plan as object), pp, dp: 8 / (2 * pp), globalBatch: 8, layersPerStage: 'auto', elementwise, recompute };
          const sc = parseOrCleanError(raw);
          if (!sc) return;
          expect(sc.plan.layersPerStage.reduce((a, b) => a + b, 0)).toBe(layers);
          expect(Math.min(...sc.plan.layersPerStage)).toBeGreaterThanOrEqual(1);
          const ev = evaluate(sc, { engine: 'analytic' });
          expect(finiteDeep(ev)).toBe(true);
          if (mtpLayers > 0) {
            const base = evaluate(parseScenario({ ...raw, model: { ...model, layers, mtpLayers: 0 } }, 'prop.yaml'), { engine: 'analytic' });
            expect(ev.step.seconds).toBeGreaterThanOrEqual(base.step.seconds * (1 - 1e-9));
            expect(ev.model.paramsTotal).toBeGreaterThan(base.model.paramsTotal);
          }
        },
      ),
      { numRuns: heavy ? 300 : 60, seed: 20261129 },
    );
  }, heavy ? HEAVY_TIMEOUT_MS : undefined);
});

describe('MLA, recompute modules and EP overlap: clean error or finite result, and the expected directions', () => {
  const modules = ['core_attn', 'layernorm', 'moe_act', 'mla_up_proj', 'mlp', 'shared_experts'] as const;
  it(`holds for ${heavy ? 200 : 40} random combinations`, () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.subarray([...modules]),
        fc.boolean(),
        fc.constantFrom(1, 2, 4),
        fc.integer({ min: 0, max: 2 }),
        fc.constantFrom(0, 64, 128),
        (mla, recomputeModules, overlapEp, ep, firstDenseLayers, qLoraRank) => {
          const raw = structuredClone(tiny);
          raw.model = {
            ...model,
            ffnType: 'swiglu',
            moe: { experts: 8, topK: 2, expertFfnHidden: 256, sharedExperts: 1, firstDenseLayers },
            ...(mla ? { mla: { qLoraRank, kvLoraRank: 64, qkNopeHeadDim: 64, qkRopeHeadDim: 32, vHeadDim: 64 } } : {}),
          };
          const plan = { ...(raw.plan as object), ep, recompute: 'selective', recomputeModules, overlap: { ep: overlapEp } };
          raw.plan = plan;
          const sc = parseOrCleanError(raw);
          if (!sc) return;
          for (const engine of ['analytic', 'des'] as const) {
            const ev = evaluate(sc, { engine });
            expect(finiteDeep(ev)).toBe(true);
            // Recomputing never stores more, nor runs faster, than recomputing nothing.
            const none = evaluate(parseScenario({ ...raw, plan: { ...plan, recompute: 'none', recomputeModules: undefined } }, 'prop.yaml'), { engine });
            expect(ev.memory.perGpuBytes).toBeLessThanOrEqual(none.memory.perGpuBytes);
            expect(ev.model.hardwareFlopsPerToken).toBeGreaterThanOrEqual(none.model.hardwareFlopsPerToken);
            // Overlapping the all-to-alls never lengthens the step.
            if (overlapEp) {
              const exposed = evaluate(parseScenario({ ...raw, plan: { ...plan, overlap: { ep: false } } }, 'prop.yaml'), { engine });
              expect(ev.step.seconds).toBeLessThanOrEqual(exposed.step.seconds * (1 + 1e-9));
            }
          }
        },
      ),
      { numRuns: heavy ? 200 : 40, seed: 20261130 },
    );
  }, heavy ? HEAVY_TIMEOUT_MS : undefined);
});
