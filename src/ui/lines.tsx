/** Styled lines (from src/report/compare.ts) as Ink text: one <Text> per line, a colour per style. */
import { Box, Text } from 'ink';
import type { Line, Style } from '../report/compare-views.js';

/** Ink props of each style: the only place the screen's colours are chosen. */
export const STYLE: Record<Style, { color?: string; bold?: boolean; dimColor?: boolean }> = {
  head: { bold: true },
  good: { color: 'green' },
  bad: { color: 'red', bold: true },
  dim: { dimColor: true },
  changed: { color: 'yellow', bold: true },
  key: { color: 'cyan' },
};

/** Lines `offset` to `offset + height` of a list, each cut at the terminal's width. */
export function StyledLines({ lines, offset = 0, height }: { lines: readonly Line[]; offset?: number; height: number }) {
  return (
    <Box flexDirection="column">
      {lines.slice(offset, offset + height).map((line, i) => (
        <Text key={offset + i} wrap="truncate-end">
          {line.length === 0 ? ' ' : line.map((s, j) => <Text key={j} {...(s.style ? STYLE[s.style] : {})}>{s.text}</Text>)}
        </Text>
      ))}
    </Box>
  );
}
