// Formats bench reports as a table: a row per figure, a column per runtime. Shared by run.mjs (plain JS, so
// Node runs it without a loader) and src/lib/harness.ts (a bench run alone prints the same table, one column).

/**
 * A figure as the table prints it: MB/s, MB/CPU-s and MiB with one decimal below 100, ratios with two decimals below
 * 10 and one above, counts per second grouped in thousands, n/a for none; then PASS or FAIL when it has a target
 * (reached at or above it, or at or below it with `lowerIsBetter`).
 */
export function formatValue(row) {
  if (row.value === null) return 'n/a';
  let text;
  if (row.unit === 'MB/s' || row.unit === 'MB/CPU-s' || row.unit === 'MiB')
    text = row.value < 100 ? row.value.toFixed(1) : row.value.toFixed(0);
  else if (row.unit === '×') text = row.value < 10 ? row.value.toFixed(2) : row.value.toFixed(1);
  else text = Math.round(row.value).toLocaleString('en-US');
  if (row.target === undefined) return text;
  const pass = row.lowerIsBetter ? row.value <= row.target : row.value >= row.target;
  return `${text} ${pass ? 'PASS' : 'FAIL'}`;
}

function layout(lines) {
  const widths = lines[0].map((_, column) => Math.max(...lines.map((line) => line[column].length)));
  return lines
    .map((line) =>
      line
        .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * The table for one bench: figures in the order they were reported, a column per runtime headed by its name and
 * version, notes as numbered footnotes, and a line per runtime that failed.
 */
export function renderTable(bench, results) {
  const names = [];
  const units = new Map();
  for (const { report } of results) {
    for (const row of report?.rows ?? []) {
      if (!units.has(row.name)) names.push(row.name);
      units.set(row.name, row.unit);
    }
  }
  const notes = [];
  const header = [bench, 'unit', ...results.map((r) => (r.report ? `${r.runtime} ${r.report.version}` : r.runtime))];
  const lines = [header];
  for (const name of names) {
    const cells = results.map(({ report }) => {
      const row = report?.rows.find((r) => r.name === name);
      if (!row) return report ? '' : 'failed';
      let cell = formatValue(row);
      if (row.note) {
        let index = notes.indexOf(row.note);
        if (index < 0) index = notes.push(row.note) - 1;
        cell += ` [${index + 1}]`;
      }
      return cell;
    });
    lines.push([name, units.get(name), ...cells]);
  }
  const out = [layout(lines), ...notes.map((note, i) => `[${i + 1}] ${note}`)];
  for (const { runtime, error } of results) if (error) out.push(`${runtime} failed: ${error}`);
  return `${out.join('\n')}\n`;
}
