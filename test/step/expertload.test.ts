/**
 * Expert load imbalance (plan.moeRouting): the busiest expert-parallel rank's routed GEMMs and
 * all-to-all grow with the imbalance, capacity routing caps them, imbalance 1 changes nothing,
 * EP 1 does the dense-equivalent work whatever the skew, and an all-to-all across nodes is slower
 * than inside a node by the ratio of the bandwidths.
 */
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { loadScenario, packageRoot } from '../../src/io/load.js';
import { stepCosts } from '../../src/step/costs.js';
import { planLayout } from '../../src/plan/layout.js';
import { busBandwidth, collectiveSeconds } from '../../src/system/collectives.js';
import type { GroupPlacement } from '../../src/system/topology.js';
import type { Scenario } from '../../src/plan/resolve.js';

const ds = loadScenario(join(packageRoot, 'scenarios', 'deepseek-v3.yaml'));
const withRouting = (sc: Scenario, moeRouting: Scenario['plan']['moeRouting'], patch: Partial<Scenario['plan']> = {}): Scenario => ({ ...sc, plan: { ...sc.plan, ...patch, moeRouting } });
const moeLayer = (sc: Scenario) => stepCosts(sc).stages.flatMap((s) => s.layers).find((l) => l.moe)!;

describe('expert load imbalance', () => {
  it('imbalance 1.0 changes nothing', () => {
    expect(ds.plan.moeRouting).toEqual({ imbalance: 1 });
    expect(stepCosts(withRouting(ds, { imbalance: 1 }))).toEqual(stepCosts(ds));
    // A capacity factor above the load drops nothing.
    expect(stepCosts(withRouting(ds, { imbalance: 1, capacityFactor: 1.25 }))).toEqual(stepCosts(ds));
  });

  it('a skew slows the busiest rank’s all-to-all by the skew, and capacity routing caps it', () => {
    const base = moeLayer(ds);
    const skewed = moeLayer(withRouting(ds, { imbalance: 1.5 }));
    expect(skewed.forwardSeconds).toBeGreaterThan(base.forwardSeconds);
    // The all-to-all is bandwidth-bound at these sizes: latency + 1.5 × traffic time.
    const lat = (l: typeof base) => l.epForwardCommSeconds;
    expect(lat(skewed)).toBeGreaterThan(1.4 * lat(base));
    expect(lat(skewed)).toBeLessThan(1.5 * lat(base));
    // Capacity 1.25 with token dropping: the busiest rank handles at most 1.25 × the mean.
    expect(moeLayer(withRouting(ds, { imbalance: 1.5, capacityFactor: 1.25 }))).toEqual(moeLayer(withRouting(ds, { imbalance: 1.25 })));
    expect(planLayout(ds.model, withRouting(ds, { imbalance: 3, capacityFactor: 1.25 }).plan).expertLoad).toBe(1.25);
  });

  it('EP 1: one rank holds every expert, so the skew does not change its (dense-equivalent) work', () => {
    const ep1 = { ...ds.plan, ep: 1, etp: ds.plan.tp };
    expect(planLayout(ds.model, { ...ep1, moeRouting: { imbalance: 4 } }).expertLoad).toBe(1);
    expect(planLayout(ds.model, { ...ds.plan, moeRouting: { imbalance: 4 } }).expertLoad).toBe(4);
  });

  it('an all-to-all across nodes is slower than inside a node by the ratio of the bandwidths', () => {
    const node = { ...ds.node, nvlink: { ...ds.node.nvlink, latency: 0 }, nics: { ...ds.node.nics, latency: 0 } };
    const n = node.gpusPerNode;
    const inside: GroupPlacement = { size: n, membersPerNode: n, nodes: 1, tier: -1, tierName: 'node', oversubscriptionFactor: 1 };
    // One member per node: every byte that leaves a GPU crosses the NIC.
    const across: GroupPlacement = { size: n, membersPerNode: 1, nodes: n, tier: 0, tierName: 'leaf', oversubscriptionFactor: 1 };
    const bytes = 1 << 28;
    const ratio = collectiveSeconds(node, across, 'all-to-all', bytes) / collectiveSeconds(node, inside, 'all-to-all', bytes);
    expect(ratio).toBeCloseTo(busBandwidth(node, inside, 'all-to-all') / busBandwidth(node, across, 'all-to-all'), 12);
    expect(ratio).toBeGreaterThan(1);
  });
});
