// Plain-text table for the human summary (stderr) and a Markdown variant for docs/benchmarks.md.
export type Cell = string | number;

function cellText(c: Cell): string {
  return typeof c === 'number' ? c.toLocaleString('en-US') : c;
}

export function textTable(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const all = [header.map(cellText), ...rows.map((r) => r.map(cellText))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(all[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

export function markdownTable(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const line = (r: readonly string[]): string => `| ${r.map(esc).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map((r) => line(r.map(cellText)))].join('\n');
}
