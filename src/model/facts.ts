/**
 * Per-model facts that every formula reads, computed once per model object: the parameter counts
 * and which layers are MoE. A layout search evaluates thousands of plans of one model, and one
 * evaluation used to count the parameters eight times.
 */
import { countParams, isMoeLayer, type ParamCounts } from './params.js';
import type { ResolvedModel } from './resolved.js';

export interface ModelFacts {
  params: ParamCounts;
  /** moeLayer[i]: layer i (0-based) is a MoE layer (isMoeLayer). */
  moeLayer: readonly boolean[];
  /** MTP modules are blocks of the last layer's kind (DeepSeek-V3: MoE). */
  mtpMoe: boolean;
}

const memo = new WeakMap<ResolvedModel, ModelFacts>();

/** The facts of `model`, computed on first use; models are treated as immutable. */
export function modelFacts(model: ResolvedModel): ModelFacts {
  let f = memo.get(model);
  if (!f) {
    const moeLayer: boolean[] = [];
    for (let i = 0; i < model.layers; i++) moeLayer.push(isMoeLayer(model, i));
    f = { params: countParams(model), moeLayer, mtpMoe: isMoeLayer(model, model.layers - 1) };
    memo.set(model, f);
  }
  return f;
}
