/**
 * Collective cost on a placed group: alpha-beta with measured bus-bandwidth factors
 * (nccl-tests PERFORMANCE.md: t = S·f / busbw, f = (n-1)/n for all-gather / reduce-scatter,
 * 2(n-1)/n for all-reduce). Inside a node the NVLink busbw applies; across nodes each member's
 * share of the node's NICs, scaled by any oversubscribed tier the group crosses.
 */
import type { Node } from '../schema/system.js';
import type { GroupPlacement } from './topology.js';

export type CollectiveKind = 'all-reduce' | 'all-gather' | 'reduce-scatter' | 'all-to-all';

/** Per-GPU NIC bandwidth in bytes/s, one direction (NICs per node shared by its GPUs). */
export function nicBytesPerSecondPerGpu(node: Node): number {
  return (node.nics.perNode * node.nics.rate) / node.gpusPerNode;
}

/** Bus bandwidth (bytes/s) a collective of this kind gets on the group's slowest hop. */
export function busBandwidth(node: Node, p: GroupPlacement, kind: CollectiveKind): number {
  const nvlinkFraction = kind === 'all-reduce' && p.membersPerNode > 4 ? node.nvlink.allReduceBusBwFraction : node.nvlink.ringBusBwFraction;
  const nvlink = node.nvlink.bandwidth * nvlinkFraction;
  if (p.nodes <= 1) return nvlink;
  const nicPerGpu = nicBytesPerSecondPerGpu(node) * node.nics.busBwFraction * p.oversubscriptionFactor;
  // All-to-all cannot aggregate a node's NICs: each GPU gets its own NIC share (NCCL issue #267),
  // with N/(N-1) of the traffic staying inside the node.
  if (kind === 'all-to-all') return nicPerGpu;
  // Rings through g members per node use g NIC channels in parallel, at most the NVLink rate.
  return Math.min(nvlink, nicPerGpu * p.membersPerNode);
}

/** Seconds for one collective over `bytes` (the full buffer, S in nccl-tests terms). */
export function collectiveSeconds(node: Node, p: GroupPlacement, kind: CollectiveKind, bytes: number): number {
  const n = p.size;
  if (n <= 1 || bytes <= 0) return 0;
  const factor = kind === 'all-reduce' ? (2 * (n - 1)) / n : (n - 1) / n;
  let traffic = bytes * factor;
  if (kind === 'all-to-all' && p.nodes > 1) {
    // Only the share leaving the node crosses the NIC; the rest goes over NVLink in parallel.
    traffic = bytes * ((n - p.membersPerNode) / n);
  }
  const steps = kind === 'all-reduce' ? 2 * (n - 1) : n - 1;
  const latency = p.nodes <= 1 ? node.nvlink.latency : node.nvlink.latency + steps * node.nics.latency;
  return latency + traffic / busBandwidth(node, p, kind);
}

/** Seconds for a point-to-point send of `bytes` between neighbouring pipeline stages. */
export function p2pSeconds(node: Node, sameNode: boolean, bytes: number): number {
  if (bytes <= 0) return 0;
  if (sameNode) return node.nvlink.latency + bytes / (node.nvlink.bandwidth * node.nvlink.ringBusBwFraction);
  return node.nics.latency + bytes / (nicBytesPerSecondPerGpu(node) * node.nics.busBwFraction);
}
