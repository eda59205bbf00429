/**
 * Forward work re-run before the backward, per layer and micro-batch: selective recompute
 * (Megatron-Core's recompute_modules, Korthikanti 2022 §5), torchtitan's op-level SAC, or the
 * whole forward (full).
 */
import type { Scenario } from '../../plan/resolve.js';
import type { ParallelLayout } from '../../plan/layout.js';
import type { ComputeKernels } from './compute.js';

/** Recompute seconds of one layer whose forward takes `forward` seconds, `elem` of them elementwise. */
export function recomputeSeconds(sc: Scenario, layout: ParallelLayout, k: ComputeKernels, isMoe: boolean, forward: number, elem: number, attnFwd: number = k.attnFwd): number {
  const { model, plan } = sc;
  const recompute = plan.recompute;
  if (recompute === 'full') return forward;
  if (recompute === 'op-sac') return elem + k.opSacRecomputeGemms;
  if (recompute !== 'selective') return 0;
  // Selective recompute re-runs its modules' forward (recomputedModules): by default the
  // attention core when scores are materialised (Korthikanti 2022), else the norms and the FFN
  // activations.
  const mods = layout.recomputed;
  const { tp, etp } = layout;
  const T = layout.tokensPerMicroBatch;
  const moe = model.moe;
  const moeLayer = k.moe;
  const sharedFfn = isMoe ? k.sharedFfnTotal : 0;
  const routedAct = isMoe && moe ? k.actSeconds(((T * etp) / tp) * moe.topK * layout.expertLoad, moe.expertFfnHidden, etp) : 0;
  const unroutedAct = isMoe ? (sharedFfn > 0 ? k.actSeconds(T, sharedFfn, tp) : 0) : k.actSeconds(T, model.ffnHidden, tp);
  return (
    (mods.has('core_attn') ? attnFwd : 0) +
    (mods.has('layernorm') ? k.normSeconds : 0) +
    (mods.has('activation') ? routedAct + unroutedAct : mods.has('moe_act') ? routedAct : 0) +
    (mods.has('mla_up_proj') && model.mla ? k.mlaUpProj + k.ropeSeconds : 0) +
    (mods.has('mlp') && !isMoe ? k.denseMlp + unroutedAct : 0) +
    (mods.has('shared_experts') && isMoe && moeLayer && sharedFfn > 0 ? moeLayer.shared + unroutedAct : 0)
  );
}
