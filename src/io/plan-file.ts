/**
 * Plan files for `clusterplan compare`: a scenario overlay, so a comparison can name plans that
 * differ from a scenario only in a few fields without copying the whole scenario.
 *
 * ```yaml
 * scenario: ../scenarios/llama3-405b.yaml   # the base scenario, relative to this file
 * name: tp4-pp32                             # row name (default: the file's name)
 * set:                                       # overrides, exactly as --set path=value
 *   plan.tp: 4
 *   plan.pp: 32
 * ```
 * or several plans over one base: `plans: [{name: a, set: {...}}, {name: b, set: {...}}]`.
 * A file is a plan file when it has a top-level `scenario` key (scenarios have none).
 */
import { dirname, resolve, basename, extname } from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { readDataFile, zodError } from './load.js';

/** One plan to evaluate: a scenario file and the overrides applied to it, with the row name. */
export interface PlanSpec {
  /** Row name; unique within a comparison once the caller has added its suffixes. */
  name: string;
  /** The scenario file the plan starts from. */
  scenarioFile: string;
  /** `path=value` overrides, applied in order (the plan file's first). */
  sets: string[];
  /** The file the user named (a scenario or a plan file). */
  source: string;
}

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const overlay = z.record(z.string().min(1), scalar).describe('overrides as path: value, e.g. plan.tp: 4');
const PlanEntrySchema = z.strictObject({ name: z.string().min(1).optional(), set: overlay.optional() });
const PlanFileSchema = z.strictObject({
  scenario: z.string().min(1).describe('base scenario file, relative to the plan file'),
  name: z.string().min(1).optional(),
  set: overlay.optional(),
  plans: z.array(PlanEntrySchema).min(1).optional(),
});

/** True when a parsed file is a plan file rather than a scenario. */
export function isPlanFile(raw: unknown): boolean {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw) && 'scenario' in raw;
}

/** Reads a scenario or a plan file into the plans it names (a scenario is one plan without overrides). */
export function readPlanSpecs(file: string): PlanSpec[] {
  const raw = readDataFile(file);
  const stem = basename(file, extname(file));
  if (!isPlanFile(raw)) return [{ name: stem, scenarioFile: file, sets: [], source: file }];
  const parsed = PlanFileSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw zodError(parsed.error, file);
  const p = parsed.data;
  const scenarioFile = resolve(dirname(resolve(file)), p.scenario);
  const toSets = (o: Record<string, string | number | boolean> | undefined) => Object.entries(o ?? {}).map(([k, v]) => `${k}=${typeof v === 'string' ? stringify(v).trimEnd() : String(v)}`);
  const base = toSets(p.set);
  const name = p.name ?? stem;
  if (!p.plans) return [{ name, scenarioFile, sets: base, source: file }];
  return p.plans.map((e, i) => ({ name: e.name ?? `${name}#${i + 1}`, scenarioFile, sets: [...base, ...toSets(e.set)], source: file }));
}
