/** A model with its defaults filled in (kvHeads, headDim), as every formula wants it. */
import type { Model } from '../schema/model.js';
import { UserError } from '../errors.js';

export interface ResolvedModel extends Omit<Model, 'seqLen'> {
  /** Training sequence length of the stage being evaluated: the plan's seqLen, filled in by the resolver (plan/resolve.ts). */
  seqLen: number;
  kvHeads: number;
  headDim: number;
  mtpLayers: number;
  /** Per-head size of queries and keys (the QKᵀ contraction): headDim, or MLA's nope + rope parts. */
  qkHeadDim: number;
  /** Per-head size of values and of the attention output: headDim, or MLA's vHeadDim. */
  vHeadDim: number;
}

/**
 * Fills defaults in a model (kvHeads = heads, headDim = hidden / heads, no MTP modules). With MLA
 * the attention kernel sees one K and V per query head (kvHeads = heads), queries and keys of
 * nope + rope and values of vHeadDim per head.
 */
export function resolveModel(model: Model, seqLen = model.seqLen): ResolvedModel {
  if (seqLen === undefined) throw new UserError('no sequence length: give plan.seqLen (the model file no longer holds it)', undefined, 'plan.seqLen');
  const headDim = model.headDim ?? model.hidden / model.heads;
  const mla = model.mla ?? null;
  return {
    ...model,
    seqLen,
    kvHeads: mla ? model.heads : model.kvHeads ?? model.heads,
    headDim,
    mtpLayers: model.mtpLayers ?? 0,
    qkHeadDim: mla ? mla.qkNopeHeadDim + mla.qkRopeHeadDim : headDim,
    vHeadDim: mla ? mla.vHeadDim : headDim,
  };
}

/**
 * Widths of the tensors around the attention kernel for one token: queries, keys, values (as the
 * kernel reads them) and the attention output that enters the output projection.
 */
export function attentionWidths(model: ResolvedModel): { q: number; k: number; v: number; o: number } {
  return { q: model.heads * model.qkHeadDim, k: model.kvHeads * model.qkHeadDim, v: model.kvHeads * model.vHeadDim, o: model.heads * model.vHeadDim };
}
