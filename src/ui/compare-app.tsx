/**
 * The `clusterplan compare` screen. Everything it shows arrives as props (plans with their
 * evaluations, progress); it only keeps what the user chose: selection, sort, filter, marks, view.
 * Sorting, best values and column choice come from src/report/compare.ts, the details/diff lines from compare-views.ts.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { Box, Text, render, useApp, useInput, useStdout, type Key } from 'ink';
import {
  COLUMNS, bestPlans, columnWidths, hiddenColumns, planValues, sortPlans, visibleColumns,
  type ColumnKey, type ComparePlan,
} from '../report/compare.js';
import { diffLines, planDetails } from '../report/compare-views.js';
import { CompareTable } from './table.js';
import { StyledLines } from './lines.js';
import { HelpView, KEYS } from './help.js';

export interface CompareProgress {
  done: number;
  total: number;
  label: string;
}

export interface CompareAppProps {
  title: string;
  /** Every plan, in the order given; rows may arrive or change at any time (a new props object). */
  plans: readonly ComparePlan[];
  /** Work still running (null when all results are in). */
  progress: CompareProgress | null;
  /** Where `e` writes (path without extension: .csv and .json are added). */
  defaultExportPath: string;
  /** Writes the shown table as CSV and JSON; returns the message to show. */
  onExport: (path: string, plans: readonly ComparePlan[]) => string;
  /** Terminal size; by default stdout's, following resizes. */
  columns?: number;
  rows?: number;
}

type View = 'table' | 'details' | 'diff' | 'help' | 'export';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** Lines around the table: title, progress/message, blank, footer (two lines on narrow terminals). */
const CHROME_LINES = 6;

/** The terminal's size, re-read on every resize. */
function useTerminalSize(columns?: number, rows?: number): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => ({ columns: columns ?? (stdout.columns || 100), rows: rows ?? (stdout.rows || 40) });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  });
  return columns !== undefined || rows !== undefined ? read() : size;
}

/** A spinner frame that advances while `active`. */
function useSpinner(active: boolean): string {
  const [frame, setFrame] = useState(0);
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setFrame((f) => (f + 1) % SPINNER.length), 100);
    return () => clearInterval(t);
  }, [active]);
  return SPINNER[frame];
}

/** What the user chose; everything else on screen comes from props. */
interface UiState {
  sortKey: ColumnKey | null;
  descending: boolean;
  feasibleOnly: boolean;
  selectedId: number | undefined;
  marked: number[];
  view: View;
  scroll: number;
  message: string;
  exportPath: string;
}

/** The rows in display order for a state. */
function rowsOf(plans: readonly ComparePlan[], s: UiState): ComparePlan[] {
  const sorted = sortPlans(plans, s.sortKey, s.descending);
  return s.feasibleOnly ? sorted.filter((p) => planValues(p)?.feasible) : sorted;
}

export function CompareApp(props: CompareAppProps) {
  const { exit } = useApp();
  const size = useTerminalSize(props.columns, props.rows);
  const [state, setState] = useState<UiState>(() => ({
    sortKey: null, descending: false, feasibleOnly: false, selectedId: props.plans[0]?.id, marked: [], view: 'table', scroll: 0, message: '', exportPath: props.defaultExportPath,
  }));
  // Keys act on the latest state even when several arrive before React renders again (key repeat,
  // pasted input): every change goes through `live`, and the render follows it.
  const live = useRef(state);
  const set = (patch: Partial<UiState>) => {
    live.current = { ...live.current, ...patch };
    setState(live.current);
  };
  const { sortKey, descending, feasibleOnly, view, scroll, message, exportPath, marked } = state;
  const spinner = useSpinner(props.progress !== null);

  const shown = useMemo(() => rowsOf(props.plans, state), [props.plans, sortKey, descending, feasibleOnly]);
  const best = useMemo(() => bestPlans(props.plans), [props.plans]);
  const columns = useMemo(() => visibleColumns(props.plans, size.columns), [props.plans, size.columns]);
  const widths = useMemo(() => columnWidths(props.plans, columns), [props.plans, columns]);
  const cursor = Math.max(0, shown.findIndex((p) => p.id === state.selectedId));
  const selected = shown[cursor] as ComparePlan | undefined;
  const bodyHeight = Math.max(3, size.rows - CHROME_LINES);
  const detailLines = useMemo(() => (view === 'details' && selected ? planDetails(selected, size.columns) : []), [view, selected, size.columns]);
  const diff = useMemo(() => {
    const [a, b] = marked.map((id) => props.plans.find((p) => p.id === id));
    return view === 'diff' && a && b ? diffLines(a, b) : [];
  }, [view, marked, props.plans]);
  const viewLines = view === 'details' ? detailLines.length : view === 'diff' ? diff.length : 0;
  const maxScroll = Math.max(0, viewLines - bodyHeight);

  const onKey = useRef<(input: string, key: Key) => void>(() => {});
  onKey.current = (input, key) => {
    const s = live.current;
    const rows = rowsOf(props.plans, s);
    const at = Math.max(0, rows.findIndex((p) => p.id === s.selectedId));
    const current = rows[at] as ComparePlan | undefined;
    const sortBy = (k: ColumnKey) =>
      // Again on the same column reverses; a new column sorts best first (high-is-better columns descending).
      set(k === s.sortKey ? { descending: !s.descending } : { sortKey: k, descending: COLUMNS.find((c) => c.key === k)?.better === 'high' });
    if (s.message) set({ message: '' });
    if (s.view === 'export') {
      if (key.return) set({ message: props.onExport(s.exportPath, rows), view: 'table' });
      else if (key.escape) set({ view: 'table' });
      else if (key.backspace || key.delete) set({ exportPath: s.exportPath.slice(0, -1) });
      else if (!key.ctrl && !key.meta) {
        // Keys can arrive several to a chunk (fast typing, paste): apply each, deletes included.
        let path = s.exportPath;
        for (const ch of input) path = ch === '\x7f' || ch === '\b' ? path.slice(0, -1) : ch >= ' ' ? path + ch : path;
        set({ exportPath: path });
      }
      return;
    }
    if (input === 'q') {
      exit();
      return;
    }
    if (s.view !== 'table') {
      // The line count is the last render's; just after a view change it is not known yet (the render clamps).
      const bound = s.view === view ? maxScroll : Number.MAX_SAFE_INTEGER;
      if (key.escape || key.return || key.backspace || key.delete || input === '?') set({ view: 'table' });
      else if (key.upArrow) set({ scroll: Math.max(0, Math.min(s.scroll, bound) - 1) });
      else if (key.downArrow) set({ scroll: Math.min(bound, s.scroll + 1) });
      else if (key.pageUp) set({ scroll: Math.max(0, Math.min(s.scroll, bound) - bodyHeight) });
      else if (key.pageDown || input === ' ') set({ scroll: Math.min(bound, s.scroll + bodyHeight) });
      return;
    }
    if (key.upArrow || key.downArrow) {
      const next = rows[Math.max(0, Math.min(rows.length - 1, at + (key.upArrow ? -1 : 1)))];
      if (next) set({ selectedId: next.id });
    } else if (key.leftArrow || key.rightArrow) {
      const i = s.sortKey === null ? -1 : columns.findIndex((c) => c.key === s.sortKey);
      const n = columns.length;
      sortBy(columns[key.rightArrow ? (i + 1) % n : i <= 0 ? n - 1 : i - 1].key);
    } else if (input === 'r') set({ descending: !s.descending });
    else if (input === 'f') set({ feasibleOnly: !s.feasibleOnly, message: s.feasibleOnly ? 'showing every plan' : 'showing only plans that fit in HBM' });
    else if (key.return) {
      if (current) set({ scroll: 0, view: 'details', selectedId: current.id });
    } else if (input === ' ') {
      if (current) set({ selectedId: current.id, marked: s.marked.includes(current.id) ? s.marked.filter((x) => x !== current.id) : [...s.marked, current.id].slice(-2) });
    } else if (input === 'd') set(s.marked.length === 2 ? { scroll: 0, view: 'diff' } : { message: 'mark two plans with Space, then press d' });
    else if (input === 'e') set({ view: 'export' });
    else if (input === '?') set({ view: 'help' });
    else {
      const col = COLUMNS.find((c) => c.letter === input);
      if (col) sortBy(col.key);
    }
  };
  useInput((input, key) => onKey.current(input, key));

  const hidden = hiddenColumns(columns);
  const status = props.progress ? (
    <Text color="cyan">
      {spinner} {props.progress.label}
    </Text>
  ) : message ? (
    <Text color="yellow">{message}</Text>
  ) : (
    <Text dimColor>
      {props.plans.length} plans{feasibleOnly ? ` · ${shown.length} that fit shown` : ''}
      {sortKey ? ` · sorted by ${COLUMNS.find((c) => c.key === sortKey)!.header}${descending ? ' ▼' : ' ▲'}` : ''}
      {hidden.length ? ` · hidden for the width: ${hidden.map((c) => c.header).join(', ')}` : ''}
    </Text>
  );
  let body;
  if (view === 'details' && selected) body = <StyledLines lines={detailLines} offset={Math.min(scroll, maxScroll)} height={bodyHeight} />;
  else if (view === 'diff') body = <StyledLines lines={diff} offset={Math.min(scroll, maxScroll)} height={bodyHeight} />;
  else if (view === 'help') body = <HelpView />;
  else {
    const offset = Math.max(0, Math.min(cursor - Math.floor((bodyHeight - 1) / 2), shown.length - (bodyHeight - 1)));
    body = (
      <CompareTable plans={shown} columns={columns} widths={widths} best={best} sortKey={sortKey} descending={descending} selectedId={selected?.id} marked={marked} offset={offset} height={bodyHeight - 1} />
    );
  }
  const footer =
    view === 'table' ? KEYS : view === 'export' ? 'type a path (without extension) · Enter write .csv and .json · Esc cancel' : '↑/↓ PgUp/PgDn scroll · Esc/Enter back · q quit';
  return (
    // Only a size given in props fixes the width: on a resize Ink re-lays the last tree out at the
    // new width before this component re-renders, and truncating lines (rather than a box wider
    // than the terminal) keeps that interim frame from wrapping.
    <Box flexDirection="column" width={props.columns}>
      <Text bold wrap="truncate-end">
        {props.title}
        {view === 'details' && selected ? ` · details of ${selected.name}` : view === 'diff' ? ' · diff of the two marked plans' : view === 'help' ? ' · keys' : ''}
      </Text>
      {view === 'export' ? (
        <Text>
          export to: <Text color="cyan">{exportPath}</Text>
          <Text inverse> </Text>
        </Text>
      ) : (
        <Text wrap="truncate-end">{status}</Text>
      )}
      {body}
      <Text dimColor wrap="wrap">
        {footer}
      </Text>
    </Box>
  );
}

/** Mounts the screen on the terminal; `update` re-renders it with new props (results as they arrive), `exit` clears it and stops. */
export function renderCompare(props: CompareAppProps): { update: (props: CompareAppProps) => void; waitUntilExit: () => Promise<unknown>; exit: () => void } {
  // Terminals that reflow long lines on resize leave pieces of the old frame above the new one:
  // wipe the screen first (this listener runs before Ink's, which then redraws from the top).
  const wipe = () => process.stdout.write('\x1b[2J\x1b[H');
  process.stdout.on('resize', wipe);
  const app = render(<CompareApp {...props} />, { exitOnCtrlC: true });
  void app.waitUntilExit().finally(() => process.stdout.off('resize', wipe));
  return {
    update: (p) => app.rerender(<CompareApp {...p} />),
    waitUntilExit: () => app.waitUntilExit(),
    exit: () => {
      app.clear();
      app.unmount();
    },
  };
}
