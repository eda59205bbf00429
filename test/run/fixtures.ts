/** Shared test fixtures of the run engine: a component, a small run model, a failure profile and a 1,024-GPU job. */
import type { ModelComponent, RunModel } from '../../src/run/run-model.js';
import { FailureProfileSchema } from '../../src/schema/failures.js';
import type { RunInputs } from '../../src/run/inputs.js';

export const component = (over: Partial<ModelComponent>): ModelComponent => ({
  name: 'fault',
  category: 'Other',
  planned: false,
  ratePerSecond: 0,
  shape: 1,
  detectSeconds: 0,
  downtimeSeconds: 0,
  nodesOut: 0,
  repairSeconds: 0,
  ...over,
});

/** 10,000 s of work, a save every 1,000 s of work taking 50 s, restarts of 300 s. */
export const base = (over: Partial<RunModel> = {}): RunModel => ({
  workSeconds: 10_000,
  horizonSeconds: Infinity,
  maxWallSeconds: 1e9,
  stepSeconds: 10,
  intervalSeconds: 1000,
  pauseSeconds: 50,
  backgroundSeconds: 0,
  stopCheckpointSeconds: 50,
  restartSeconds: 300,
  spareNodes: 1,
  components: [
    component({ name: 'gpu', detectSeconds: 100, nodesOut: 1, repairSeconds: 5000 }),
    component({ name: 'software', detectSeconds: 100 }),
    component({ name: 'maintenance', planned: true, downtimeSeconds: 600 }),
  ],
  ...over,
});

export const profile = (components: unknown[], extra: Record<string, unknown> = {}) =>
  FailureProfileSchema.parse({ name: 'test', components, recovery: { relaunch: '60 s', init: '120 s', referenceGpus: 1024, initExponent: 0.5, repair: '1 day' }, checkpoint: { saveOverhead: '5 s', asyncSnapshotBandwidth: '20 GB/s' }, ...extra });

/** A 1,024-GPU job: 2 s steps of 4M tokens, 2T tokens (~11.6 days ideal), 1 TB checkpoints at 100 GB/s. */
export const inputs = (over: Partial<RunInputs> = {}): RunInputs => ({
  stepSeconds: 2,
  tokensPerStep: 4_194_304,
  totalTokens: 2e12,
  gpus: 1024,
  nodes: 128,
  gpusPerNode: 8,
  spareNodes: 4,
  nodesPerSwitch: 2,
  checkpointBytes: 1e12,
  checkpointReadBytes: 2e12,
  checkpointAsync: false,
  storage: { writeBytesPerSecond: 100e9 },
  failures: profile([
    { name: 'GPU', category: 'GPU', rate: 2e-5, per: 'gpu-hour', scope: 'gpu', detect: '1 min', replaceNode: true },
    { name: 'Switch', category: 'Network', rate: 1e-4, per: 'node-hour', scope: 'switch', detect: '10 min', replaceNode: true, repair: '4 h' },
    { name: 'Software', rate: 0.02, per: 'job-hour', scope: 'job', detect: '1 min' },
    { name: 'Maintenance', rate: 0.01, per: 'job-hour', scope: 'job', planned: true, downtime: '10 min' },
  ]),
  ...over,
});

