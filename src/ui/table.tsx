/** The comparison table: one row per plan, the chosen columns, best values and the memory bar coloured. */
import { Box, Text } from 'ink';
import { cellText, memoryBar, pendingText, planValues, MEMORY_BAR_CELLS, type Column, type ColumnKey, type ComparePlan } from '../report/compare.js';
import { STYLE } from './lines.js';

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

/** One cell: the value, the memory bar (red over HBM), the best marker. */
function Cell({ plan, col, width, best }: { plan: ComparePlan; col: Column; width: number; best: boolean }) {
  const right = col.better !== undefined;
  const textValue = cellText(plan, col);
  if (col.key === 'memoryPerGpuBytes' && planValues(plan)) {
    const barText = memoryBar(plan, MEMORY_BAR_CELLS);
    const fits = planValues(plan)!.feasible;
    return (
      <Text>
        {' '}
        <Text {...(best ? STYLE.good : {})} bold={best}>{pad(textValue, width - barText.length - 1, true)}</Text>
        {' '}
        <Text color={fits ? 'green' : 'red'}>{barText}</Text>
      </Text>
    );
  }
  return (
    <Text>
      {' '}
      <Text color={best ? 'green' : undefined} bold={best}>{pad(textValue + (best ? '*' : right ? ' ' : ''), width, right)}</Text>
    </Text>
  );
}

export function CompareTable(props: TableProps) {
  const { plans, columns, widths } = props;
  const rows = plans.slice(props.offset, props.offset + props.height);
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        {'  '}
        {columns.map((c) => {
          const arrow = props.sortKey === c.key ? (props.descending ? '▼' : '▲') : '';
          const right = c.better !== undefined;
          const label = right ? arrow + c.header : c.header + arrow;
          return (
            <Text key={c.key} bold underline={props.sortKey === c.key}>
              {' '}
              {pad(label, widths.get(c.key)!, right)}
            </Text>
          );
        })}
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
              ? columns.map((c) => <Cell key={c.key} plan={p} col={c} width={widths.get(c.key)!} best={props.best.get(c.key)?.has(p.id) ?? false} />)
              : ` ${cellText(p, columns[0]).padEnd(widths.get(columns[0].key)!)} ${pendingText(p)}`}
          </Text>
        );
      })}
    </Box>
  );
}
