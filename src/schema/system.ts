/** The system a run executes on: GPU, node, fabric and the cluster that ties them together. */
import { z } from 'zod';
import { quantity, posInt, nonNegInt, fraction, efficiency, profileRef, count, displayName } from './common.js';
import { FailureProfileSchema } from './failures.js';

const TB = 1e12;
/** Floor for bandwidths: slower is absurd and overflows run totals to Infinity. */
const MB = 1e6;

/** [GFLOP per GEMM call, fraction of dense peak achieved] points, interpolated in log(GFLOP). */
const EfficiencyCurve = z
  .array(z.tuple([z.number().positive().max(1e9), z.number().min(1e-4).max(1)]))
  .min(1)
  .describe('[GFLOP of one GEMM, fraction of peak] points, ascending; log-linear between, flat outside');

export const GpuSchema = z
  .strictObject({
    name: displayName(),
    description: z.string().optional(),
    computeCapability: z.number().min(1).max(99).optional().describe('CUDA compute capability (major.minor, e.g. 9.0 Hopper, 10.0 Blackwell B200/GB200): decides which fp8 GEMM layouts exist (memory.ts lowPrecisionWeightBytes)'),
    peakFlops: z
      .strictObject({
        bf16: quantity('flopsPerSecond', { positive: true, min: 1e9, max: 1e18 }),
        fp8: quantity('flopsPerSecond', { positive: true, min: 1e9, max: 1e18 }).optional(),
        fp4: quantity('flopsPerSecond', { positive: true, min: 1e9, max: 1e18 }).optional(),
      })
      .describe('dense (not 2:4 sparse) tensor-core peaks'),
    hbm: z.strictObject({
      capacity: quantity('bytes', { positive: true, max: 100 * TB }),
      bandwidth: quantity('bytesPerSecond', { positive: true, min: MB, max: 1000 * TB }),
    }),
    efficiency: z
      .strictObject({
        gemm: z.strictObject({ bf16: EfficiencyCurve, fp8: EfficiencyCurve.optional(), fp4: EfficiencyCurve.optional() }),
        attentionForward: efficiency().describe('flash-attention forward, fraction of bf16 peak'),
        attentionBackward: efficiency().describe('flash-attention backward, fraction of bf16 peak'),
        attentionFlash2Forward: efficiency().optional().describe('FlashAttention-2-class kernels, forward (default: attentionForward)'),
        attentionFlash2Backward: efficiency().optional().describe('FlashAttention-2-class kernels, backward (default: attentionBackward)'),
        attentionFlash1Forward: efficiency().optional().describe('first-generation fused kernels (FlashAttention-1, the 2022 Triton kernel), forward (default: half the FlashAttention-2 figure)'),
        attentionFlash1Backward: efficiency().optional().describe('first-generation fused kernels, backward (default: half the FlashAttention-2 figure)'),
        attentionCudnnSinks: z
          .strictObject({
            headDim: posInt(1024).describe('head dim the figures were measured at; other head dims keep the flash figures'),
            forward: efficiency().describe('forward over long spans (full causal layers), fraction of bf16 peak over the attended-key FLOPs'),
            backward: efficiency().describe('backward over long spans, fraction of bf16 peak over 2.5x the forward FLOPs'),
            longSpanTokens: posInt(1e9).describe('the span (window) the long-span figures were measured at; longer spans and full layers take them'),
            windowTokens: posInt(1e9).describe('the sliding window the window figures were measured at; shorter windows take them'),
            windowForward: efficiency().describe('forward at windowTokens, fraction of bf16 peak over the attended-key FLOPs'),
            windowBackward: efficiency().describe('backward at windowTokens, as backward'),
          })
          .optional()
          .describe('cuDNN fused attention, which Transformer Engine runs for learnable-softmax sinks (FlashAttention filtered out): measured figures at one head dim, log-linear in the span between the window and long-span points; default none (the flash figures apply)'),
        hbm: efficiency().describe('achieved fraction of HBM bandwidth in memory-bound kernels'),
        overlapSlowdown: z.number().min(0).max(1).default(0).describe('fraction by which compute slows while a collective runs beside it (NCCL takes SMs and HBM bandwidth)'),
        epOverlap: fraction().default(1).describe("share of the expert-parallel all-to-all that plan.overlap.ep hides behind the paired micro-batch's compute, of what the compute could cover (1 = all of it)"),
        fp8Overhead: fraction().default(0).describe('extra time per fp8 GEMM for casts and scaling, as a fraction of its fp8 time'),
        moeHost: z
          .strictObject({
            perLayer: quantity('seconds', { min: 0, max: 1 }).describe('host time per MoE layer and micro-batch (forward + backward) that the GPU waits for'),
            perLocalExpert: quantity('seconds', { min: 0, max: 1 }).describe('the same, per expert held on the GPU (per-expert kernels)'),
          })
          .optional()
          .describe('exposed host (launch) time of dropless MoE layers: their token counts are copied to the host every layer, so the CPU cannot run ahead of the GPU; zero under full-iteration CUDA graphs; default none'),
      })
      .describe('achievable efficiency, calibrated per GPU from microbenchmarks'),
    memory: z
      .strictObject({
        reserved: quantity('bytes', { min: 0, max: 100 * TB }).describe('CUDA context, NCCL buffers, allocator slack'),
        fragmentation: fraction().default(0).describe('fraction of allocated bytes lost to allocator fragmentation'),
      })
      .describe('framework overhead on each GPU'),
    power: z.strictObject({
      tdp: quantity('watts', { positive: true, max: 1e5 }),
      trainingFraction: fraction().default(0.8).describe('average draw during training as a fraction of TDP'),
    }),
    pricePerGpuHour: quantity('usdPerGpuHour', { min: 0, max: 1e6 }).optional().describe('what a buyer pays per GPU-hour for this GPU (USD); a scenario\'s cluster.pricePerGpuHour overrides it'),
    defaultNode: z.string().optional().describe('node profile used when a scenario or validation case names only the GPU'),
    defaultFabric: z.string().optional(),
  })
  .describe('GPU profile');

export const NodeSchema = z
  .strictObject({
    name: displayName(),
    description: z.string().optional(),
    gpusPerNode: posInt(1024).describe('GPUs in one NVLink domain'),
    nvlink: z.strictObject({
      bandwidth: quantity('bytesPerSecond', { positive: true, min: MB, max: 100 * TB }).describe('per GPU, one direction'),
      ringBusBwFraction: efficiency().describe('NCCL ring busbw / line rate at large messages'),
      allReduceBusBwFraction: efficiency(2).describe('all-reduce busbw / line rate (NVLS can exceed 1)'),
      latency: quantity('seconds', { min: 0, max: 1 }).describe('per-collective latency (alpha)'),
    }),
    nics: z.strictObject({
      perNode: posInt(1024),
      rate: quantity('bytesPerSecond', { positive: true, min: MB, max: 100 * TB }).describe('per NIC, one direction'),
      busBwFraction: efficiency().describe('NCCL busbw / line rate across nodes at large messages'),
      latency: quantity('seconds', { min: 0, max: 1 }).describe('per-hop network latency'),
    }),
    power: z.strictObject({
      overhead: quantity('watts', { min: 0, max: 1e7 }).describe('CPUs, NICs, fans: node power not drawn by GPUs'),
    }),
  })
  .describe('node profile');

export const FabricTierSchema = z
  .strictObject({
    name: displayName(),
    nodes: posInt(1e7).optional().describe('nodes under one switch group of this tier'),
    gpus: posInt(1e8).optional().describe('GPUs under one switch group of this tier'),
    oversubscription: z.number().min(1).max(1000).default(1).describe('downlink:uplink ratio of this tier (7 for 1:7)'),
    latency: quantity('seconds', { min: 0, max: 1 }).default(0),
  })
  .refine((t) => (t.nodes === undefined) !== (t.gpus === undefined), { message: 'give exactly one of nodes or gpus' });

export const FabricSchema = z
  .strictObject({
    name: displayName(),
    description: z.string().optional(),
    tiers: z.array(FabricTierSchema).min(1).describe('from the lowest (rack/leaf) to the highest tier'),
  })
  .describe('scale-out fabric profile');

export const ClusterSchema = z
  .strictObject({
    gpu: profileRef(GpuSchema),
    node: profileRef(NodeSchema).optional(),
    fabric: profileRef(FabricSchema).optional(),
    gpus: posInt(1e7).describe('GPUs in the job'),
    spareNodes: nonNegInt(1e6).default(0),
    storage: z
      .strictObject({
        writeBandwidth: quantity('bytesPerSecond', { positive: true, min: MB, max: 1e6 * TB }).describe('aggregate checkpoint write bandwidth'),
        readBandwidth: quantity('bytesPerSecond', { positive: true, min: MB, max: 1e6 * TB }).optional(),
        perNodeBandwidth: quantity('bytesPerSecond', { positive: true, min: MB, max: 100 * TB }).optional(),
      })
      .optional(),
    pricePerGpuHour: quantity('usdPerGpuHour', { min: 0, max: 1e6 }).optional().describe("USD per GPU-hour; default: the GPU profile's pricePerGpuHour (none set: costs say \"price not set\")"),
    pue: z.number().min(1).max(10).default(1.2),
    failures: profileRef(FailureProfileSchema).optional(),
    spareBilling: z
      .enum(['held', 'rented'])
      .optional()
      .describe('how spare nodes are paid (default held): held (reserved beside the job and billed the whole run, as a reserved cluster bills) or rented (billed only while standing in for a node out for repair)'),
    recovery: z
      .enum(['checkpoint-restart', 'hot-spare', 'in-memory', 'elastic'])
      .optional()
      .describe('(default checkpoint-restart) how the job recovers from a fault (see README, Recovery strategies); costs come from the failure profile\'s recovery block'),
  })
  .describe('cluster');

export type Gpu = z.output<typeof GpuSchema>;
export type Node = z.output<typeof NodeSchema>;
export type Fabric = z.output<typeof FabricSchema>;
export type FabricTier = z.output<typeof FabricTierSchema>;
export type ClusterInput = z.output<typeof ClusterSchema>;
export { count };
