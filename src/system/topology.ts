/**
 * Where a parallel group sits on the cluster, with ranks laid out in the order [TP, CP, PP, DP]
 * (Llama 3 §3.3.2), and what bandwidth its collectives get on NVLink and on the fabric tiers.
 */
import type { Node, Fabric } from '../schema/system.js';

export interface GroupShape {
  /** Ranks in the group. */
  size: number;
  /** Distance between consecutive members in global rank order. */
  stride: number;
  /** How many groups of this kind run their collectives at the same time. */
  concurrentGroups: number;
}

export interface GroupPlacement {
  size: number;
  /** Members that share one node (1 when the stride is at least a node). */
  membersPerNode: number;
  /** Distinct nodes the group touches. */
  nodes: number;
  /** Index of the lowest fabric tier holding the whole group; -1 inside one node. */
  tier: number;
  tierName: string;
  /** Bandwidth factor (≤ 1) from oversubscribed tiers the group crosses. */
  oversubscriptionFactor: number;
}

/** GPUs under one switch group of each fabric tier. */
export function tierSizesGpus(fabric: Fabric, gpusPerNode: number): number[] {
  return fabric.tiers.map((t) => (t.gpus !== undefined ? t.gpus : (t.nodes as number) * gpusPerNode));
}

/** Places a group of `size` members spaced `stride` ranks apart on nodes and fabric tiers. */
export function placeGroup(shape: GroupShape, node: Node, fabric: Fabric): GroupPlacement {
  const g = node.gpusPerNode;
  const { size, stride } = shape;
  const spanGpus = stride * size;
  const membersPerNode = stride >= g ? 1 : Math.min(size, Math.floor(g / stride));
  const nodes = Math.ceil(size / membersPerNode);
  if (size === 1 || spanGpus <= g) {
    return { size, membersPerNode: size, nodes: 1, tier: -1, tierName: 'nvlink', oversubscriptionFactor: 1 };
  }
  const sizes = tierSizesGpus(fabric, g);
  let tier = sizes.findIndex((s) => s >= spanGpus);
  if (tier < 0) tier = sizes.length - 1;
  // A ring crossing tier k's units sends, per unit, one flow per NIC channel for every group with
  // members in that unit; the unit's uplinks carry 1/oversubscription of its downlink capacity.
  let factor = 1;
  // Tier k's oversubscription throttles traffic between the units of tier k-1 it connects.
  for (let k = 1; k <= tier; k++) {
    const oversub = fabric.tiers[k].oversubscription;
    if (oversub <= 1) continue;
    const unit = sizes[k - 1];
    const membersInUnit = Math.min(size, Math.max(1, Math.floor(unit / stride)));
    const groupsTouching = Math.min(shape.concurrentGroups, Math.max(1, Math.floor(unit / membersInUnit)));
    const demand = groupsTouching * Math.min(membersPerNode, node.nics.perNode);
    const capacity = ((unit / g) * node.nics.perNode) / oversub;
    factor = Math.min(factor, Math.min(1, capacity / demand));
  }
  return { size, membersPerNode, nodes, tier, tierName: fabric.tiers[tier].name, oversubscriptionFactor: factor };
}
