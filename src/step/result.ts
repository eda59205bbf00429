/** What a step engine returns: the step time and where it went. Both engines (analytic.ts, des.ts) produce it. */

export interface StepBreakdown {
  /** Compute on the slowest stage: forward, backward, recompute, per step. */
  computeSeconds: number;
  /** Communication left on the critical path, all kinds. */
  exposedCommunicationSeconds: number;
  /** Pipeline fill and drain (idle time of the slowest stage). */
  bubbleSeconds: number;
  optimizerSeconds: number;
  /** Exposed communication by parallel dimension. */
  tpSeconds: number;
  cpSeconds: number;
  epSeconds: number;
  ppSeconds: number;
  dpSeconds: number;
}

export interface StepResult {
  stepSeconds: number;
  breakdown: StepBreakdown;
  /** Bubble as a fraction of the step. */
  bubbleFraction: number;
  engine: 'analytic' | 'des';
}
