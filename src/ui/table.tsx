/** The comparison table: one row per plan, the chosen columns, best values and the memory bar coloured. */
import { Box, Text } from 'ink';
import { cellText, memoryBar, pendingText, planValues, MEMORY_BAR_CELLS, type Column, type ColumnKey, type ComparePlan } from '../report/compare.js';

export interface TableProps {
  /** Rows in display order (already sorted and filtered). */
  plans: readonly ComparePlan[];
  columns: readonly Column[];
  widths: ReadonlyMap<ColumnKey, number>;
  best: ReadonlyMap<ColumnKey, ReadonlySet<number>>;
  sortKey: ColumnKey | null;
  descending: boolean;
  selectedId: number | undefined;
  marked: readonly number[];
  /** First row shown and how many (the table scrolls with the selection). */
  offset: number;
  height: number;
}

const pad = (s: string, w: number, right: boolean) => (right ? s.padStart(w) : s.padEnd(w));

/** A run of row text in one style (green and bold: a best value; red/green: the memory bar). */
interface Segment {
  text: string;
  color?: 'green' | 'red';
  bold?: boolean;
}

/** Appends text in a style, merging it into the previous run when the style is the same. */
function push(out: Segment[], text: string, color?: Segment['color'], bold?: boolean): void {
  const last = out[out.length - 1];
  if (last && last.color === color && last.bold === bold) last.text += text;
  else out.push({ text, color, bold });
}

/**
 * The cells of a row as a few styled runs: each cell is its value (padded, `*` on the best), and
 * the memory cell its bar (red over HBM). Ink lays out and measures every Text it is given, so a
 * row of a dozen runs re-renders several times faster than a row of a Text per cell.
 */
function rowSegments(plan: ComparePlan, columns: readonly Column[], widths: ReadonlyMap<ColumnKey, number>, best: ReadonlyMap<ColumnKey, ReadonlySet<number>>): Segment[] {
  const out: Segment[] = [];
  const v = planValues(plan);
  for (const col of columns) {
    const width = widths.get(col.key)!;
    const isBest = best.get(col.key)?.has(plan.id) ?? false;
    const right = col.better !== undefined;
    const textValue = cellText(plan, col);
    push(out, ' ');
    if (col.key === 'memoryPerGpuBytes' && v) {
      const barText = memoryBar(plan, MEMORY_BAR_CELLS);
      push(out, pad(textValue, width - barText.length - 1, true), isBest ? 'green' : undefined, isBest || undefined);
      push(out, ' ');
      push(out, barText, v.feasible ? 'green' : 'red');
    } else push(out, pad(textValue + (isBest ? '*' : right ? ' ' : ''), width, right), isBest ? 'green' : undefined, isBest || undefined);
  }
  return out;
}

/** The header as bold runs: the columns before the sort column, the sort column's label (underlined), the rest. */
function headerRuns(columns: readonly Column[], widths: ReadonlyMap<ColumnKey, number>, sortKey: ColumnKey | null, descending: boolean): { text: string; underline: boolean }[] {
  const runs: { text: string; underline: boolean }[] = [];
  for (const c of columns) {
    const sorted = sortKey === c.key;
    const arrow = sorted ? (descending ? '▼' : '▲') : '';
    const right = c.better !== undefined;
    const label = pad(right ? arrow + c.header : c.header + arrow, widths.get(c.key)!, right);
    // The sort column's run includes the space before it (as when each header was its own Text).
    const last = runs[runs.length - 1];
    if (sorted) runs.push({ text: ' ' + label, underline: true });
    else if (last && !last.underline) last.text += ' ' + label;
    else runs.push({ text: ' ' + label, underline: false });
  }
  return runs;
}

export function CompareTable(props: TableProps) {
  const { plans, columns, widths } = props;
  const rows = plans.slice(props.offset, props.offset + props.height);
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        {'  '}
        {headerRuns(columns, widths, props.sortKey, props.descending).map((r, i) => (
          <Text key={i} bold underline={r.underline}>
            {r.text}
          </Text>
        ))}
      </Text>
      {rows.map((p) => {
        const selected = p.id === props.selectedId;
        const marked = props.marked.includes(p.id);
        const v = planValues(p);
        const dim = !v && !p.error;
        return (
          <Text key={p.id} wrap="truncate-end" inverse={selected} dimColor={dim} color={p.error ? 'red' : undefined}>
            {selected ? '›' : ' '}
            {marked ? '•' : ' '}
            {v
              ? rowSegments(p, columns, widths, props.best).map((g, i) => (g.color === undefined && !g.bold ? g.text : <Text key={i} color={g.color} bold={g.bold}>{g.text}</Text>))
              : ` ${cellText(p, columns[0]).padEnd(widths.get(columns[0].key)!)} ${pendingText(p)}`}
          </Text>
        );
      })}
    </Box>
  );
}
