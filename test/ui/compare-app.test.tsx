/** The compare screen driven by keys (ink-testing-library), on real evaluations of the tiny scenario. */
import { describe, it, expect, beforeAll, vi } from 'vitest';
import { useEffect } from 'react';
import { render } from 'ink-testing-library';
import { CompareApp, type CompareAppProps } from '../../src/ui/compare-app.js';
import { COLUMNS, type ComparePlan } from '../../src/report/compare.js';
import { tinyPlans } from './fixtures.js';

let plans: ComparePlan[];
beforeAll(() => {
  plans = tinyPlans();
});

const tick = () => new Promise((r) => setTimeout(r, 40));
/** Waits until the frame contains (or, with `not`, lacks) a text: Ink renders a key's effect asynchronously. */
async function until(frame: () => string, text: string | RegExp, not = false): Promise<string> {
  await vi.waitFor(() => {
    const f = frame();
    const has = typeof text === 'string' ? f.includes(text) : text.test(f);
    expect(has, `${not ? 'no ' : ''}${String(text)} in\n${f}`).toBe(!not);
  }, { timeout: 3000, interval: 20 });
  return frame();
}
const KEY = { pageDown: '\u001B[6~', up: '\u001B[A', down: '\u001B[B', left: '\u001B[D', right: '\u001B[C', enter: '\r', escape: '\u001B' };

function app(extra: Partial<CompareAppProps> = {}) {
  const props: CompareAppProps = { title: 'compare test', plans, progress: null, defaultExportPath: '/tmp/x', onExport: () => 'exported', columns: 220, rows: 60, ...extra };
  const r = render(<CompareApp {...props} />);
  const press = async (...keys: string[]) => {
    for (const k of keys) {
      r.stdin.write(k);
      await tick();
    }
    return r.lastFrame() ?? '';
  };
  return { ...r, press, frame: () => r.lastFrame() ?? '' };
}

/** Plan names in the order their rows appear in a frame. */
const rowOrder = (frame: string) =>
  frame
    .split('\n')
    .map((l) => plans.find((p) => l.slice(2).startsWith(' ' + p.name + ' '))?.name)
    .filter(Boolean);

describe('compare screen', () => {
  it('first frame shows every plan and every column header', () => {
    const { frame, unmount } = app();
    for (const p of plans) expect(frame()).toContain(p.name);
    for (const c of COLUMNS) expect(frame()).toContain(c.header);
    expect(frame()).toContain('q quit');
    unmount();
  });

  it('sorting by MFU reorders the rows, r reverses', async () => {
    const { frame, press, unmount } = app();
    expect(rowOrder(frame())).toEqual(['tiny tp=2', 'tiny tp=1', 'tiny small-hbm']);
    // tp=1 has no TP communication: the highest MFU, first when sorted best-first.
    await press('u');
    const sorted = await until(frame, '▼MFU');
    expect(rowOrder(sorted)[0]).toBe('tiny tp=1');
    await press('r');
    expect(rowOrder(await until(frame, '▲MFU'))[2]).toBe('tiny tp=1');
    unmount();
  });

  it('← and → choose the sort column', async () => {
    const { press, frame, unmount } = app();
    await press(KEY.right);
    await until(frame, 'plan▲');
    await press(KEY.right);
    await until(frame, 'TP·CP·PP(v)·DP·EP▲');
    await press(KEY.left, KEY.left);
    await until(frame, '▲MWh');
    unmount();
  });

  it('f hides the plan that does not fit, and shows it again', async () => {
    const { frame, press, unmount } = app();
    expect(frame()).toContain('tiny small-hbm');
    await press('f');
    await until(frame, 'tiny small-hbm', true);
    await press('f');
    await until(frame, 'tiny small-hbm');
    unmount();
  });

  it('Enter shows the details: memory breakdown, step, pipeline, histogram, interruptions', async () => {
    const { press, frame, unmount } = app({ rows: 40 });
    await press(KEY.down);
    await until(frame, /^›\s+tiny tp=1/m);
    await press(KEY.enter);
    const d = await until(frame, 'details of tiny tp=1');
    for (const s of ['Memory per GPU', 'weights', 'gradients', 'optimizer state', 'activations', 'Step', 'compute', 'pipeline bubble', 'Pipeline of the simulated step', 'stage 0', 'stage 1']) expect(d).toContain(s);
    await press(KEY.pageDown);
    await until(frame, 'Finish time, 20 Monte Carlo trials');
    await press(KEY.pageDown, KEY.pageDown);
    await until(frame, 'Interruptions by component');
    await press(KEY.escape);
    await until(frame, 'ideal d');
    unmount();
  });

  it("the details of a plan that does not fit say why, as evaluate's Problem lines do", async () => {
    const { press, frame, unmount } = app({ rows: 40 });
    await press(KEY.down, KEY.down);
    await until(frame, /^›\s+tiny small-hbm/m);
    await press(KEY.enter);
    const d = await until(frame, 'details of tiny small-hbm');
    expect(d).toContain('DOES NOT FIT');
    expect(d).toMatch(/problem {2}memory: .* per GPU \(stage \d+\) exceeds 2\.0 GiB of HBM/);
    unmount();
  });

  it('Space marks two plans and d shows their diff with the differences', async () => {
    const { press, frame, unmount } = app();
    await press('d');
    await until(frame, 'mark two plans');
    await press(' ');
    await until(frame, /^›•/m);
    await press(KEY.down);
    await until(frame, /^›\s+tiny tp=1/m);
    await press(' ');
    await until(frame, /^›•/m);
    await press('d');
    const diff = await until(frame, 'diff of the two marked plans');
    expect(diff).toContain('Inputs');
    expect(diff).toContain('Outputs');
    const tpRow = diff.split('\n').find((l) => /^\s+TP\s/.test(l))!;
    expect(tpRow).toMatch(/TP\s+2\s+1/);
    unmount();
  });

  it('keys typed faster than the screen renders all count', async () => {
    const { stdin, frame, unmount } = app();
    // Written back to back: Ink handles each before React renders again.
    stdin.write(KEY.down);
    stdin.write(KEY.down);
    await until(frame, /^›\s+tiny small-hbm/m);
    stdin.write(' ');
    stdin.write(KEY.up);
    stdin.write(' ');
    stdin.write('d');
    const diff = await until(frame, 'diff of the two marked plans');
    expect(diff.split('\n')[2]).toMatch(/tiny small-hbm\s+tiny tp=1/);
    unmount();
  });

  it('e exports the shown plans to the typed path', async () => {
    const onExport = vi.fn(() => 'wrote it');
    const { press, frame, unmount } = app({ onExport });
    await press('e');
    await until(frame, 'export to: /tmp/x');
    await press('y');
    await until(frame, 'export to: /tmp/xy');
    // Several keys in one chunk, deletes among them (as a terminal sends fast typing).
    await press('\x7f\x7fzz\x7fy');
    await until(frame, 'export to: /tmp/zy');
    await press(KEY.enter);
    await until(frame, 'wrote it');
    expect(onExport).toHaveBeenCalledWith('/tmp/zy', expect.any(Array));
    unmount();
  });

  it('? shows help; q exits', async () => {
    const unmounted = vi.fn();
    function Probe(props: CompareAppProps) {
      useEffect(() => unmounted, []);
      return <CompareApp {...props} />;
    }
    const r = render(<Probe title="t" plans={plans} progress={null} defaultExportPath="/tmp/x" onExport={() => ''} columns={200} rows={50} />);
    r.stdin.write('?');
    await until(() => r.lastFrame() ?? '', 'Sort letters');
    r.stdin.write('q');
    await vi.waitFor(() => expect(unmounted).toHaveBeenCalled(), { timeout: 3000 });
  });

  it('shows progress and pending rows, then fills rows in as results arrive', () => {
    const pending = plans.map((p) => ({ ...p, evaluation: undefined, step: undefined, failures: 'pending' as const }));
    const r = render(<CompareApp title="t" plans={pending} progress={{ done: 0, total: 3, label: 'evaluated 0/3 plans' }} defaultExportPath="/tmp/x" onExport={() => ''} columns={200} rows={50} />);
    expect(r.lastFrame()).toContain('evaluated 0/3 plans');
    expect(r.lastFrame()).toContain('pending');
    r.rerender(<CompareApp title="t" plans={[plans[0], ...pending.slice(1)]} progress={{ done: 1, total: 3, label: 'evaluated 1/3 plans' }} defaultExportPath="/tmp/x" onExport={() => ''} columns={200} rows={50} />);
    expect(r.lastFrame()).toContain('2·1·2·2·1');
    expect(r.lastFrame()).toContain('evaluated 1/3 plans');
    r.unmount();
  });

  it('a search still running shows as a row saying so, with its progress, then its plans take its place', () => {
    const searching: ComparePlan = { id: 3, name: 'search', source: 'scenarios/tiny.yaml', sets: [], failures: 'none', pending: 'searching…' };
    const props = { title: 't', defaultExportPath: '/tmp/x', onExport: () => '', columns: 200, rows: 50 };
    const r = render(<CompareApp {...props} plans={[...plans, searching]} progress={{ done: 3, total: 3, label: 'evaluated 3/3 plans · search: candidates 128/402 · 20 evaluated' }} />);
    expect(r.lastFrame()).toMatch(/search +searching…/);
    expect(r.lastFrame()).toContain('candidates 128/402');
    const found = { ...plans[1], id: 4, name: 'search #1 TP1 CP1 PP2', search: { rank: 1, scenario: 'scenarios/tiny.yaml' } };
    r.rerender(<CompareApp {...props} plans={[...plans, found]} progress={null} />);
    expect(r.lastFrame()).toContain('search #1 TP1 CP1 PP2');
    expect(r.lastFrame()).not.toContain('searching…');
    r.unmount();
  });

  it('drops columns on a narrow terminal in the stated order and names them', () => {
    const r = render(<CompareApp title="t" plans={plans} progress={null} defaultExportPath="/tmp/x" onExport={() => ''} columns={80} rows={40} />);
    const f = r.lastFrame()!;
    expect(f).toContain('MFU');
    expect(f).not.toContain('MWh');
    expect(f).toContain('hidden for the width: ');
    for (const line of f.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    r.unmount();
  });
});
