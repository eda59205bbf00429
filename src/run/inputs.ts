/** The failure engine's inputs as plain numbers (SI units), and their derivation from a resolved scenario. */
import { UserError } from '../errors.js';
import type { Scenario } from '../plan/resolve.js';
import type { FailureProfile } from '../schema/failures.js';
import { countParams } from '../model/params.js';
import type { ModelComponent } from './run-model.js';
import { pricePerGpuHour } from './totals.js';

/** How the job recovers from a fault (recovery.ts). */
export type RecoveryStrategy = 'checkpoint-restart' | 'hot-spare' | 'in-memory' | 'elastic';
export const RECOVERY_STRATEGIES: readonly RecoveryStrategy[] = ['checkpoint-restart', 'hot-spare', 'in-memory', 'elastic'];

/** Storage bandwidths in bytes per second. */
export interface StorageInputs {
  writeBytesPerSecond: number;
  /** Default: the write bandwidth. */
  readBytesPerSecond?: number;
  /** Per node limit, both directions; none when absent. */
  perNodeBytesPerSecond?: number;
}

/** Everything the failure engine needs, as plain numbers (SI units). */
export interface RunInputs {
  stepSeconds: number;
  tokensPerStep: number;
  totalTokens: number;
  gpus: number;
  nodes: number;
  gpusPerNode: number;
  spareNodes: number;
  /** Nodes under one lowest-tier switch (what a switch-scope fault takes out). */
  nodesPerSwitch: number;
  /** Bytes one checkpoint writes (weights and optimizer state, each shard once). */
  checkpointBytes: number;
  /** Bytes a restore reads (replicated weights are read by every replica). */
  checkpointReadBytes: number;
  checkpointAsync: boolean;
  /** The scenario's interval, if it gives one. */
  checkpointIntervalSeconds?: number;
  storage: StorageInputs;
  failures: FailureProfile;
  /** Data-parallel replicas (elastic continue drops whole replicas); default 1. */
  dp?: number;
  /** USD per GPU-hour, null when unset (costs then say "price not set"); default null. */
  pricePerGpuHour?: number | null;
  /** Spare nodes reserved for the whole run (held) or billed only while standing in (rented); default held. */
  spareBilling?: 'held' | 'rented';
  /** Default checkpoint-restart. */
  recovery?: RecoveryStrategy;
  /**
   * The node's scale-out bandwidth, one direction (NICs × rate, bytes per second): what a peer
   * restore (in-memory strategy) can draw from the network at most; absent: not known.
   */
  nodeNetworkBytesPerSecond?: number;
}

/** Job-level components: rates per second for this job, nodes each fault takes out. */
export function modelComponents(inputs: RunInputs): ModelComponent[] {
  const p = inputs.failures;
  return p.components.map((c) => {
    const exposure = c.per === 'gpu-hour' ? inputs.gpus : c.per === 'node-hour' ? inputs.nodes : 1;
    const domain = c.scope === 'switch' ? (c.nodesPerSwitch ?? inputs.nodesPerSwitch) : c.scope === 'rack' || c.scope === 'power' ? (c.nodesPerDomain as number) : 1;
    const nodesOut = !c.replaceNode ? 0 : Math.min(inputs.nodes, domain);
    return {
      name: c.name,
      category: c.category ?? (c.planned ? 'Planned' : 'Other'),
      planned: c.planned,
      ratePerSecond: (c.rate * exposure) / 3600,
      shape: c.distribution === 'weibull' ? (c.weibullShape as number) : 1,
      detectSeconds: c.detect,
      downtimeSeconds: c.downtime,
      nodesOut,
      repairSeconds: c.repair ?? p.recovery.repair,
    };
  });
}

/** Nodes under one lowest-tier switch of the fabric (what a switch fault takes out). */
export function nodesPerSwitch(sc: Scenario): number {
  const t = sc.fabric.tiers[0];
  const nodes = t.nodes ?? Math.floor((t.gpus ?? sc.node.gpusPerNode) / sc.node.gpusPerNode);
  return Math.max(1, Math.min(nodes, sc.cluster.nodes));
}

/** Derives the engine's inputs from a resolved scenario and its step time. */
export function runInputsFromScenario(sc: Scenario, evaluation: { step: { seconds: number; tokensPerStep: number } }): RunInputs {
  if (!sc.failures) throw new UserError('the scenario has no failure profile', sc.file, 'cluster.failures', 'add e.g. "failures: llama3-h100" under cluster, or --set cluster.failures=llama3-h100');
  const storage = sc.cluster.storage;
  if (!storage) throw new UserError('checkpoint times need the storage bandwidth', sc.file, 'cluster.storage.writeBandwidth', 'e.g. storage: {writeBandwidth: "2 TB/s"}');
  const params = countParams(sc.model).total;
  const bytesPerParam = sc.failures.checkpoint.bytesPerParam;
  // Each shard is written once (torch DCP de-duplicates replicas), but on restore every
  // data-parallel replica reads its copy of the bf16 weights unless ZeRO-3 shards them too.
  const weightBytes = Math.min(2, bytesPerParam);
  const replicas = sc.plan.zeroStage >= 3 ? 1 : sc.plan.dp;
  return {
    stepSeconds: evaluation.step.seconds,
    tokensPerStep: evaluation.step.tokensPerStep,
    totalTokens: sc.training.totalTokens,
    gpus: sc.cluster.gpus,
    nodes: sc.cluster.nodes,
    gpusPerNode: sc.node.gpusPerNode,
    spareNodes: sc.cluster.spareNodes,
    nodesPerSwitch: nodesPerSwitch(sc),
    checkpointBytes: params * bytesPerParam,
    checkpointReadBytes: params * (bytesPerParam - weightBytes + weightBytes * replicas),
    checkpointAsync: sc.training.checkpointAsync,
    checkpointIntervalSeconds: sc.training.checkpointInterval,
    storage: { writeBytesPerSecond: storage.writeBandwidth, readBytesPerSecond: storage.readBandwidth, perNodeBytesPerSecond: storage.perNodeBandwidth },
    failures: sc.failures,
    dp: sc.plan.dp,
    pricePerGpuHour: pricePerGpuHour(sc),
    spareBilling: sc.cluster.spareBilling,
    recovery: sc.cluster.recovery,
    nodeNetworkBytesPerSecond: sc.node.nics.perNode * sc.node.nics.rate,
  };
}
