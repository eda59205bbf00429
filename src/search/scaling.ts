/**
 * Compute-optimal model size and token count for a compute budget.
 *
 * Llama 3 ([LLAMA3] Grattafiori et al. 2024, arXiv 2407.21783, §3.2.1): the compute-optimal number
 * of training TOKENS is N*(C) = A·C^α with (α, A) = (0.53, 0.29), and extrapolating to 3.8 × 10²⁵
 * FLOPs "suggests training a 402B parameter model on 16.55T tokens". The printed constants are
 * rounded: 0.29 · (3.8e25)^0.53 = 10.5T tokens, not 16.55T. The exponent that gives the paper's
 * 16.55T with A = 0.29 is α = ln(16.55e12 / 0.29) / ln(3.8e25) = 0.5378, which the printed 0.53 is
 * truncated from (it would round to 0.54); at 10²⁵ FLOPs a change of α by 0.005 moves the answer by
 * 10^(0.005·25) = 1.33×. We use the exponent derived from the paper's own extrapolation.
 * Parameters follow from C ≈ 6·N·D (Kaplan et al. 2020): 3.8e25 / (6 · 16.55T) = 383B. The paper's
 * 402B implies 3.8e25 / (402B · 16.55T) = 5.71 FLOPs per parameter and token, i.e. 6·N·D = 4.0e25:
 * its 402B/16.55T pair was read at about 4.0 × 10²⁵ FLOPs, not at the 3.8 × 10²⁵ it trained with.
 *
 * Chinchilla ([CHIN] Hoffmann et al. 2022, arXiv 2203.15556): Approach 3 (§3.3), the parametric
 * loss L(N, D) = E + A/N^α + B/D^β (eq. 2) with the fitted E = 1.69, A = 406.4, B = 410.7,
 * α = 0.34, β = 0.28, minimised under C = 6·N·D: N_opt = G·(C/6)^a, D_opt = G⁻¹·(C/6)^b with
 * G = (αA / βB)^(1/(α+β)), a = β/(α+β), b = α/(α+β) (eq. 4; fit in Appendix D.2). Approaches 1
 * and 2 (a ≈ 0.50) give larger models at the same budget.
 */
import { countParams } from '../model/params.js';
import { resolveModel } from '../model/resolved.js';
import type { Model } from '../schema/model.js';

export type Law = 'llama3' | 'chinchilla';

/** [LLAMA3] §3.2.1 as printed. */
export const LLAMA3_PRINTED = { alpha: 0.53, coefficient: 0.29 };
/** [LLAMA3] §3.2.1's extrapolation: 16.55T tokens at 3.8 × 10²⁵ FLOPs. */
export const LLAMA3_POINT = { computeFlops: 3.8e25, tokens: 16.55e12 };
/** The exponent that reproduces the paper's extrapolation with A = 0.29 (derived, see above). */
export const LLAMA3_ALPHA = Math.log(LLAMA3_POINT.tokens / LLAMA3_PRINTED.coefficient) / Math.log(LLAMA3_POINT.computeFlops);
/** [CHIN] §3.3 Approach 3's fitted constants. */
export const CHINCHILLA_APPROACH3 = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };
/** Training FLOPs per parameter and token, C ≈ 6·N·D (Kaplan et al. 2020, §2.1). */
export const FLOPS_PER_PARAM_TOKEN = 6;

export interface ScalingResult {
  law: Law;
  computeFlops: number;
  paramsOptimal: number;
  tokensOptimal: number;
  /** The law's constants as used. */
  constants: Record<string, number>;
  /** Tokens (and parameters by 6·N·D) when α is each of a few values around the one used (llama3). */
  sensitivity: { alpha: number; tokens: number; params: number }[];
  notes: string[];
}

/** The compute-optimal (parameters, tokens) for `computeFlops` under a law. */
export function computeOptimal(computeFlops: number, law: Law): ScalingResult {
  if (law === 'chinchilla') {
    const c = CHINCHILLA_APPROACH3;
    const G = ((c.alpha * c.A) / (c.beta * c.B)) ** (1 / (c.alpha + c.beta));
    const a = c.beta / (c.alpha + c.beta);
    const b = c.alpha / (c.alpha + c.beta);
    const x = computeFlops / FLOPS_PER_PARAM_TOKEN;
    return {
      law,
      computeFlops,
      paramsOptimal: G * x ** a,
      tokensOptimal: x ** b / G,
      constants: { ...c, G, a, b },
      sensitivity: [],
      notes: ['Hoffmann et al. 2022, Approach 3 (§3.3: the parametric loss fit), minimised under C = 6·N·D (eq. 4); Approaches 1 and 2 (a ≈ 0.50) give larger models'],
    };
  }
  const A = LLAMA3_PRINTED.coefficient;
  const tokensAt = (alpha: number) => A * computeFlops ** alpha;
  const tokens = tokensAt(LLAMA3_ALPHA);
  const alphas = [0.525, LLAMA3_PRINTED.alpha, 0.535, LLAMA3_ALPHA, 0.54, 0.545];
  return {
    law,
    computeFlops,
    paramsOptimal: computeFlops / (FLOPS_PER_PARAM_TOKEN * tokens),
    tokensOptimal: tokens,
    constants: { alpha: LLAMA3_ALPHA, coefficient: A, printedAlpha: LLAMA3_PRINTED.alpha },
    sensitivity: alphas.map((alpha) => ({ alpha, tokens: tokensAt(alpha), params: computeFlops / (FLOPS_PER_PARAM_TOKEN * tokensAt(alpha)) })),
    notes: [
      `Llama 3 §3.2.1: tokens N*(C) = A·C^α; the printed (α, A) = (0.53, 0.29) give ${(tokensAt(LLAMA3_PRINTED.alpha) / 1e12).toFixed(2)}T at this budget; α = ${LLAMA3_ALPHA.toFixed(4)} reproduces the paper's 16.55T at 3.8e25 and is used`,
      'parameters from C = 6·N·D; the paper’s 402B at 3.8e25 implies 5.71 FLOPs per parameter and token (6·N·D = 4.0e25)',
    ],
  };
}

/**
 * A dense Llama-3-style shape for a parameter count. Rule (from the Llama 3 family, [LLAMA3]
 * Table 3): head dimension 128, 8 key/value heads, SwiGLU FFN of 3.5 × hidden rounded to a
 * multiple of 1,024, hidden a multiple of 1,024 between 100 and 160 × layers (8B: 4,096/32 = 128;
 * 70B: 8,192/80 = 102; 405B: 16,384/126 = 130), vocabulary 128,256, untied embeddings, RoPE; the
 * (layers, hidden) whose parameters come closest to the target.
 */
export function llamaShape(paramsTarget: number, seqLen: number): Model {
  let best: Model | null = null;
  let bestErr = Infinity;
  for (let layers = 4; layers <= 512; layers++) {
    for (let k = Math.ceil((100 * layers) / 1024); k * 1024 <= 160 * layers; k++) {
      const hidden = k * 1024;
      const model: Model = {
        name: `llama-style-${layers}l-${hidden}h`,
        layers,
        hidden,
        ffnHidden: Math.round((3.5 * hidden) / 1024) * 1024,
        heads: hidden / 128,
        kvHeads: 8,
        vocab: 128256,
        seqLen,
        ffnType: 'swiglu',
        tiedEmbeddings: false,
        positionEmbedding: 'rope',
      } as Model;
      const err = Math.abs(countParams(resolveModel(model)).total - paramsTarget);
      if (err < bestErr) {
        best = model;
        bestErr = err;
      }
    }
  }
  return best!;
}
