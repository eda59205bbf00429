/** Plans for the screen's tests: the tiny scenario evaluated for real (milliseconds), three ways. */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { planRequests, parseVary } from '../../src/cli/compare.js';
import { runRequest } from '../../src/cli/compare-eval.js';
import type { ComparePlan } from '../../src/report/compare.js';

const failures = ['cluster.failures=llama3-h100', 'cluster.storage.writeBandwidth=2 TB/s'];

/** Evaluates plan requests in order, as the plain output path does. */
function evaluateAll(files: string[], sets: string[], vary: string[], idBase: number): ComparePlan[] {
  const { plans, requests } = planRequests(files, sets, parseVary(vary), { trials: 20 });
  return plans.map((p, i) => {
    let plan: ComparePlan = { ...p, id: p.id + idBase };
    runRequest(requests[i], (r) => {
      if (r.type === 'step') plan = { ...plan, evaluation: r.evaluation, step: r.step };
      else if (r.type === 'failures') plan = { ...plan, evaluation: { ...plan.evaluation!, ...(r.failures ? { failures: r.failures } : {}) }, failures: r.failures ? 'done' : 'none' };
    });
    return plan;
  });
}

/**
 * tiny tp=2 (as given), tiny tp=1 (higher MFU: no TP communication), and tiny on a 2 GiB GPU
 * (does not fit), all with a failure profile so the Monte Carlo columns fill in.
 */
export function tinyPlans(): ComparePlan[] {
  const two = evaluateAll(['scenarios/tiny.yaml'], failures, ['tp=2,1'], 0);
  const small = evaluateAll(['scenarios/tiny.yaml'], [...failures, 'cluster.gpu.hbm.capacity=2 GiB'], [], 2).map((p) => ({ ...p, name: 'tiny small-hbm' }));
  return [...two, ...small];
}

export interface Piped {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs bin/clusterplan with stdout and stderr piped (not a terminal). */
export function runPiped(args: string[]): Promise<Piped> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['bin/clusterplan', ...args], { cwd: resolve(__dirname, '../..') });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}
