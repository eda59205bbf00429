/**
 * The validator accepts any file in the case format (../shared/validation/README.md "Case format"):
 * `null` wherever the source may leave a value unsaid, fields and GPU names it does not know yet
 * (skipped with the reason), and entries that are not cases (skipped), without failing the file.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateCases } from '../../src/validation/cases.js';
import { packageProfiles } from '../../src/io/profiles.js';
import { packageRoot } from '../../src/io/load.js';

const profiles = packageProfiles();
const read = (f: string) => JSON.parse(readFileSync(join(packageRoot, 'validation', f), 'utf8')) as Record<string, unknown>[];
const dev = read('cases-dev.json');
const scale = read('cases-dev-scale.json');
const byId = (cases: Record<string, unknown>[], id: string) => {
  const c = cases.find((x) => x.id === id);
  if (!c) throw new Error(id);
  return structuredClone(c) as Record<string, Record<string, unknown>> & { id: string };
};
const one = (item: unknown) => validateCases([item], 'test.json', profiles, 'analytic')[0];

// One case per kind of record: a dense H100 Megatron-Bridge row, an MoE GB200 row, a paper row
// with most of its layout unstated, and a pipeline row with memory.
const samples = [
  byId(dev, 'llama3-t4-8k-gpus'),
  dev.find((c) => (c.hardware as { gpu: string }).gpu === 'gb200' && (c.model as { moe?: unknown }).moe) as Record<string, Record<string, unknown>> & { id: string },
  byId(scale, 'mtnlg2022-530b-2240gpu'),
  scale.find((c) => (c.measured as { memoryGiBPerGpu?: number }).memoryGiBPerGpu) as Record<string, Record<string, unknown>> & { id: string },
];

describe('the case format, read leniently', () => {
  it('the sample cases are scored as they stand', () => {
    for (const c of samples) {
      expect(c, 'sample present').toBeDefined();
      const r = one(c);
      expect(r.skipped, `${c.id}: ${r.reason}`).toBe(false);
    }
  });

  it('a null source table (two H200 cases were rejected for it) is not malformed', () => {
    const c = byId(dev, 'llama3-t4-8k-gpus');
    c.source.table = null;
    c.source.url = null;
    c.source.kind = null;
    c.hardware.gpu = 'h200-sxm-141gb';
    c.hardware.note = null;
    const r = one(c);
    expect(r.reason).toBeNull();
    expect(r.gpu).toBe('h200-sxm-141gb');
    expect(Number.isFinite(r.predicted!.tokensPerSecondPerGpu)).toBe(true);
  });

  it('null in any single field of a case: scored, or skipped with a reason naming what is missing; never malformed, never NaN', () => {
    for (const c of samples) {
      for (const section of ['source', 'model', 'hardware', 'layout', 'measured'] as const) {
        for (const key of Object.keys(c[section])) {
          const v = structuredClone(c);
          v[section][key] = null;
          const r = one(v);
          const where = `${c.id} ${section}.${key} = null`;
          expect(r.id, where).toBe(c.id);
          if (r.skipped) {
            expect(r.reason, where).toBeTruthy();
            expect(r.reason, where).not.toMatch(/^malformed/);
          } else {
            for (const x of Object.values(r.predicted!)) if (typeof x === 'number') expect(Number.isFinite(x), where).toBe(true);
            for (const x of Object.values(r.errors)) if (x !== null) expect(Number.isFinite(x), where).toBe(true);
          }
        }
      }
      for (const top of ['source', 'model', 'hardware', 'layout', 'measured', 'flags', 'notes']) {
        const r = one({ ...structuredClone(c), [top]: null });
        expect(r.reason ?? '', `${c.id} ${top} = null`).not.toMatch(/^malformed/);
      }
    }
  });

  it('what a case does not say is skipped with the reason, never guessed', () => {
    const c = byId(dev, 'llama3-t4-8k-gpus');
    expect(one({ ...c, hardware: { ...c.hardware, gpu: null } }).reason).toBe('hardware.gpu: not stated');
    expect(one({ ...c, hardware: { ...c.hardware, gpus: null } }).reason).toBe('hardware.gpus: not stated');
    expect(one({ ...c, model: { ...c.model, layers: null } }).reason).toMatch(/^model: layers: /);
  });

  it('unknown GPUs, fields and values: the case is skipped with the reason, the file is not failed', () => {
    const c = byId(dev, 'llama3-t4-8k-gpus');
    const results = validateCases(
      [
        { ...c, id: 'unknown-gpu', hardware: { ...c.hardware, gpu: 'r300-sxm-999gb' } },
        { ...c, id: 'unknown-fields', extra: { anything: [1, 2] }, layout: { ...c.layout, zeroBubble: true } },
        { ...c, id: 'unknown-value', layout: { ...c.layout, recompute: 'block' } },
        42,
        null,
        { id: 7 },
        c,
        { ...c, id: 'unknown-software', software: { name: 'megatron-core-2025', overrides: { overlapTp: true } } },
        { ...c, id: 'unknown-override', software: { name: 'meta-llama3-production', overrides: { overlapTp: true } } },
      ],
      'mixed.json',
      profiles,
      'analytic',
    );
    expect(results.map((r) => [r.id, r.skipped])).toEqual([
      ['unknown-gpu', true], ['unknown-fields', false], ['unknown-value', true],
      ['mixed.json[3]', true], ['mixed.json[4]', true], ['mixed.json[5]', true], [c.id, false],
      ['unknown-software', true], ['unknown-override', true],
    ]);
    expect(results[7].reason).toBe('software: no software profile named "megatron-core-2025"');
    expect(results[8].reason).toMatch(/^software\.overrides: /);
    expect(results[0].reason).toBe('no GPU profile for "r300-sxm-999gb"');
    expect(results[2].reason).toMatch(/^layout: recompute: /);
    expect(results[3].reason).toMatch(/^malformed case: /);
    expect(results[5].reason).toBe('malformed case: id: Invalid input: expected string, received number');
    // Fields the validator does not know change nothing.
    expect(results[1].predicted).toEqual(results[6].predicted);
  });
});
