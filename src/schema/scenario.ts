/** A scenario file: model + cluster + software + plan + training, each by name or inline. */
import { z } from 'zod';
import { ModelSchema } from './model.js';
import { ClusterSchema } from './system.js';
import { PlanSchema, TrainingSchema, StagePlanSchema, type Plan } from './plan.js';
import { profileRef, displayName, posInt, count } from './common.js';
import { SoftwareSchema } from './software.js';

/**
 * A field that is either "auto" or a value of `schema`; not a union, so a bad value gets the
 * schema's own plain message ("is required (a number) but missing", "must be at least 1").
 */
function autoOr<T extends z.ZodType>(schema: T) {
  return z.unknown().transform((v, ctx): z.output<T> | 'auto' => {
    if (v === 'auto') return 'auto';
    const r = schema.safeParse(v, { reportInput: true });
    if (r.success) return r.data;
    for (const issue of r.error.issues) ctx.addIssue({ ...issue } as never);
    return z.NEVER;
  });
}

export const SimulationSchema = z
  .strictObject({
    engine: z.enum(['des', 'analytic']).default('des'),
    stragglerSlowdown: z.number().min(0).max(10).default(0).describe('one GPU this fraction slower (0.1 = 10%)'),
    throughputVariation: z.number().min(0).max(0.5).default(0).describe('run-level throughput variation, e.g. 0.015 (Llama 3: 1-2% diurnal)'),
  })
  .prefault({});

export const StageKindSchema = z
  .enum(['pretrain', 'sft', 'dpo', 'generate'])
  .describe('pretrain; sft (packed sequences: a training step of the same shape); dpo (policy forward and backward on chosen and rejected, reference forward); generate (rejection sampling: prefill and decode of samplesPerPrompt samples per prompt, at a roofline cost)');

/** One stage of a training programme: what it changes from the scenario (everything else is inherited). */
export const StageSchema = z
  .strictObject({
    name: displayName(),
    kind: StageKindSchema.default('pretrain'),
    description: z.string().optional(),
    tokens: count(1e18).optional().describe('tokens this stage trains on (dpo: chosen and rejected sequences both count); default: training.totalTokens'),
    steps: posInt(1e9).optional().describe('or the stage as optimizer steps of its global batch'),
    gpus: posInt(1e7).optional().describe("GPUs of this stage (default: the scenario's); dp is re-derived unless the stage gives it"),
    plan: StagePlanSchema.optional(),
    checkpointInterval: TrainingSchema.shape.checkpointInterval,
    prompts: count(1e12).optional().describe('generate: prompts to sample for'),
    samplesPerPrompt: posInt(1e4).optional().describe('generate: samples K per prompt'),
    promptTokens: posInt(1 << 24).optional().describe('generate: mean prompt length in tokens (prefilled once per prompt, its KV shared by the K samples)'),
    responseTokens: posInt(1 << 24).optional().describe('generate: tokens decoded per sample'),
    decodeBatch: posInt(1e6).optional().describe('generate: sequences decoded together per model replica (default 256)'),
  })
  .superRefine((st, ctx) => {
    if (st.tokens !== undefined && st.steps !== undefined) ctx.addIssue({ code: 'custom', path: ['steps'], message: 'give tokens or steps, not both' });
    const gen = ['prompts', 'samplesPerPrompt', 'promptTokens', 'responseTokens'] as const;
    if (st.kind === 'generate') {
      for (const k of gen) if (st[k] === undefined) ctx.addIssue({ code: 'custom', path: [k], message: `is required for a generate stage` });
      if (st.tokens !== undefined || st.steps !== undefined) ctx.addIssue({ code: 'custom', path: [st.tokens !== undefined ? 'tokens' : 'steps'], message: 'a generate stage is sized by prompts, samplesPerPrompt and responseTokens' });
    } else {
      for (const k of [...gen, 'decodeBatch'] as const) if (st[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `only a generate stage takes ${k}` });
    }
  });

export const ScenarioSchema = z
  .strictObject({
    name: displayName().optional(),
    description: z.string().optional(),
    model: profileRef(ModelSchema),
    cluster: ClusterSchema.extend({
      gpus: autoOr(posInt(1e7)).describe('GPUs in the job, or "auto" with a fixed layout (plan.dp given): tp·cp·pp·dp'),
    }),
    software: profileRef(SoftwareSchema).optional().describe('software profile (software/<name>.yaml) or inline: its values are the defaults of the plan\'s software fields; default generic-2024'),
    plan: PlanSchema,
    training: TrainingSchema,
    simulation: SimulationSchema,
    stages: z.array(StageSchema).min(1).max(256).optional().describe('a training programme: stages run in order, each inheriting the scenario and overriding it'),
  })
  .describe('clusterplan scenario');

export type ScenarioInput = z.output<typeof ScenarioSchema>;
export type StageInput = z.output<typeof StageSchema>;
export type StageKind = z.output<typeof StageKindSchema>;
/** A stage's plan overrides as parsed (dp may be "auto"). */
export type StagePlan = Partial<Omit<Plan, 'dp' | 'overlap'>> & { dp?: number | 'auto'; overlap?: Partial<Plan['overlap']> };
