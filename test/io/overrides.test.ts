import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { loadScenario, packageRoot } from '../../src/io/load.js';
import { UserError } from '../../src/errors.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

const file = join(packageRoot, 'scenarios', 'llama3-70b.yaml');

describe('--set through profiles named by reference', () => {
  it('overrides a field of the referenced model for this run only', () => {
    const base = loadScenario(file);
    const sc = loadScenario(file, { sets: ['model.mtpLayers=2'] });
    expect(base.model.mtpLayers).toBe(0);
    expect(sc.model.mtpLayers).toBe(2);
    expect(sc.model.hidden).toBe(base.model.hidden);
    expect(loadScenario(file).model.mtpLayers).toBe(0);
  });
  it('overrides GPU, and a node left to the GPU profile default', () => {
    const sc = loadScenario(file, { sets: ['cluster.gpu.hbm.capacity=96 GiB', 'cluster.node.nvlink.bandwidth=900 GB/s'] });
    expect(sc.gpu.hbm.capacity).toBe(96 * 2 ** 30);
    expect(sc.node.nvlink.bandwidth).toBe(900e9);
    expect(sc.gpu.name).toBe('h100-sxm-80gb');
  });
  it('copies the node the GPU profile names by default when the scenario gives none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-'));
    const f = join(dir, 's.yaml');
    writeFileSync(f, readFileSync(file, 'utf8').replace(/^  node: .*$/m, '').replace(/^  fabric: .*$/m, ''));
    const sc = loadScenario(f, { sets: ['cluster.node.nvlink.bandwidth=900 GB/s'] });
    expect(sc.node.nvlink.bandwidth).toBe(900e9);
    expect(sc.node.gpusPerNode).toBe(8);
  });
  it('reports a bad value against the scenario field path', () => {
    try {
      loadScenario(file, { sets: ['model.mtpLayers=-1'] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      expect(String((e as Error).message) + JSON.stringify(e)).toContain('mtpLayers');
    }
  });
});
