/**
 * `clusterplan compare --search`: the search's best plans of a scenario as rows of the comparison.
 * The search (src/search) runs on the scenario's own cluster size, objective time; each plan it
 * reports comes back as overrides of the scenario (every layout choice the search makes, plus the
 * fields the search derives from them where the file's own would differ), so the row is evaluated
 * like any other plan, and must reproduce the step time the search found (compare-eval.ts checks).
 */
import type { Scenario } from '../plan/resolve.js';
import { parseScenario } from '../io/load.js';
import { searchShard, type SearchProgress } from '../search/search.js';
import { mergeSearch, type TopEntry } from '../search/merge.js';
import { candidatePlan } from '../search/bounds.js';
import type { ClusterSize } from '../search/space.js';
import { parseGpus } from './search.js';
import { readPlanData, type SearchExpectation, type SearchPlan } from './compare-eval.js';
import { formatInt } from '../units/format.js';

/** Searching one scenario (a file with overrides) for its best `top` plans. */
export interface SearchRequest {
  type: 'search';
  id: number;
  file: string;
  sets: string[];
  top: number;
}

/** The plan choices in the order the overrides list them. */
const PLAN_KEYS = ['tp', 'cp', 'pp', 'vpp', 'dp', 'ep', 'etp', 'zeroStage', 'microBatch', 'recompute', 'schedule', 'precision'] as const;

/**
 * A search entry as overrides of the scenario it searched (`data`: the file with its overrides,
 * before validation; `sc`: the same resolved): every plan choice, the cluster size when it differs,
 * and the fields candidatePlan derives (layer split, sequence parallelism, global batch) where the
 * file's own values would resolve differently.
 */
export function searchSets(data: Record<string, unknown>, sc: Scenario, entry: Pick<TopEntry, 'plan' | 'gpus'>, size: ClusterSize): string[] {
  const c = entry.plan;
  const raw = (data.plan ?? {}) as Record<string, unknown>;
  const cand = candidatePlan(sc, c, size.globalBatchSequences);
  const sets = PLAN_KEYS.map((k) => `plan.${k}=${c[k]}`);
  if (entry.gpus !== sc.cluster.gpus) sets.unshift(`cluster.gpus=${entry.gpus}`, `cluster.spareNodes=${size.spareNodes}`);
  if (c.pp !== sc.plan.pp && cand.layersPerStage !== raw.layersPerStage) {
    // An even split is no layersPerStage at all; the file's own list (or "auto") must not stay.
    const even = cand.layersPerStage === undefined;
    if (!even || raw.layersPerStage !== undefined) sets.push(`plan.layersPerStage=${even ? JSON.stringify(new Array<number>(c.pp).fill(sc.model.layers / c.pp)) : String(cand.layersPerStage)}`);
  }
  const sp = (v: unknown) => (typeof v === 'boolean' ? v : c.tp > 1);
  if (sp(cand.sequenceParallel) !== sp(raw.sequenceParallel)) sets.push(`plan.sequenceParallel=${sp(cand.sequenceParallel)}`);
  if (size.globalBatchSequences !== sc.plan.globalBatchSequences) sets.push(`plan.globalBatch=${size.globalBatchSequences}`);
  return sets;
}

/** A row name: where the plan came from and its layout (dp follows from the GPUs; the layout column shows it), e.g. "search #1 TP4 CP2 PP8 v16". */
export function searchRowName(prefix: string | undefined, p: Pick<SearchPlan, 'rank' | 'plan' | 'gpus'>, scenarioGpus: number): string {
  const c = p.plan;
  const layout = [`TP${c.tp}`, `CP${c.cp}`, `PP${c.pp}${c.vpp > 1 ? ` v${c.vpp}` : ''}`, ...(c.ep > 1 ? [`EP${c.ep}`] : []), ...(p.gpus !== scenarioGpus ? [`${p.gpus} GPUs`] : [])].join(' ');
  return `${prefix ? prefix + ' ' : ''}search #${p.rank} ${layout}`;
}

/** One line of search progress, e.g. "candidates 4,096/16,872 · 12 evaluated". */
export function searchProgressText(p: SearchProgress): string {
  if (p.phase === 'bound') return `bounding ${formatInt(p.done)}/${formatInt(p.total)} candidates`;
  if (p.phase === 'evaluate') return `candidates ${formatInt(p.done)}/${formatInt(p.total)} · ${formatInt(p.evaluated)} evaluated`;
  return `re-ranking ${p.done + 1}/${p.total} with the step engine`;
}

/**
 * Runs the search of one scenario (objective time, on its own cluster size) and returns its best
 * plans as overrides, with notes (why there are none, when nothing fits).
 */
export function runSearch(req: SearchRequest, onProgress?: (p: SearchProgress) => void): { plans: SearchPlan[]; notes: string[]; scenarioGpus: number } {
  const data = readPlanData(req.file, req.sets);
  const sc = parseScenario(structuredClone(data), req.file);
  const sizes = parseGpus(sc, undefined, false);
  // Objective time ranks by ideal days: the run engine's failures would not change the order.
  const body = searchShard(sc, { sizes, top: req.top, objective: 'time', runEngineWhen: () => false, onProgress });
  const result = mergeSearch([{ ...body, clusterplanShard: { kind: 'search', index: 0, count: 1, inputsHash: '' }, seconds: null }]);
  const notes = [...result.notes];
  if (!result.feasible) {
    notes.push(`the search found no plan that fits in HBM; closest: ${(result.closestMisses ?? []).map((m) => m.lacks).join(' | ')}`);
  }
  const plans = result.top.map((e) => ({
    rank: e.rank,
    plan: e.plan,
    gpus: e.gpus,
    sets: searchSets(data, sc, e, sizes.find((s) => s.gpus === e.gpus)!),
    expect: { engine: e.detail.engine, stepSeconds: e.results.stepSeconds, closedFormStepSeconds: e.detail.closedFormStepSeconds },
  }));
  return { plans, notes, scenarioGpus: sc.cluster.gpus };
}
