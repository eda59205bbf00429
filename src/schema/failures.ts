/**
 * Failure profile: what breaks, how often, how it is noticed and what it takes to recover.
 *
 * A profile lists failure components (each its own arrival process: unexpected faults and planned
 * maintenance alike), the recovery costs (relaunch, communicator initialisation that grows with
 * job size, node repair) and the checkpoint-format constants the run engine needs. Checkpoint
 * size comes from the plan; the interval and async switch come from the scenario's training block.
 */
import { z } from 'zod';
import { quantity, posInt, displayName } from './common.js';

const seconds = (max: number) => quantity('seconds', { min: 0, max });

export const FailureComponentSchema = z
  .strictObject({
    name: displayName().min(1),
    category: z.string().optional().describe('group for reports, e.g. GPU, Host, Network, Software'),
    description: z.string().optional(),
    rate: z.number().min(0).max(1e6).describe('events per unit of exposure, see per'),
    per: z.enum(['gpu-hour', 'node-hour', 'job-hour']).describe('exposure the rate is counted against: GPUs or nodes in the job, or the job itself'),
    scope: z
      .enum(['gpu', 'node', 'switch', 'rack', 'power', 'job'])
      .default('node')
      .describe('what the fault takes out: one GPU (its node), one node, a switch and the nodes under it, a rack or a power domain (nodesPerDomain nodes at once), or only the job (software)'),
    distribution: z
      .enum(['exponential', 'weibull'])
      .default('exponential')
      .describe('inter-arrival times of this component at job level; Weibull keeps the mean 1/rate'),
    weibullShape: z.number().positive().max(100).optional().describe('Weibull shape k (< 1 infant mortality, > 1 wear-out); required for weibull'),
    detect: seconds(1e7).default(0).describe('time from the fault until the job is torn down for a restart'),
    replaceNode: z.boolean().default(false).describe('the affected nodes leave the job for repair and are swapped for spares'),
    nodesPerSwitch: posInt(1e5).optional().describe('switch scope: nodes under the failed switch (default: from the fabric’s lowest tier)'),
    nodesPerDomain: posInt(1e5).optional().describe('rack or power scope: nodes the correlated domain loss takes out at once (required for those scopes)'),
    repair: seconds(1e8).optional().describe('overrides recovery.repair for this component'),
    planned: z.boolean().default(false).describe('planned maintenance: the job checkpoints, stops, waits `downtime`, restarts'),
    downtime: seconds(1e8).default(0).describe('planned only: time between the stop and the restart'),
  })
  .superRefine((c, ctx) => {
    if (c.distribution === 'weibull' && c.weibullShape === undefined) {
      ctx.addIssue({ code: 'custom', path: ['weibullShape'], message: 'a weibull component needs weibullShape' });
    }
    if (c.scope === 'job' && c.replaceNode) {
      ctx.addIssue({ code: 'custom', path: ['replaceNode'], message: 'a job-scope fault (software) has no node to replace' });
    }
    if ((c.scope === 'rack' || c.scope === 'power') && c.nodesPerDomain === undefined) {
      ctx.addIssue({ code: 'custom', path: ['nodesPerDomain'], message: `a ${c.scope}-scope fault needs nodesPerDomain (nodes lost at once)` });
    }
    if (c.planned && c.replaceNode) {
      ctx.addIssue({ code: 'custom', path: ['replaceNode'], message: 'planned maintenance does not replace nodes; model it with downtime' });
    }
    if (!c.planned && c.downtime > 0) {
      ctx.addIssue({ code: 'custom', path: ['downtime'], message: 'downtime applies to planned components; unexpected faults use detect and repair' });
    }
  });

export const RecoverySchema = z
  .strictObject({
    relaunch: seconds(1e7).default(0).describe('fixed part of a restart: rescheduling, container and process start, model build'),
    init: seconds(1e7).default(0).describe('communicator (NCCL) initialisation at referenceGpus'),
    referenceGpus: posInt(1e8).default(1).describe('job size at which init was measured'),
    initExponent: z.number().min(0).max(2).default(0).describe('init grows as (gpus / referenceGpus)^initExponent'),
    repair: seconds(1e8).default(0).describe('time until a node taken out by a fault is back in the spare pool'),
    // Recovery strategies (cluster.recovery). Defaults are guesses, marked as such in the README's
    // Recovery strategies table with the papers that bound them; a profile may set its own.
    hotSpareSwap: seconds(1e6)
      .default(20)
      .describe('hot-spare: remapping a standby node into the running job instead of a full relaunch and communicator init (TrainMover, arXiv 2412.12636: ~20 s at 1,024 GPUs)'),
    elasticReconfigure: seconds(1e6)
      .default(20)
      .describe('elastic: dropping the failed data-parallel replica and regrouping the survivors (default: bounded above by a measured hot swap, TrainMover ~20 s at 1,024 GPUs)'),
    inMemoryEverySteps: posInt(1e6).default(1).describe('in-memory: steps between in-memory (peer) checkpoints (Gemini, SOSP’23, checkpoints every iteration)'),
    inMemoryPause: seconds(1e4).default(0).describe('in-memory: job pause per in-memory checkpoint (Gemini interleaves the copy with training traffic: 0)'),
    peerRestoreBandwidth: quantity('bytesPerSecond', { positive: true, max: 1e15 })
      .optional()
      .describe('in-memory: per node rate of restoring a checkpoint shard from a peer’s CPU memory; default derived from the hardware: the smaller of the node’s NICs and its GPUs’ host-to-device copies (asyncSnapshotBandwidth), run/recovery.ts'),
  })
  .describe('recovery costs; the checkpoint load time is added from the plan and storage read bandwidth');

export const CheckpointFormatSchema = z
  .strictObject({
    bytesPerParam: z
      .number()
      .positive()
      .max(64)
      .default(14)
      .describe('bytes saved per parameter: bf16 weights 2 + fp32 master 4 + Adam m 4 + v 4 (gradients are not saved)'),
    saveOverhead: seconds(1e5).default(0).describe('fixed cost of each blocking save: barrier, metadata, file creation'),
    asyncSnapshotBandwidth: quantity('bytesPerSecond', { positive: true, max: 1e15 })
      .optional()
      .describe('per GPU device-to-host copy rate of an asynchronous save; the pause is the GPU’s share over this'),
  })
  .describe('checkpoint format and save costs');

export const FailureProfileSchema = z
  .strictObject({
    name: displayName(),
    description: z.string().optional(),
    source: z.string().optional().describe('where the numbers come from'),
    components: z.array(FailureComponentSchema),
    recovery: RecoverySchema.prefault({}),
    checkpoint: CheckpointFormatSchema.prefault({}),
  })
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.components.forEach((c, i) => {
      if (seen.has(c.name)) ctx.addIssue({ code: 'custom', path: ['components', i, 'name'], message: `duplicate component name "${c.name}"` });
      seen.add(c.name);
    });
  })
  .describe('failure profile');

export type FailureProfile = z.output<typeof FailureProfileSchema>;
export type FailureComponent = z.output<typeof FailureComponentSchema>;
export type Recovery = z.output<typeof RecoverySchema>;
export type CheckpointFormat = z.output<typeof CheckpointFormatSchema>;
