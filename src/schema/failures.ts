/** Failure profile: what breaks, how often, how it is noticed and what it takes to recover. */
import { z } from 'zod';
import { quantity } from './common.js';

export const FailureComponentSchema = z.strictObject({
  name: z.string(),
  rate: z.number().min(0).max(1e6).describe('events per unit of exposure, see per'),
  per: z.enum(['gpu-hour', 'node-hour', 'job-hour']).describe('exposure the rate is counted against'),
  scope: z.enum(['gpu', 'node', 'switch', 'job']).default('node'),
  distribution: z.enum(['exponential', 'weibull']).default('exponential'),
  weibullShape: z.number().positive().max(100).optional(),
  detect: quantity('seconds', { min: 0, max: 1e7 }).default(0).describe('time until the job notices'),
  replaceNode: z.boolean().default(false).describe('the node must be swapped for a spare'),
  planned: z.boolean().default(false),
});

export const FailureProfileSchema = z
  .strictObject({
    name: z.string(),
    description: z.string().optional(),
    components: z.array(FailureComponentSchema),
    recovery: z
      .strictObject({
        restart: quantity('seconds', { min: 0, max: 1e7 }).describe('relaunch + communicator init at reference scale'),
        restartReferenceGpus: z.number().int().positive().optional(),
        repair: quantity('seconds', { min: 0, max: 1e8 }).describe('time to return a replaced node to the spare pool'),
      })
      .optional(),
  })
  .describe('failure profile');

export type FailureProfile = z.output<typeof FailureProfileSchema>;
export type FailureComponent = z.output<typeof FailureComponentSchema>;
