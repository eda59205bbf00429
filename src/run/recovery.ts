/**
 * Recovery strategies: how the job comes back from a fault, as changes to the engine's model.
 * Every strategy keeps the same fault processes (so a comparison uses common random numbers);
 * only what a fault costs changes. Sources and guesses are listed in the README's "Recovery
 * strategies" table; the profile's recovery block holds the numbers.
 *
 * - checkpoint-restart (today): tear down, relaunch, re-initialise communicators, load the last
 *   committed checkpoint from storage (Llama 3 §3.3.4; MegaScale §4).
 * - hot-spare: a standby node is remapped into the running job: no relaunch or communicator
 *   re-init, `hotSpareSwap` instead; the state is still loaded from the last checkpoint. Faults that
 *   take no node (software) still restart in full.
 * - in-memory: Gemini (Wang et al., SOSP'23): checkpoints to CPU memory (own and a peer's copy)
 *   every `inMemoryEverySteps` steps with `inMemoryPause` each; a fault restores from a peer at
 *   peerRestoreRate per node (the profile's `peerRestoreBandwidth`, or what the node's hardware
 *   allows). Persistent checkpoints stay at the chosen interval and are
 *   written from host memory behind training. A fault taking more than one node at once (switch,
 *   rack, power domain) may take a node and its peer: the job falls back to the last persistent
 *   checkpoint and a storage load (assumption: peers are placed within a domain).
 * - elastic: Oobleck (SOSP'23), Bamboo (NSDI'23), ReCycle: the failed data-parallel replica is
 *   dropped, the survivors regroup in `elasticReconfigure` and carry on at a smaller batch until
 *   the nodes are back from repair; only the step in flight is lost. Running shrunk is booked as
 *   its equivalent outage, (replicas lost / dp) × repair, exact in expectation when repairs do not
 *   straddle the end of the run. No spare nodes are used. A fault that takes every replica, or
 *   none (software), restarts from the checkpoint as today.
 */
import type { RunModel, ModelComponent } from './run-model.js';
import type { RunInputs, RecoveryStrategy } from './inputs.js';
import type { CheckpointCosts, RestartCosts } from './checkpoint.js';

/** What a strategy needs besides the model: the job's shape and today's checkpoint and restart costs. */
export interface RecoveryContext {
  inputs: RunInputs;
  ckpt: CheckpointCosts;
  restart: RestartCosts;
}

/** Replicas of `dp` that `nodesOut` nodes hold (whole nodes per replica, a domain aligned with replicas). */
export function replicasLost(nodesOut: number, inputs: Pick<RunInputs, 'gpus' | 'gpusPerNode' | 'dp'>): number {
  const dp = inputs.dp ?? 1;
  const gpusPerReplica = inputs.gpus / dp;
  return Math.min(dp, Math.ceil((nodesOut * inputs.gpusPerNode) / gpusPerReplica - 1e-9));
}

/**
 * Bytes per second a node restores its shard at from a peer's CPU memory. Gemini (SOSP'23)
 * retrieves the copy over the training network and loads it host to device, so unless the
 * failure profile measured it (`peerRestoreBandwidth`), it is derived from the hardware: the
 * smaller of the node's NICs (nodeNetworkBytesPerSecond, from the node profile) and its GPUs'
 * host-to-device copies (gpusPerNode × the profile's `asyncSnapshotBandwidth`, the same PCIe path
 * a snapshot takes). Neither known: 50 GB/s, one 400 Gb/s NIC (a guess, the floor of a current
 * training node's network).
 */
export function peerRestoreRate(inputs: Pick<RunInputs, 'failures' | 'gpusPerNode' | 'nodeNetworkBytesPerSecond'>): number {
  const set = inputs.failures.recovery.peerRestoreBandwidth;
  if (set !== undefined) return set;
  const snapshot = inputs.failures.checkpoint.asyncSnapshotBandwidth;
  const bounds = [inputs.nodeNetworkBytesPerSecond, snapshot === undefined ? undefined : snapshot * inputs.gpusPerNode].filter((x): x is number => x !== undefined && x > 0);
  return bounds.length > 0 ? Math.min(...bounds) : PEER_RESTORE_FALLBACK;
}

/** The guess when neither the node's network nor its host-to-device rate is known: one 400 Gb/s NIC. */
export const PEER_RESTORE_FALLBACK = 50e9;

/** The model a strategy runs: `model` is today's (checkpoint-restart) at the chosen interval. */
export function applyRecovery(model: RunModel, strategy: RecoveryStrategy, ctx: RecoveryContext): RunModel {
  const rec = ctx.inputs.failures.recovery;
  const unexpectedWithNodes = (c: ModelComponent) => !c.planned && c.nodesOut > 0;
  switch (strategy) {
    case 'checkpoint-restart':
      return model;
    case 'hot-spare':
      return {
        ...model,
        components: model.components.map((c) => (unexpectedWithNodes(c) ? { ...c, restartSeconds: rec.hotSpareSwap + ctx.ckpt.loadSeconds, restoreSeconds: ctx.ckpt.loadSeconds } : c)),
      };
    case 'in-memory': {
      const peerSeconds = ctx.ckpt.bytes / ctx.inputs.nodes / peerRestoreRate(ctx.inputs);
      const fromPeer = ctx.restart.relaunchSeconds + ctx.restart.initSeconds + peerSeconds;
      const every = Math.max(1, Math.min(rec.inMemoryEverySteps, Math.round(model.intervalSeconds / model.stepSeconds)));
      return {
        ...model,
        intervalSeconds: every * model.stepSeconds,
        pauseSeconds: rec.inMemoryPause,
        backgroundSeconds: 0,
        persistentSeconds: model.intervalSeconds,
        components: model.components.map((c) =>
          c.planned ? c : c.nodesOut > 1 ? { ...c, rollback: 'persistent' as const } : { ...c, restartSeconds: fromPeer, restoreSeconds: peerSeconds },
        ),
      };
    }
    case 'elastic': {
      const dp = ctx.inputs.dp ?? 1;
      return {
        ...model,
        components: model.components.map((c) => {
          if (!unexpectedWithNodes(c)) return c;
          const lost = replicasLost(c.nodesOut, ctx.inputs);
          if (lost >= dp) return c;
          return { ...c, elastic: true, rollback: 'step' as const, restartSeconds: rec.elasticReconfigure, restoreSeconds: 0, degradedSeconds: (lost / dp) * c.repairSeconds };
        }),
      };
    }
  }
}
