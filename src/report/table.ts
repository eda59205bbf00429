/** Padded text tables: the one layout every text report's tables share. */

/**
 * Lines of a text table: each column as wide as its widest cell, the first `textColumns` columns
 * left-aligned and the rest (numbers) right-aligned, two spaces between columns and `indent` before.
 */
export function textTable(header: string[], rows: string[][], textColumns = 1, indent = '  '): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => indent + r.map((c, i) => (i < textColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)];
}
