/**
 * Runs the clusterplan command line inside the test process (src/cli/main.ts `run`): the same
 * parse, commands and rendering as bin/clusterplan, without a node start-up and a TypeScript
 * compile per call. Spawn the real binary only where the process itself is under test.
 */
(globalThis as Record<symbol, unknown>)[Symbol.for('clusterplan.inProcess')] = true;
const { run } = await import('../../src/cli/main.js');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** `clusterplan <args>` in this process, with its output and exit code. */
export async function cli(args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const status = await run(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { status, stdout, stderr };
}
