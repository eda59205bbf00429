/**
 * Overlap rules both step engines apply to a layer's TP/CP/EP collectives (analytic.ts folds the
 * exposed part into each stage's time, the DES into each compute op):
 * - TP: on the compute stream, unless overlap.tp, when it hides behind the GEMMs it pairs with.
 * - CP all-gather (Llama 3): exposed; ring CP hides behind attention.
 * - EP all-to-all: exposed, unless overlap.ep hides a measured share behind the paired micro-batch.
 */
import type { Scenario } from '../plan/resolve.js';
import type { LayerCost } from './costs.js';

/**
 * Exposed part of one layer's TP/CP/EP collectives under the plan's overlap switches. With EP
 * overlap the forward's dispatch/combine hide behind the backward compute of the micro-batch it is
 * paired with, and the backward's behind that micro-batch's forward (Megatron's 1F1B all-to-all
 * overlap; DeepSeek-V3 §3.2.1 DualPipe); the pipeline's warm-up and cool-down, which have no
 * partner, are not told apart here.
 */
export function exposedLayerComm(l: LayerCost, overlapTp: boolean, cpRing: boolean, epHidden = 0) {
  const tpF = overlapTp ? Math.max(0, l.tpForwardCommSeconds - l.overlappableGemmSeconds) : l.tpForwardCommSeconds;
  const tpB = overlapTp ? Math.max(0, l.tpBackwardCommSeconds - 2 * l.overlappableGemmSeconds) : l.tpBackwardCommSeconds;
  const cpF = cpRing ? Math.max(0, l.cpForwardCommSeconds - l.attentionForwardSeconds) : l.cpForwardCommSeconds;
  const cpB = cpRing ? Math.max(0, l.cpBackwardCommSeconds - l.attentionBackwardSeconds) : l.cpBackwardCommSeconds;
  // EP overlap hides the share epHidden (0 when off) of what the paired micro-batch's compute covers.
  const epF = l.epForwardCommSeconds - epHidden * Math.min(l.epForwardCommSeconds, l.backwardInputSeconds + l.backwardWeightSeconds + l.recomputeSeconds);
  const epB = l.epBackwardCommSeconds - epHidden * Math.min(l.epBackwardCommSeconds, l.forwardSeconds);
  return { tpF, tpB, cpF, cpB, epF, epB };
}

/**
 * Share of the EP all-to-all that overlap hides of what the paired compute covers: the profile's
 * epOverlap (Megatron's 1F1B pairing, measured), 0 when plan.overlap.ep is off. DualPipe is built
 * to pair each forward chunk's all-to-alls with a backward chunk's compute and the other way round,
 * on dedicated communication SMs: "both all-to-all and PP communication can be fully hidden during
 * execution" (DeepSeek-V3 §3.2.1), so it hides all of what the paired compute covers (the SMs it
 * takes are the profile's overlapSlowdown).
 */
export function epHiddenShare(sc: Scenario): number {
  if (!sc.plan.overlap.ep) return 0;
  return sc.plan.schedule === 'dualpipe' && sc.plan.pp > 1 ? 1 : sc.gpu.efficiency.epOverlap;
}
