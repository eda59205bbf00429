import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 60_000,
    // Worker threads instead of forked processes: no process start per file; no test changes the
    // working directory or exits the process (the in-process CLI harness restores what it redirects).
    pool: 'threads',
    // One module graph per worker, shared by the files it runs: importing src/ again for each of the
    // 50 files was 36 s of an 88 s suite on two cores (now 45-50 s). It is safe because the core is
    // pure (no module state a test can change: no vi.mock, stubGlobal, stubEnv, spyOn or chdir in
    // test/), and the suite passes with files and tests shuffled (--sequence.shuffle, seeds 1 and 2).
    isolate: false,
  },
});
