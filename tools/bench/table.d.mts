// Types for table.mjs, which src/lib/harness.ts imports.
import type { BenchReport, BenchRow } from './src/lib/harness.ts';

/** One runtime's outcome for a bench: its report, or why there is none. */
export interface RuntimeResult {
  runtime: string;
  report?: BenchReport;
  error?: string;
}

export declare function formatValue(row: BenchRow): string;
export declare function renderTable(bench: string, results: RuntimeResult[]): string;
