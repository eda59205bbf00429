/**
 * Bad input (issue 2, item 8): every class of mistake gets one clear UserError naming the file,
 * the field path and the reason, and the CLI prints it as one `error:` line with exit code 2 and
 * no stack trace. Scenario files are written into a temporary directory: scenarios/tiny.yaml with
 * one thing broken.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadScenario, packageRoot } from '../../src/io/load.js';
import { UserError } from '../../src/errors.js';
import { cli as runCli } from '../cli/in-process.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

let dir: string;
const tinyText = readFileSync(join(packageRoot, 'scenarios', 'tiny.yaml'), 'utf8');
const tinyModel = (): Doc => parseYaml(readFileSync(join(packageRoot, 'models', 'tiny.yaml'), 'utf8'));
const h100 = (): Doc => parseYaml(readFileSync(join(packageRoot, 'hardware-profiles', 'gpus', 'h100-sxm-80gb.yaml'), 'utf8'));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'clusterplan-bad-input-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes raw text as a scenario file in the temp dir and returns its path. */
function writeText(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Writes tiny.yaml with one change applied to its parsed form. */
function writeTiny(name: string, change: (s: Doc) => void): string {
  const s = parseYaml(tinyText) as Doc;
  change(s);
  return writeText(name, stringifyYaml(s));
}

/** Loads a scenario that must fail and returns the UserError. */
function loadError(file: string, options?: Parameters<typeof loadScenario>[1]): UserError {
  let error: unknown;
  try {
    loadScenario(file, options);
  } catch (e) {
    error = e;
  }
  expect(error, 'expected a UserError').toBeInstanceOf(UserError);
  const e = error as UserError;
  // Several layout problems are listed at once (UserErrors): one line per problem, none broken.
  for (const line of e.format().split('\nerror: ')) {
    expect(line).not.toContain('\n');
    expect(line.replace(/"(?:[^"\\]|\\.)*"/g, '""')).not.toMatch(/\bundefined\b|\bNaN\b|\[object Object\]/);
  }
  return e;
}

describe('bad input: the core names file, field path and reason', () => {
  it('the unbroken tiny scenario loads (the baseline every case breaks)', () => {
    expect(() => loadScenario(writeTiny('ok.yaml', () => {}))).not.toThrow();
  });

  describe('malformed files', () => {
    it('malformed YAML names the line and column', () => {
      const file = writeText('malformed.yaml', tinyText.replace('  tp: 2 ', '  tp: [2 '));
      const e = loadError(file);
      expect(e.file).toBe(file);
      expect(e.message).toMatch(/^malformed YAML at line \d+, column \d+: /);
    });

    it('a duplicate key is malformed YAML, not silently the last value', () => {
      const file = writeText('duplicate.yaml', tinyText.replace('  tp: 2 ', '  tp: 2\n  tp: 4 '));
      const e = loadError(file);
      expect(e.file).toBe(file);
      expect(e.message).toMatch(/^malformed YAML at line \d+/);
      expect(e.message).toMatch(/unique/i);
    });

    it('malformed JSON', () => {
      const file = writeText('malformed.json', '{"model": "tiny", "cluster": {');
      const e = loadError(file);
      expect(e.file).toBe(file);
      expect(e.message).toMatch(/^malformed JSON: /);
    });

    it('an empty file or a bare scalar is not a scenario', () => {
      for (const [name, text] of [['empty.yaml', ''], ['scalar.yaml', '42\n'], ['list.yaml', '- a\n- b\n']]) {
        const e = loadError(writeText(name, text));
        expect(e.file).toBe(join(dir, name));
        expect(e.message).toMatch(/must be a mapping with model, cluster, plan and training/);
      }
    });

    it('a missing file', () => {
      const file = join(dir, 'no-such-file.yaml');
      const e = loadError(file);
      expect(e.file).toBe(file);
      expect(e.message).toBe('file not found');
    });
  });

  describe('unknown keys', () => {
    it('at the top level', () => {
      const file = writeTiny('unknown-top.yaml', (s) => { s.trainng = { totalTokens: '1M' }; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'trainng']);
      expect(e.message).toContain('unknown key "trainng"');
    });

    it('inside a block', () => {
      const file = writeTiny('unknown-plan.yaml', (s) => { s.plan.tensorParallel = 2; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'plan.tensorParallel']);
      expect(e.message).toContain('unknown key "tensorParallel"');
    });

    it('inside an inline profile (a union of name or mapping)', () => {
      const file = writeTiny('unknown-model.yaml', (s) => { s.model = { ...tinyModel(), layer: 4 }; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'model.layer']);
      expect(e.message).toContain('unknown key "layer"');
    });
  });

  describe('wrong units', () => {
    it('a bandwidth where bytes are expected (inline GPU)', () => {
      const file = writeTiny('units-hbm.yaml', (s) => {
        const gpu = h100();
        gpu.hbm.capacity = '80 GB/s';
        s.cluster.gpu = gpu;
      });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'cluster.gpu.hbm.capacity']);
      expect(e.message).toContain('"80 GB/s"');
      expect(e.message).toMatch(/not an amount of memory or data \(bytes\)/);
    });

    it('bytes where a bandwidth is expected', () => {
      const file = writeTiny('units-storage.yaml', (s) => { s.cluster.storage = { writeBandwidth: '2 TB' }; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'cluster.storage.writeBandwidth']);
      expect(e.message).toContain('"2 TB"');
      expect(e.message).toMatch(/not a bandwidth/);
    });

    it('a unit that does not exist', () => {
      const file = writeTiny('units-parsecs.yaml', (s) => { s.cluster.storage = { writeBandwidth: '3 parsecs' }; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'cluster.storage.writeBandwidth']);
      expect(e.message).toContain('"3 parsecs"');
    });

    it('units on a count', () => {
      const file = writeTiny('units-tokens.yaml', (s) => { s.training.totalTokens = '15.6 TB'; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'training.totalTokens']);
      expect(e.message).toContain('"15.6 TB"');
    });

    it('in a named profile: the profile file and its field are named', () => {
      const gpu = h100();
      gpu.name = 'bad-gpu';
      gpu.hbm.capacity = '80 GB/s';
      mkdirSync(join(dir, 'hardware-profiles', 'gpus'), { recursive: true });
      const profile = join(dir, 'hardware-profiles', 'gpus', 'bad-gpu.yaml');
      writeFileSync(profile, stringifyYaml(gpu));
      const e = loadError(writeTiny('units-profile.yaml', (s) => { s.cluster.gpu = 'bad-gpu'; }));
      expect([e.file, e.fieldPath]).toEqual([profile, 'hbm.capacity']);
      expect(e.message).toContain('"80 GB/s"');
    });
  });

  describe('layouts that do not divide', () => {
    it('tp does not divide the heads', () => {
      const file = writeTiny('tp-heads.yaml', (s) => Object.assign(s.plan, { tp: 8, pp: 1, dp: 1 }));
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'plan.tp']);
      expect(e.message).toBe('tp (8) must divide heads (4)');
    });

    it('tp neither divides nor is a multiple of kvHeads', () => {
      const file = writeTiny('tp-kvheads.yaml', (s) => {
        s.model = { ...tinyModel(), hidden: 768, heads: 12, kvHeads: 6 };
        Object.assign(s.plan, { tp: 4, pp: 2, dp: 1 });
      });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'plan.tp']);
      expect(e.message).toContain('tp (4)');
      expect(e.message).toContain('kvHeads (6)');
    });

    it('MLA with fewer key/value heads than query heads', () => {
      const file = writeTiny('mla-kvheads.yaml', (s) => {
        s.model = { ...tinyModel(), kvHeads: 2, mla: { kvLoraRank: 32, qkNopeHeadDim: 32, qkRopeHeadDim: 16, vHeadDim: 32 } };
      });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'model.kvHeads']);
      expect(e.message).toContain('MLA');
    });

    it('tp·cp·pp·dp differs from the GPU count', () => {
      const file = writeTiny('product.yaml', (s) => { s.plan.dp = 3; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'plan.dp']);
      expect(e.message).toContain('= 12');
      expect(e.message).toContain('8 GPUs');
    });

    it('tp·cp·pp does not divide the GPU count (dp derived)', () => {
      const file = writeTiny('product-derived.yaml', (s) => { s.cluster.gpus = 10; delete s.plan.dp; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'plan']);
      expect(e.message).toContain('= 4 does not divide 10 GPUs');
    });

    it('pp does not divide the layers and no uneven split is stated', () => {
      const threeStages = (s: Doc) => {
        Object.assign(s.plan, { tp: 1, pp: 3 });
        delete s.plan.dp;
        s.cluster.gpus = 6;
      };
      const file = writeTiny('pp-layers.yaml', threeStages);
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'plan.pp']);
      expect(e.message).toContain('pp (3) does not divide layers (4)');
      expect(e.message).toContain('layersPerStage');
      // A stated uneven split is accepted, and must add up.
      expect(loadScenario(writeTiny('pp-split.yaml', (s) => { threeStages(s); s.plan.layersPerStage = [1, 2, 1]; })).plan.layersPerStage).toEqual([1, 2, 1]);
      expect(loadScenario(writeTiny('pp-auto.yaml', (s) => { threeStages(s); s.plan.layersPerStage = 'auto'; })).plan.layersPerStage).toEqual([1, 2, 1]);
      const bad = writeTiny('pp-split-bad.yaml', (s) => { threeStages(s); s.plan.layersPerStage = [1, 1, 1]; });
      const e2 = loadError(bad);
      expect([e2.file, e2.fieldPath]).toEqual([bad, 'plan.layersPerStage']);
      expect(e2.message).toBe('sums to 3, the model has 4 layers');
    });

    it('the global batch is not divisible by dp·microBatch', () => {
      const file = writeTiny('global-batch.yaml', (s) => { s.plan.globalBatch = 7; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'plan.globalBatch']);
      expect(e.message).toContain('7 sequences');
      expect(e.message).toContain('dp(2)·microBatch(1) = 2');
    });

    it('a token global batch that is not whole sequences', () => {
      const file = writeTiny('global-batch-tokens.yaml', (s) => { s.plan.globalBatch = { tokens: 1000 }; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'plan.globalBatch.tokens']);
      expect(e.message).toContain('256-token sequences');
    });
  });

  describe('zero, negative and absurd values', () => {
    it('zero GPUs', () => {
      const file = writeTiny('zero-gpus.yaml', (s) => { s.cluster.gpus = 0; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'cluster.gpus']);
      expect(e.message).toBe('must be at least 1, got 0');
    });

    it('a zero token budget', () => {
      const file = writeTiny('zero-tokens.yaml', (s) => { s.training.totalTokens = 0; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'training.totalTokens']);
      expect(e.message).toMatch(/greater than zero/);
    });

    it('negative layers', () => {
      const file = writeTiny('negative-layers.yaml', (s) => { s.model = { ...tinyModel(), layers: -4 }; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'model.layers']);
      expect(e.message).toBe('must be at least 1, got -4');
    });

    it('a negative price', () => {
      const file = writeTiny('negative-price.yaml', (s) => { s.cluster.pricePerGpuHour = -2; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'cluster.pricePerGpuHour']);
      expect(e.message).toMatch(/must not be negative/);
    });

    it('10^30 GPUs', () => {
      const file = writeTiny('huge-gpus.yaml', (s) => { s.cluster.gpus = 1e30; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'cluster.gpus']);
      expect(e.message).toBe('must be at most 10,000,000, got 1e+30');
    });

    it('10^30 GPUs through a resize (the core names the field; the CLI checks --gpus itself)', () => {
      const e = loadError(writeTiny('gpus-flag.yaml', () => {}), { gpus: 1e30 });
      expect(e.fieldPath).toBe('cluster.gpus');
      expect(e.message).toMatch(/whole number from 1 to 10,000,000/);
    });

    it('an absurd token budget', () => {
      const file = writeTiny('huge-tokens.yaml', (s) => { s.training.totalTokens = '1e30'; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'training.totalTokens']);
      expect(e.message).toMatch(/implausibly large/);
    });

    it('a number too large for a double', () => {
      const file = writeTiny('overflow.yaml', (s) => { s.plan.globalBatch = { tokens: '1e400' }; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'plan.globalBatch.tokens']);
      expect(e.message).toMatch(/not a finite number/);
    });

    it('an absurdly small bandwidth (would overflow run totals to Infinity)', () => {
      const file = writeTiny('tiny-bandwidth.yaml', (s) => {
        const gpu = h100();
        gpu.hbm.bandwidth = '1e-300 B/s';
        s.cluster.gpu = gpu;
      });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'cluster.gpu.hbm.bandwidth']);
      expect(e.message).toMatch(/implausibly small/);
    });

    it('a zero efficiency (a divisor)', () => {
      const file = writeTiny('zero-efficiency.yaml', (s) => {
        const gpu = h100();
        gpu.efficiency.hbm = 0;
        s.cluster.gpu = gpu;
      });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'cluster.gpu.efficiency.hbm']);
      expect(e.message).toMatch(/greater than zero/);
    });
  });

  describe('wrong types and missing keys', () => {
    it('a string where a number is expected', () => {
      const file = writeTiny('type-gpus.yaml', (s) => { s.cluster.gpus = 'eight'; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'cluster.gpus']);
      expect(e.message).toBe('expected a number, got "eight"');
    });

    it('a fractional count', () => {
      const file = writeTiny('type-fraction.yaml', (s) => { s.plan.microBatch = 1.5; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'plan.microBatch']);
      expect(e.message).toBe('expected a whole number, got 1.5');
    });

    it('YAML .nan', () => {
      const file = writeText('nan.yaml', tinyText.replace('  tp: 2 ', '  tp: .nan '));
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'plan.tp']);
      expect(e.message).toMatch(/expected a number, got \.nan/);
    });

    it('a missing block', () => {
      const file = writeTiny('missing-training.yaml', (s) => { delete s.training; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'training']);
      expect(e.message).toBe('is required (a mapping) but missing');
    });

    it('a missing field', () => {
      const file = writeTiny('missing-gpus.yaml', (s) => { delete s.cluster.gpus; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'cluster.gpus']);
      expect(e.message).toBe('is required (a number) but missing');
    });

    it('an enum value that does not exist', () => {
      const file = writeTiny('enum.yaml', (s) => { s.plan.recompute = 'some'; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'plan.recompute']);
      expect(e.message).toBe('must be one of "none", "selective", "op-sac", "full", got "some"');
    });

    it('a profile name that does not exist', () => {
      const file = writeTiny('no-model.yaml', (s) => { s.model = 'llama9-1t'; });
      const e = loadError(file);
      expect([e.file, e.fieldPath]).toEqual([file, 'model']);
      expect(e.message).toBe('no model profile named "llama9-1t"');
    });
  });
});

describe('bad input: the CLI prints one error line and exits 2', () => {
  /**
   * Runs `clusterplan evaluate <file> [...args]` in-process (test/cli/in-process.ts: the same
   * parse, load and error printing as bin/clusterplan); the built binary's own one-line, no-stack
   * exit on hostile input is spawned in hostile.test.ts and bin.test.ts.
   */
  const cli = (file: string, ...args: string[]) => runCli(['evaluate', file, ...args]);

  const cases: { name: string; file: () => string; args?: string[]; field: string; reason: RegExp }[] = [
    { name: 'malformed YAML', file: () => writeText('cli-malformed.yaml', tinyText.replace('  tp: 2 ', '  tp: [2 ')), field: 'line', reason: /malformed YAML at line \d+/ },
    { name: 'unknown key', file: () => writeTiny('cli-unknown.yaml', (s) => { s.plan.tpp = 2; }), field: 'plan.tpp', reason: /unknown key "tpp"/ },
    { name: 'wrong unit', file: () => writeTiny('cli-units.yaml', (s) => { s.cluster.storage = { writeBandwidth: '80 GB' }; }), field: 'cluster.storage.writeBandwidth', reason: /not a bandwidth/ },
    { name: 'tp does not divide heads', file: () => writeTiny('cli-tp.yaml', (s) => Object.assign(s.plan, { tp: 8, pp: 1, dp: 1 })), field: 'plan.tp', reason: /tp \(8\) must divide heads \(4\)/ },
    { name: '10^30 GPUs', file: () => writeTiny('cli-huge.yaml', (s) => { s.cluster.gpus = 1e30; }), field: 'cluster.gpus', reason: /at most 10,000,000/ },
    { name: 'a bad --set', file: () => writeTiny('cli-set.yaml', () => {}), args: ['--set', 'plan.pp=-1'], field: 'plan.pp', reason: /must be at least 1, got -1/ },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const file = c.file();
      const r = await cli(file, ...(c.args ?? []));
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^error: /);
      expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toContain(basename(file));
      expect(r.stderr).toContain(`${c.field}`);
      expect(r.stderr).toMatch(c.reason);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.status, r.stderr).toBe(2);
    });
  }

  it('the unbroken scenario exits 0 (the harness itself works)', async () => {
    const r = await cli(writeTiny('cli-ok.yaml', () => {}), '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).layout.gpus).toBe(8);
  });
});
