/**
 * One outage of a run-engine trial (engine.ts, the RECOVER phase) as a timeline: detection or
 * maintenance until `readyTime`, waiting for repaired nodes until `restartStart` when the spare
 * pool is short, then the restart (start-up, then the restore) and, elastic only, the running
 * shrunk it owes, until `restartEnd`. A fault during an outage re-plans it; `book` writes the time
 * spent in each part into the trial row.
 */
import { TrialField as F } from './trial-row.js';

export class Outage {
  /** When detection (or maintenance) ends and the restart can begin. */
  readyTime = 0;
  /** When the restart begins (after readyTime if the pool had to wait for repairs). */
  restartStart = 0;
  /** The row bucket of the time before readyTime (detection or maintenance). */
  downBucket: number = F.detect;
  /** When the restart, and the shrunk running after it, are done. */
  restartEnd = 0;
  /** The restart this outage needs (seconds), its restore part and, elastic, the shrunk-running equivalent after it. */
  private restart = 0;
  private restore = 0;
  private degraded = 0;

  /**
   * Plans the outage from `now`: down until `ready` (booked to `bucket`), restart no earlier than
   * `poolReady` (when the nodes out for repair fit in the spare pool). `stillDown`: a fault hit
   * the outage itself, so the larger restart stands and shrunk running still owed carries over.
   */
  plan(now: number, stillDown: boolean, ready: number, bucket: number, restart: number, restore: number, degraded: number, poolReady: number): void {
    if (stillDown) {
      if (this.restart > restart) [restart, restore] = [this.restart, this.restore];
      degraded += this.degraded - Math.min(this.degraded, Math.max(0, now - (this.restartEnd - this.degraded)));
    }
    this.restart = restart;
    this.restore = restore;
    this.degraded = degraded;
    this.readyTime = ready;
    this.downBucket = bucket;
    this.restartStart = Math.max(ready, poolReady);
    this.restartEnd = this.restartStart + restart + degraded;
  }

  /** Books the outage's time from `start` to `now` into the row at `b`: detection or maintenance, waiting, restart, restore, shrunk running. */
  book(r: Float64Array, b: number, start: number, now: number): void {
    const ready = Math.min(Math.max(this.readyTime, start), now);
    const restart = Math.min(Math.max(this.restartStart, ready), now);
    r[b + this.downBucket] += ready - start;
    r[b + F.wait] += restart - ready;
    const restarted = Math.min(now, restart + this.restart);
    r[b + F.restart] += restarted - restart;
    r[b + F.restore] += Math.max(0, restarted - (restart + this.restart - this.restore));
    r[b + F.degraded] += now - restarted;
    if (restart > ready) r[b + F.waitEpisodes]++;
  }
}
