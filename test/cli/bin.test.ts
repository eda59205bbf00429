/**
 * Smoke tests of the real binary (bin/clusterplan → the dist/ bundle that `npm test` builds
 * first): it prints what the in-process run prints, exits 2 on a usage error, and its worker
 * threads (dist/run/worker.js) give the same answer for any worker count.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cli } from './in-process.js';

const root = resolve(__dirname, '../..');
const bin = (args: string[]) => spawnSync(join(root, 'bin', 'clusterplan'), args, { cwd: root, encoding: 'utf8', timeout: 60_000 });

describe('bin/clusterplan', () => {
  it('is built (npm test runs npm run build first)', () => {
    expect(existsSync(join(root, 'dist', 'clusterplan.mjs')), 'dist/clusterplan.mjs is missing: run npm run build').toBe(true);
  });

  it('prints what the sources print, and exits 2 on a usage error', async () => {
    const r = bin(['evaluate', 'scenarios/tiny.yaml', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe((await cli(['evaluate', 'scenarios/tiny.yaml', '--json'])).stdout);
    const bad = bin(['evaluate', 'scenarios/tiny.yaml', '--bogus']);
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^error: Unknown argument: bogus\n/);
  });

  it('failures: the same JSON on 1 and 2 worker threads', () => {
    const w = (n: string) => bin(['failures', 'scenarios/llama3-405b.yaml', '--trials', '300', '--workers', n, '--json']);
    const one = w('1');
    expect(one.status, one.stderr).toBe(0);
    expect(w('2').stdout).toBe(one.stdout);
  });
});
