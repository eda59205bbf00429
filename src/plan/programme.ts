/**
 * Training programmes: a scenario with `stages:` is a list of steady states run in order (Llama 3
 * 405B: a batch ramp, six context-length stages, annealing, then SFT, rejection sampling and DPO
 * rounds). Each stage inherits the scenario and overrides it; this module is the pure, typed merge
 * that turns one stage into the ScenarioInput the resolver takes, so one stage resolves exactly as
 * a scenario with those fields would.
 */
import type { ScenarioInput, StageInput, StageKind, StagePlan } from '../schema/scenario.js';
import type { Plan } from '../schema/plan.js';
import { UserError, UserErrors } from '../errors.js';
import { resolveScenario, type ResolveInputs, type Scenario } from './resolve.js';

/** A resolved stage: its scenario (as a scenario of these fields would resolve) and what sizes it. */
export interface ResolvedStage {
  index: number;
  name: string;
  kind: StageKind;
  scenario: Scenario;
  /** The stage's generation workload (generate stages only). */
  generate?: { prompts: number; samplesPerPrompt: number; promptTokens: number; responseTokens: number; decodeBatch: number };
}

/** Sequences decoded together per model replica when a generate stage gives no decodeBatch (assumption: a typical vLLM max_num_seqs, 256). */
export const DEFAULT_DECODE_BATCH = 256;

const defined = <T extends object>(o: T | undefined): Partial<T> => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * The plan a stage runs: the scenario's plan with the stage's fields on top (overlap switch by
 * switch). dp: the stage's own when it gives one ("auto" re-derives it); else inherited only when
 * the stage changes neither its GPU count nor tp, cp or pp (otherwise it is what is left again).
 */
export function stagePlan(base: Plan, over: StagePlan | undefined, gpusChanged: boolean): Plan {
  const o = defined(over);
  const { dp: stageDp, overlap, ...rest } = o;
  const reshaped = gpusChanged || rest.tp !== undefined || rest.cp !== undefined || rest.pp !== undefined;
  const dp = stageDp === 'auto' ? undefined : stageDp ?? (reshaped ? undefined : base.dp);
  return { ...base, ...(rest as Partial<Plan>), dp, overlap: { ...base.overlap, ...defined(overlap) } };
}

/** The ScenarioInput of one stage: the scenario with the stage's GPU count, plan, token budget and checkpoint interval. */
export function stageInput(base: ScenarioInput, stage: StageInput): ScenarioInput {
  const gpus = stage.gpus ?? base.cluster.gpus;
  const gpusChanged = stage.gpus !== undefined && stage.gpus !== base.cluster.gpus;
  return {
    ...base,
    name: `${base.name ?? 'programme'} · ${stage.name}`,
    cluster: { ...base.cluster, gpus },
    plan: stagePlan(base.plan, stage.plan as StagePlan | undefined, gpusChanged),
    training: {
      ...base.training,
      totalTokens: stage.tokens ?? base.training.totalTokens,
      checkpointInterval: stage.checkpointInterval ?? base.training.checkpointInterval,
    },
    stages: undefined,
  };
}

/**
 * Resolves every stage of a programme. A stage sized in steps gets steps × its global batch in
 * tokens; a generate stage's training budget is its decoded tokens (prompts × K × responseTokens),
 * which the run engine reads as the stage's work. Layout problems name the stage.
 */
export function resolveProgramme(r: Omit<ResolveInputs, 'input'> & { input: ScenarioInput }, file: string): ResolvedStage[] {
  const stages = r.input.stages ?? [];
  // Every stage's problems at once, one line each (a UserErrors), not only the first stage's.
  const errors: UserError[] = [];
  const resolved = stages.map((stage, index) => {
    const input = stageInput(r.input, stage);
    let scenario: Scenario;
    try {
      scenario = resolveScenario({ ...r, input }, `${file}: stages[${index}] (${stage.name})`);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      errors.push(...(e instanceof UserErrors ? e.problems : [e]));
      return undefined;
    }
    if (stage.steps !== undefined) {
      scenario.training = { ...scenario.training, totalTokens: stage.steps * scenario.plan.globalBatchSequences * scenario.model.seqLen };
    }
    const out: ResolvedStage = { index, name: stage.name, kind: stage.kind, scenario };
    if (stage.kind === 'generate') {
      const g = { prompts: stage.prompts!, samplesPerPrompt: stage.samplesPerPrompt!, promptTokens: stage.promptTokens!, responseTokens: stage.responseTokens!, decodeBatch: stage.decodeBatch ?? DEFAULT_DECODE_BATCH };
      out.generate = g;
      scenario.training = { ...scenario.training, totalTokens: g.prompts * g.samplesPerPrompt * g.responseTokens };
    }
    return out;
  });
  if (errors.length > 0) throw errors.length === 1 ? errors[0] : new UserErrors(errors);
  return resolved as ResolvedStage[];
}
