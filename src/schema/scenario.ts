/** A scenario file: model + cluster + software + plan + training, each by name or inline. */
import { z } from 'zod';
import { ModelSchema } from './model.js';
import { ClusterSchema } from './system.js';
import { PlanSchema, TrainingSchema } from './plan.js';
import { profileRef, displayName } from './common.js';
import { SoftwareSchema } from './software.js';

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
    cluster: ClusterSchema,
    software: profileRef(SoftwareSchema).optional().describe('software profile (software/<name>.yaml) or inline: its values are the defaults of the plan\'s software fields; default generic-2024'),
    plan: PlanSchema,
    training: TrainingSchema,
    simulation: SimulationSchema,
  })
  .describe('clusterplan scenario');

export type ScenarioInput = z.output<typeof ScenarioSchema>;
