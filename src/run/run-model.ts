/** What one Monte Carlo trial of the run engine needs: plain numbers, structured-clone safe (sent to worker threads). */

/** One failure component after unit conversion: a job-level arrival process and its recovery. */
export interface ModelComponent {
  name: string;
  category: string;
  planned: boolean;
  /** Arrivals per second for this job (rate × GPUs, nodes or 1). */
  ratePerSecond: number;
  /** Weibull shape, or 1 for exponential. */
  shape: number;
  detectSeconds: number;
  /** Planned only: seconds between the stop and the restart. */
  downtimeSeconds: number;
  /** Nodes taken out of the job (0: nothing to replace). */
  nodesOut: number;
  repairSeconds: number;
  /** Recovery strategy (recovery.ts): restart after this fault instead of RunModel.restartSeconds. */
  restartSeconds?: number;
  /** The part of the restart spent restoring state (checkpoint load); default RunModel.restoreSeconds. */
  restoreSeconds?: number;
  /**
   * Where the job resumes: the last committed checkpoint (default), the last persistent one
   * (an in-memory copy lost with the domain), or the last finished step (elastic continue).
   */
  rollback?: 'checkpoint' | 'persistent' | 'step';
  /** Elastic continue: the nodes leave for repair without a spare (the job shrinks instead). */
  elastic?: boolean;
  /** Elastic continue: the throughput lost while shrunk, as seconds of outage equivalent (lost fraction × repair). */
  degradedSeconds?: number;
}

/** Everything a trial needs, as plain numbers (structured-clone safe, sent to worker threads). */
export interface RunModel {
  /** Work to do in seconds of uninterrupted training (steps × step time); Infinity in horizon mode. */
  workSeconds: number;
  /** Wall-clock window to simulate; Infinity in full-run mode. */
  horizonSeconds: number;
  /** Full-run mode gives up (trial marked unfinished, and the summary says so) at this wall-clock time. */
  maxWallSeconds: number;
  stepSeconds: number;
  /** Work between checkpoints (whole steps). */
  intervalSeconds: number;
  /** Time the job is paused per checkpoint: the blocking write, or the async snapshot. */
  pauseSeconds: number;
  /** Async only: the background write after the pause; the checkpoint commits when it ends. */
  backgroundSeconds: number;
  /** Blocking save taken before a planned stop. */
  stopCheckpointSeconds: number;
  /** Relaunch + communicator init + checkpoint load. */
  restartSeconds: number;
  /** The checkpoint load within restartSeconds (booked as restore badput; default 0). */
  restoreSeconds?: number;
  /** In-memory checkpoints: work between persistent checkpoints (a multiple of the interval); absent: every checkpoint is persistent. */
  persistentSeconds?: number;
  spareNodes: number;
  components: ModelComponent[];
}

/** A fault injected at a fixed time (tests and what-if replays) instead of the random processes. */
export interface ScriptedFault {
  timeSeconds: number;
  /** Index into RunModel.components. */
  component: number;
}

/** A stage's start in a programme: what the stage before left behind, in seconds from this stage's start. */
export interface StageStart {
  /** Pending arrival of each fault process (the merged exponential one, then each Weibull); absent: drawn afresh. */
  arrivals?: Float64Array;
  /** Nodes out for repair, as (seconds until back, nodes) pairs. */
  repairs: number[];
  /** The stage begins with a relaunch (a new layout or GPU count): a blocking save of this long, then this model's restart. */
  relaunchSaveSeconds?: number;
}
