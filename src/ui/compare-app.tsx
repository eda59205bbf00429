/**
 * The `clusterplan compare` screen. Everything it shows arrives as props (plans with their
 * evaluations, progress); it only keeps what the user chose: selection, sort, filter, marks, view.
 * Sorting, best values, column choice and the details/diff lines come from src/report/compare.ts.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { Box, Text, render, useApp, useInput, useStdout, type Key } from 'ink';
import {
  COLUMNS, bestPlans, columnWidths, diffLines, hiddenColumns, planDetails, planValues, sortPlans, visibleColumns,
  type ColumnKey, type ComparePlan,
} from '../report/compare.js';
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

export function CompareApp(props: CompareAppProps) {
  const { exit } = useApp();
  const size = useTerminalSize(props.columns, props.rows);
  const [sortKey, setSortKey] = useState<ColumnKey | null>(null);
  const [descending, setDescending] = useState(false);
  const [feasibleOnly, setFeasibleOnly] = useState(false);
  const [selectedId, setSelectedId] = useState<number | undefined>(props.plans[0]?.id);
  const [marked, setMarked] = useState<number[]>([]);
  const [view, setView] = useState<View>('table');
  const [scroll, setScroll] = useState(0);
  const [message, setMessage] = useState('');
  const [exportPath, setExportPath] = useState(props.defaultExportPath);
  const spinner = useSpinner(props.progress !== null);

  const shown = useMemo(() => {
    const sorted = sortPlans(props.plans, sortKey, descending);
    return feasibleOnly ? sorted.filter((p) => planValues(p)?.feasible) : sorted;
  }, [props.plans, sortKey, descending, feasibleOnly]);
  const best = useMemo(() => bestPlans(props.plans), [props.plans]);
  const columns = useMemo(() => visibleColumns(props.plans, size.columns), [props.plans, size.columns]);
  const widths = useMemo(() => columnWidths(props.plans, columns), [props.plans, columns]);
  const cursor = Math.max(0, shown.findIndex((p) => p.id === selectedId));
  const selected = shown[cursor] as ComparePlan | undefined;
  const byId = (id: number) => props.plans.find((p) => p.id === id);
  const bodyHeight = Math.max(3, size.rows - CHROME_LINES);
  const detailLines = useMemo(() => (view === 'details' && selected ? planDetails(selected, size.columns) : []), [view, selected, size.columns]);
  const diff = useMemo(() => {
    const [a, b] = marked.map(byId);
    return view === 'diff' && a && b ? diffLines(a, b) : [];
  }, [view, marked, props.plans]);

  const sortBy = (key: ColumnKey) => {
    if (key === sortKey) setDescending((d) => !d);
    else {
      setSortKey(key);
      // Better first: high-is-better columns sort descending.
      setDescending(COLUMNS.find((c) => c.key === key)?.better === 'high');
    }
  };

  // Keys read the state of the latest render (a handler kept from an earlier one would act on a stale selection).
  const onKey = useRef<(input: string, key: Key) => void>(() => {});
  onKey.current = (input, key) => {
    setMessage('');
    if (view === 'export') {
      if (key.return) {
        setMessage(props.onExport(exportPath, shown));
        setView('table');
      } else if (key.escape) setView('table');
      else if (key.backspace || key.delete) setExportPath((s) => s.slice(0, -1));
      else if (input && !key.ctrl && !key.meta) setExportPath((s) => s + input);
      return;
    }
    if (input === 'q') {
      exit();
      return;
    }
    if (view !== 'table') {
      const lines = view === 'details' ? detailLines.length : view === 'diff' ? diff.length : 0;
      const maxScroll = Math.max(0, lines - bodyHeight);
      if (key.escape || key.return || key.backspace || key.delete || input === '?' || (view === 'help' && input === 'h')) setView('table');
      else if (key.upArrow) setScroll((s) => Math.max(0, s - 1));
      else if (key.downArrow) setScroll((s) => Math.min(maxScroll, s + 1));
      else if (key.pageUp) setScroll((s) => Math.max(0, s - bodyHeight));
      else if (key.pageDown || input === ' ') setScroll((s) => Math.min(maxScroll, s + bodyHeight));
      return;
    }
    if (key.upArrow || key.downArrow) {
      const next = shown[Math.max(0, Math.min(shown.length - 1, cursor + (key.upArrow ? -1 : 1)))];
      if (next) setSelectedId(next.id);
    } else if (key.leftArrow || key.rightArrow) {
      const i = sortKey === null ? -1 : columns.findIndex((c) => c.key === sortKey);
      const n = columns.length;
      const j = key.rightArrow ? (i + 1) % n : i <= 0 ? n - 1 : i - 1;
      sortBy(columns[j].key);
    } else if (input === 'r') setDescending((d) => !d);
    else if (input === 'f') {
      setFeasibleOnly((f) => !f);
      setMessage(feasibleOnly ? 'showing every plan' : 'showing only plans that fit in HBM');
    } else if (key.return) {
      if (selected) {
        setScroll(0);
        setView('details');
      }
    } else if (input === ' ') {
      if (selected) setMarked((m) => (m.includes(selected.id) ? m.filter((x) => x !== selected.id) : [...m, selected.id].slice(-2)));
    } else if (input === 'd') {
      if (marked.length === 2) {
        setScroll(0);
        setView('diff');
      } else setMessage('mark two plans with Space, then press d');
    } else if (input === 'e') setView('export');
    else if (input === '?') setView('help');
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
  if (view === 'details' && selected) body = <StyledLines lines={detailLines} offset={scroll} height={bodyHeight} width={size.columns} />;
  else if (view === 'diff') body = <StyledLines lines={diff} offset={scroll} height={bodyHeight} width={size.columns} />;
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
    <Box flexDirection="column" width={size.columns}>
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
  const app = render(<CompareApp {...props} />, { exitOnCtrlC: true });
  return {
    update: (p) => app.rerender(<CompareApp {...p} />),
    waitUntilExit: () => app.waitUntilExit(),
    exit: () => {
      app.clear();
      app.unmount();
    },
  };
}
