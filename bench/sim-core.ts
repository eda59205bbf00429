/**
 * Synthetic load for the discrete-event core: PROCESSES concurrent "processes",
 * each rescheduling itself with a pseudo-random delay, until TOTAL events have
 * been handled. Measures the engine's schedule/pop loop (heap of ~PROCESSES entries).
 *
 * Run directly: npx tsx bench/sim-core.ts
 */

import { pathToFileURL } from 'node:url';
import { Simulation } from '../src/sim/index.js';

export interface BenchResult {
  name: string;
  eventsPerSecond: number;
  events: number;
  seconds: number;
}

interface Tick {
  kind: 'tick';
  pid: number;
}

/** Run the synthetic load once and report events per second (wall clock). */
export function benchSimCore(totalEvents: number = 5_000_000, processes: number = 1000): BenchResult {
  // xorshift32 inline: the bench measures the engine, not the RNG.
  let x = 0x9e3779b9 | 0;
  const nextDelay = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) + 1) * 2.3283064365386963e-10 * 1e-3; // (0, 1 ms]
  };

  let remaining = totalEvents - processes;
  const sim = new Simulation<Tick>((s, ev) => {
    if (remaining > 0) {
      remaining--;
      // Reuse the event object: each process has exactly one pending event.
      s.schedule(nextDelay(), ev, ev.pid & 3);
    }
  });
  for (let p = 0; p < processes; p++) sim.schedule(nextDelay(), { kind: 'tick', pid: p });

  const t0 = performance.now();
  const result = sim.run();
  const seconds = (performance.now() - t0) / 1000;
  return {
    name: `sim-core: ${processes} self-rescheduling processes`,
    eventsPerSecond: result.events / seconds,
    events: result.events,
    seconds,
  };
}

function main(): void {
  // A short warm-up so the JIT has optimised the hot loop before timing.
  benchSimCore(500_000);
  const r = benchSimCore();
  console.log(
    `${r.name}: ${r.events.toLocaleString('en-US')} events in ${r.seconds.toFixed(3)} s = ` +
      `${(r.eventsPerSecond / 1e6).toFixed(2)} M events/s`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
