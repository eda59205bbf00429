/** A scenario file: model + cluster + plan + training, each by name or inline. */
import { z } from 'zod';
import { ModelSchema } from './model.js';
import { ClusterSchema } from './system.js';
import { PlanSchema, TrainingSchema } from './plan.js';
import { profileRef, displayName, posInt } from './common.js';

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

export const ScenarioSchema = z
  .strictObject({
    name: displayName().optional(),
    description: z.string().optional(),
    model: profileRef(ModelSchema),
    cluster: ClusterSchema.extend({
      gpus: autoOr(posInt(1e7)).describe('GPUs in the job, or "auto" with a fixed layout (plan.dp given): tp·cp·pp·dp'),
    }),
    plan: PlanSchema,
    training: TrainingSchema,
    simulation: SimulationSchema,
  })
  .describe('clusterplan scenario');

export type ScenarioInput = z.output<typeof ScenarioSchema>;
