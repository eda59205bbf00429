/** The key reference (`?`) and the footer's one-line summary. */
import { Box, Text } from 'ink';
import { COLUMNS } from '../report/compare.js';

/** The footer: every key, always shown under the table. */
export const KEYS = '↑↓ select · ←→/letter sort · r reverse · f fits only · Enter details · Space mark · d diff · e export · ? help · q quit';

const ROWS: [string, string][] = [
  ['↑ / ↓', 'select a plan'],
  ['← / →', 'sort by the previous / next column (again: reverse)'],
  ['r', 'reverse the sort'],
  ['f', 'show only plans that fit in HBM (again: all)'],
  ['Enter', 'details: memory and step breakdown, pipeline timeline, finish-time histogram, interruptions'],
  ['Space', 'mark the plan (two at most); d diffs the two marked plans'],
  ['e', 'export the table as CSV and JSON (beside the first scenario, or a path you type)'],
  ['?', 'this help; Esc or Enter goes back from any view'],
  ['q', 'quit'],
];

export function HelpView() {
  return (
    <Box flexDirection="column">
      {ROWS.map(([k, d]) => (
        <Text key={k}>
          <Text color="cyan">{k.padEnd(8)}</Text>
          {d}
        </Text>
      ))}
      <Text> </Text>
      <Text bold>Sort letters</Text>
      <Text wrap="wrap">{COLUMNS.map((c) => `${c.letter} ${c.header}`).join(' · ')}</Text>
      <Text dimColor wrap="wrap">* best value among plans that fit; values whose intervals overlap the best are marked too</Text>
    </Box>
  );
}
