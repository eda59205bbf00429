/** A model with its defaults filled in (kvHeads, headDim), as every formula wants it. */
import type { Model } from '../schema/model.js';

export interface ResolvedModel extends Model {
  kvHeads: number;
  headDim: number;
  mtpLayers: number;
}

/** Fills defaults in a model (kvHeads = heads, headDim = hidden / heads, no MTP modules). */
export function resolveModel(model: Model): ResolvedModel {
  return { ...model, kvHeads: model.kvHeads ?? model.heads, headDim: model.headDim ?? model.hidden / model.heads, mtpLayers: model.mtpLayers ?? 0 };
}
