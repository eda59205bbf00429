/**
 * Loading a scenario: read the file, apply `--set` and `--gpus`, validate, load the profiles it
 * names, resolve. Files, profiles, overrides and zod messages live in their own modules
 * (files.ts, profiles.ts, overrides.ts, zod-error.ts); their entry points are re-exported here.
 */
import { dirname, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { ScenarioSchema } from '../schema/scenario.js';
import { resolveScenario, clusterGpus, type Scenario } from '../plan/resolve.js';
import type { ScenarioInput } from '../schema/scenario.js';
import { resolveProgramme, type ResolvedStage } from '../plan/programme.js';
import { readDataFile } from './files.js';
import { zodError } from './zod-error.js';
import { loadProfile, type ProfileSource } from './profiles.js';
import { applyOverrides } from './overrides.js';
import { attentionNotModelled } from '../model/layers.js';
import { DEFAULT_SOFTWARE, softwarePlanDefaults, notModelled, type Software } from '../schema/software.js';
import { formatInt } from '../units/format.js';

export { packageRoot, readDataFile, parseDataText, LIMITS } from './files.js';
export { zodError } from './zod-error.js';
export { loadProfile, profilePath, type ProfileSource } from './profiles.js';
export { applyOverrides } from './overrides.js';

export interface LoadOptions {
  sets?: string[];
  gpus?: number;
}

/** The largest cluster a resize (options.gpus; the CLI's --gpus) accepts. */
export const MAX_GPUS = 1e7;

/** Reads, validates and resolves a scenario file into the core's fully resolved Scenario. */
export function loadScenario(file: string, options: LoadOptions = {}): Scenario {
  return loadScenarioWithSources(file, options).scenario;
}

/** loadScenario, also saying which file each named profile came from (bundled or local). */
export function loadScenarioWithSources(file: string, options: LoadOptions = {}): { scenario: Scenario; sources: ProfileSource[]; software: SoftwareInEffect; stages?: ResolvedStage[] } {
  let raw = readDataFile(file);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError('a scenario must be a mapping with model, cluster, plan and training', file);
  raw = applyOverrides(raw, options.sets ?? [], file);
  if (options.gpus !== undefined && (!Number.isInteger(options.gpus) || options.gpus < 1 || options.gpus > MAX_GPUS)) {
    throw new UserError(`must be a whole number from 1 to 10,000,000, got ${options.gpus}`, undefined, 'cluster.gpus');
  }
  const sets = options.sets ?? [];
  const setsField = (field: string) => sets.some((x) => x.startsWith(`${field}=`) || x.startsWith(`${field}.`));
  const resize = options.gpus === undefined ? undefined : { gpus: options.gpus, keepBatch: setsField('plan.globalBatch'), keepSpares: setsField('cluster.spareNodes') };
  const sources: ProfileSource[] = [];
  const stages: ResolvedStage[] = [];
  const { scenario, software } = parseScenarioWithSoftware(raw, file, sources, stages, resize);
  return { scenario, sources, software, ...(stages.length > 0 ? { stages } : {}) };
}

/** The software profile a scenario ran with: its name, where it came from, the values and what is not modelled. */
export interface SoftwareInEffect {
  name: string;
  /** The profile file as the report prints it, or "inline" when the scenario gives (or `--set` edits) it inline. */
  path: string;
  origin: 'bundled' | 'local' | 'inline';
  values: Software;
  /** Settings of the profile that the step model does not cost for this plan (notModelled in schema/software.ts). */
  notModelled: string[];
}

/** Validates an already-parsed scenario value and resolves its named references (recorded in `sources` when given). */
export function parseScenario(raw: unknown, file: string, sources?: ProfileSource[], stages?: ResolvedStage[], resize?: Resize): Scenario {
  return parseScenarioWithSoftware(raw, file, sources, stages, resize).scenario;
}

/**
 * parseScenario, also giving the software profile in effect. The profile's values fill the
 * plan's software fields the scenario leaves unset (a plan field always wins), before the plan's
 * own defaults apply; the default profile (generic-2024) restates those plan defaults.
 */
export function parseScenarioWithSoftware(raw: unknown, file: string, sources?: ProfileSource[], stages?: ResolvedStage[], resize?: Resize): { scenario: Scenario; software: SoftwareInEffect } {
  const first = ScenarioSchema.safeParse(raw, { reportInput: true });
  if (!first.success) throw zodError(first.error, file);
  const dir = dirname(resolve(file));
  const ref = (field: string) => ({ file, field });
  const swRef = first.data.software ?? DEFAULT_SOFTWARE;
  const swSources: ProfileSource[] = [];
  const sw = typeof swRef === 'string' ? loadProfile('software', swRef, dir, ref('software'), swSources) : swRef;
  sources?.push(...swSources);
  const rawMap = raw as Record<string, unknown>;
  const planRaw = (rawMap.plan ?? {}) as Record<string, unknown>;
  const defaults = softwarePlanDefaults(sw);
  const overlapRaw = planRaw.overlap && typeof planRaw.overlap === 'object' ? (planRaw.overlap as Record<string, unknown>) : {};
  const plan = { ...defaults, ...planRaw, overlap: { ...defaults.overlap, ...overlapRaw } };
  const parsed = ScenarioSchema.safeParse({ ...rawMap, plan }, { reportInput: true });
  if (!parsed.success) throw zodError(parsed.error, file);
  const notes: string[] = [];
  const s = resize ? resized(parsed.data, resize, file, notes) : parsed.data;
  const model = typeof s.model === 'string' ? loadProfile('model', s.model, dir, ref('model'), sources) : s.model;
  const gpu = typeof s.cluster.gpu === 'string' ? loadProfile('gpu', s.cluster.gpu, dir, ref('cluster.gpu'), sources) : s.cluster.gpu;
  const defaulted = (field: string, key: string) => {
    // Say where a node or fabric the scenario does not name came from: the GPU profile's default.
    const entry = sources?.find((x) => x.field === field);
    if (entry) Object.assign(entry, { defaultOf: `cluster.gpu ${key}` });
  };
  const nodeRef = s.cluster.node ?? gpu.defaultNode;
  if (nodeRef === undefined) throw new UserError('no node given and the GPU profile names no defaultNode', file, 'cluster.node');
  const node = typeof nodeRef === 'string' ? loadProfile('node', nodeRef, dir, ref('cluster.node'), sources) : nodeRef;
  if (s.cluster.node === undefined) defaulted('cluster.node', 'defaultNode');
  const fabricRef = s.cluster.fabric ?? gpu.defaultFabric;
  if (fabricRef === undefined) throw new UserError('no fabric given and the GPU profile names no defaultFabric', file, 'cluster.fabric');
  const fabric = typeof fabricRef === 'string' ? loadProfile('fabric', fabricRef, dir, ref('cluster.fabric'), sources) : fabricRef;
  if (s.cluster.fabric === undefined) defaulted('cluster.fabric', 'defaultFabric');
  const failures = s.cluster.failures === undefined ? undefined : typeof s.cluster.failures === 'string' ? loadProfile('failures', s.cluster.failures, dir, ref('cluster.failures'), sources) : s.cluster.failures;
  const inputs = { input: s, model, gpu, node, fabric, failures };
  const scenario = resolveScenario(inputs, file);
  if (notes.length > 0) scenario.notes = [...notes, ...(scenario.notes ?? [])];
  // A programme: every stage resolved as the scenario it inherits and overrides (src/plan/programme.ts).
  if (s.stages && stages) stages.push(...resolveProgramme(inputs, file));
  const src = swSources[0];
  const software: SoftwareInEffect = { name: sw.name, path: src?.path ?? 'inline', origin: src?.origin ?? 'inline', values: sw, notModelled: [...notModelled(sw, s.plan, scenario.gpu.computeCapability), ...attentionNotModelled(scenario.model, scenario.gpu)] };
  return { scenario, software };
}

/** `--gpus N`: the new GPU count, and whether --set fixed the global batch or the spare pool (then they are kept). */
export interface Resize {
  gpus: number;
  keepBatch: boolean;
  keepSpares: boolean;
}

/**
 * The scenario on `--gpus N` GPUs, scaled in a stated way (a note says what moved): dp is
 * re-derived; the global batch scales with the GPU count (the batch per DP replica is kept), in
 * the form the file wrote it, rounded to whole sequences; the spare pool scales too, rounded up.
 * A global batch or spare pool given by --set is kept as given.
 */
function resized(s: ScenarioInput, r: Resize, file: string, notes: string[]): ScenarioInput {
  const old = clusterGpus(s, file);
  const f = r.gpus / old;
  if (f === 1) return { ...s, cluster: { ...s.cluster, gpus: r.gpus }, plan: { ...s.plan, dp: undefined } };
  const gb = s.plan.globalBatch;
  const scale = (n: number) => Math.max(1, Math.round(n * f));
  const globalBatch = r.keepBatch ? gb : typeof gb === 'number' ? scale(gb) : 'sequences' in gb ? { sequences: scale(gb.sequences) } : { tokens: Math.max(1, Math.round(gb.tokens * f)) };
  const spareNodes = r.keepSpares ? s.cluster.spareNodes : Math.ceil(s.cluster.spareNodes * f);
  const what = (g: typeof gb) => (typeof g === 'number' ? `${formatInt(g)} sequences` : 'sequences' in g ? `${formatInt(g.sequences)} sequences` : `${formatInt(g.tokens)} tokens`);
  notes.push(
    `--gpus ${formatInt(r.gpus)} (the file has ${formatInt(old)}): dp re-derived; global batch ${r.keepBatch ? `kept at ${what(gb)} (given by --set)` : `scaled ×${+f.toFixed(4)} to ${what(globalBatch)} (batch per DP replica kept)`}; spare nodes ${r.keepSpares ? `kept at ${spareNodes} (given by --set)` : `${s.cluster.spareNodes} → ${spareNodes} (scaled, rounded up)`}`,
  );
  return { ...s, cluster: { ...s.cluster, gpus: r.gpus, spareNodes }, plan: { ...s.plan, dp: undefined, globalBatch } };
}
