import { describe, it, expect } from 'vitest';
import { loadScenario } from '../../src/io/load.js';
import { estimateMemory } from '../../src/plan/memory.js';

describe('bundled scenarios that ran fit in memory', () => {
  it('DeepSeek-V3 on 2,048 H800 (DualPipe, FP8 activation caching and BF16 moments as the report §3.2-3.3 describes) fits in 79.2 GiB on every rank', () => {
    const s = loadScenario('scenarios/deepseek-v3-h800.yaml');
    const m = estimateMemory(s.model, s.plan, s.gpu);
    for (const b of m.perStageBytes) expect(b).toBeLessThanOrEqual(m.capacityBytes);
    // without the report's low-precision storage it would not
    const plain = estimateMemory(s.model, { ...s.plan, fp8ActivationCache: false, optimizerMoments: 'fp32' }, s.gpu);
    expect(plain.perGpuBytes).toBeGreaterThan(m.capacityBytes);
  });
});
