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

/** Share of the EP all-to-all that overlap hides of what the paired compute covers: the profile's epOverlap, 0 when plan.overlap.ep is off. */
export function epHiddenShare(sc: Scenario): number {
  return sc.plan.overlap.ep ? sc.gpu.efficiency.epOverlap : 0;
}
