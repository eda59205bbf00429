/** How each pipeline rank's layers split over its model chunks (virtual stages). */

/** Layers of one model chunk on one pipeline rank. */
export interface ChunkLayout {
  stage: number;
  chunk: number;
  /** The pipeline stage whose layers and costs (costs.stages) the chunk runs, when not `stage`: DualPipe's second chunk runs stage pp − 1 − stage (des/dualpipe.ts). */
  costStage?: number;
  /** Index of the chunk's first layer in costs.stages[stage].layers. */
  firstLocalLayer: number;
  numLayers: number;
  /** Index of the chunk's first layer in the model (virtual stages in order c·pp + s). */
  firstGlobalLayer: number;
  /** The chunk carries the stage's extra work (embedding on the first rank, LM head + loss on the last). */
  extras: boolean;
}

/** Splits each rank's layers over its vpp chunks; the chunk holding the embedding / LM head gets fewer layers. */
export function chunkLayout(layersPerStage: number[], vpp: number): ChunkLayout[][] {
  const pp = layersPerStage.length;
  const out: ChunkLayout[][] = [];
  for (let s = 0; s < pp; s++) {
    const L = layersPerStage[s];
    const base = Math.floor(L / vpp);
    let rest = L - base * vpp;
    const counts = new Array<number>(vpp).fill(base);
    // Remainder layers go first to chunks without the extra work: the first rank's chunk 0
    // holds the embedding and the last rank's last chunk the LM head (Llama 3 §3.3.2 balances
    // the same way by giving those ranks one layer fewer).
    const order: number[] = [];
    for (let c = 0; c < vpp; c++) order.push(c);
    if (s === pp - 1 && vpp > 1) order.push(order.splice(vpp - 1, 1)[0]);
    if (s === 0 && vpp > 1) order.push(order.splice(0, 1)[0]);
    for (let k = 0; rest > 0; k = (k + 1) % vpp, rest--) counts[order[k]]++;
    const row: ChunkLayout[] = [];
    let local = 0;
    for (let c = 0; c < vpp; c++) {
      row.push({ stage: s, chunk: c, firstLocalLayer: local, numLayers: counts[c], firstGlobalLayer: 0, extras: (s === 0 && c === 0) || (s === pp - 1 && c === vpp - 1) });
      local += counts[c];
    }
    out.push(row);
  }
  let g = 0;
  for (let c = 0; c < vpp; c++) {
    for (let s = 0; s < pp; s++) {
      out[s][c].firstGlobalLayer = g;
      g += out[s][c].numLayers;
    }
  }
  return out;
}
