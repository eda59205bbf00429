/**
 * bin/clusterplan's choice between the start-up snapshot and the bundle (its sh part; see the
 * comment at its top). Each case runs a copy of the launcher in a scratch package whose
 * "snapshot" is a tiny one built here that prints `snapshot <args>`, and whose bundle entry
 * prints `bundle <args>`: the output says which one the launcher started. The snapshot must be
 * used when everything matches, and never when anything is stale or foreign (node would refuse
 * a snapshot of another binary or under other V8 flags, exiting 14).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(__dirname, '../..');
let scratch: string;
let root: string;
let tinyBlob: string;
/** This processor as the build wrote it (the third line of the real dist/snapshot.txt). */
const cpu = () => readFileSync(join(repo, 'dist', 'snapshot.txt'), 'utf8').split('\n')[2];

/** The scratch package's files with their times: bundle, then stamp, then snapshot, each later. */
function layout(options: { info?: string | null; blob?: boolean; srcTime?: number } = {}): void {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'dist'));
  mkdirSync(join(root, 'src', 'cli'), { recursive: true });
  copyFileSync(join(repo, 'bin', 'clusterplan'), join(root, 'bin', 'clusterplan'));
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  writeFileSync(join(root, 'dist', 'clusterplan.cjs'), '');
  writeFileSync(join(root, 'dist', 'clusterplan.mjs'), "console.log('bundle ' + process.argv.slice(2).join(' '));\n");
  writeFileSync(join(root, 'src', 'cli', 'main.ts'), "console.log('source ' + process.argv.slice(2).join(' '));\n");
  writeFileSync(join(root, 'dist', '.build-stamp'), '');
  if (options.blob !== false) copyFileSync(tinyBlob, join(root, 'dist', 'clusterplan.blob'));
  const info = options.info === undefined ? `${process.execPath}\n${realpathSync(root)}\n${cpu()}\n` : options.info;
  if (info !== null) writeFileSync(join(root, 'dist', 'snapshot.txt'), info);
  const t0 = Date.now() / 1000;
  const at = (file: string, t: number) => existsSync(join(root, file)) && utimesSync(join(root, file), t, t);
  at('src/cli/main.ts', options.srcTime ?? t0);
  at('src/cli', options.srcTime ?? t0);
  at('dist/clusterplan.cjs', t0 + 1);
  at('dist/.build-stamp', t0 + 2);
  at('dist/clusterplan.blob', t0 + 3);
}

/** Runs the scratch launcher (as a program, so its sh part decides); returns what it printed. */
function launch(env: Record<string, string> = {}, via = join(root, 'bin', 'clusterplan')): string {
  const r = spawnSync(via, ['evaluate', '--json'], { cwd: scratch, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', ...env }, timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

beforeAll(() => {
  scratch = realpathSync(mkdtempSync(join(tmpdir(), 'clusterplan-launcher-')));
  root = join(scratch, 'pkg');
  const entry = join(scratch, 'tiny-snapshot.cjs');
  writeFileSync(entry, "require('node:v8').startupSnapshot.setDeserializeMainFunction(() => console.log('snapshot ' + process.argv.slice(1).join(' ')));\n");
  tinyBlob = join(scratch, 'tiny.blob');
  const made = spawnSync(process.execPath, ['--snapshot-blob', tinyBlob, '--build-snapshot', entry], { encoding: 'utf8' });
  expect(made.status, made.stderr).toBe(0);
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('bin/clusterplan launcher', () => {
  it('starts from the snapshot when node, package root, bundle and sources all match, also through a link', () => {
    layout();
    expect(launch()).toBe('snapshot evaluate --json');
    // npm links bin/clusterplan from node_modules/.bin: the package is found through the link.
    mkdirSync(join(scratch, 'links'), { recursive: true });
    const link = join(scratch, 'links', 'clusterplan');
    rmSync(link, { force: true });
    symlinkSync(join(root, 'bin', 'clusterplan'), link);
    expect(launch({}, link)).toBe('snapshot evaluate --json');
  });

  it('runs the bundle when the snapshot is missing, older than the bundle, or undescribed', () => {
    layout({ blob: false });
    expect(launch()).toBe('bundle evaluate --json');
    layout();
    const t = Date.now() / 1000 + 10;
    utimesSync(join(root, 'dist', 'clusterplan.cjs'), t, t);
    expect(launch()).toBe('bundle evaluate --json');
    layout({ info: null });
    expect(launch()).toBe('bundle evaluate --json');
  });

  it('runs the bundle when the snapshot was made by another node, for another package root or on another processor', () => {
    layout({ info: `/nonexistent/bin/node\n${realpathSync(root)}\n${cpu()}\n` });
    expect(launch()).toBe('bundle evaluate --json');
    layout({ info: `${process.execPath}\n/somewhere/else\n${cpu()}\n` });
    expect(launch()).toBe('bundle evaluate --json');
    layout({ info: `${process.execPath}\n${realpathSync(root)}\n|flags\t\t: fpu\n` });
    expect(launch()).toBe('bundle evaluate --json');
  });

  it('runs the bundle under NODE_OPTIONS (V8 flags there would make node refuse the snapshot)', () => {
    layout();
    expect(launch({ NODE_OPTIONS: '--max-old-space-size=4096' })).toBe('bundle evaluate --json');
  });

  it('runs the TypeScript sources when a source file is newer than the build', () => {
    layout({ srcTime: Date.now() / 1000 + 60 });
    expect(launch()).toBe('source evaluate --json');
  });

  it('the build made a snapshot of this package for this node, and the CLI started from it takes options before the command', () => {
    const info = readFileSync(join(repo, 'dist', 'snapshot.txt'), 'utf8').split('\n');
    expect(info.slice(0, 2)).toEqual([process.execPath, realpathSync(repo)]);
    if (existsSync('/proc/cpuinfo')) expect(info[2]).toMatch(/^\|.*\|flags/);
    // Options before the command must reach the CLI, not node (the launcher ends node's options with --).
    const r = spawnSync(join(repo, 'bin', 'clusterplan'), ['--help'], { cwd: repo, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^clusterplan <command> \[options\]/);
  });
});
