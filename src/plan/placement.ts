/**
 * Rank placement of every parallel group: global ranks are laid out in the order [TP, CP, PP, DP]
 * (Llama 3 §3.3.2), so a group's stride is the product of the degrees before it, and
 * system/topology.ts turns (size, stride) into nodes and fabric tiers.
 */
import type { Node, Fabric } from '../schema/system.js';
import { placeGroup, type GroupPlacement } from '../system/topology.js';
import type { ParallelLayout } from './layout.js';

export interface GroupPlacements {
  tp: GroupPlacement;
  cp: GroupPlacement;
  pp: GroupPlacement;
  /** The dense gradient group, dp·cp ranks. */
  dp: GroupPlacement;
  ep: GroupPlacement;
  /** The expert-data-parallel group of the routed experts' gradients. */
  expertDp: GroupPlacement;
}

/** Places the layout's groups on a cluster of `gpus` GPUs of `node` on `fabric`. */
export function placeGroups(layout: Pick<ParallelLayout, 'tp' | 'cp' | 'pp' | 'dp' | 'ep' | 'etp' | 'expertDp'>, gpus: number, node: Node, fabric: Fabric): GroupPlacements {
  const { tp, cp, pp, dp, ep, etp, expertDp } = layout;
  const cpPlacement = placeGroup({ size: cp, stride: tp, concurrentGroups: gpus / cp }, node, fabric);
  // Gradients are reduced over DP·CP (CP ranks hold the same weights); the group's widest
  // spread is the DP stride, and CP ranks next to each other share a node.
  const dpOnly = placeGroup({ size: dp, stride: tp * cp * pp, concurrentGroups: gpus / dp }, node, fabric);
  const dpMembersPerNode = dpOnly.membersPerNode * cpPlacement.membersPerNode;
  return {
    tp: placeGroup({ size: tp, stride: 1, concurrentGroups: gpus / tp }, node, fabric),
    cp: cpPlacement,
    pp: placeGroup({ size: pp, stride: tp * cp, concurrentGroups: gpus / pp }, node, fabric),
    dp: cp === 1 ? dpOnly : { ...dpOnly, size: dp * cp, membersPerNode: dpMembersPerNode, nodes: Math.ceil((dp * cp) / dpMembersPerNode) },
    ep: placeGroup({ size: ep, stride: etp, concurrentGroups: gpus / ep }, node, fabric),
    // (assumption) expert-DP ranks are spread evenly over one pipeline stage's GPUs.
    expertDp: placeGroup({ size: expertDp, stride: Math.max(1, gpus / expertDp / pp), concurrentGroups: gpus / expertDp }, node, fabric),
  };
}
