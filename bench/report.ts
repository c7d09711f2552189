import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

export interface BenchReport {
  name: string;
  /** One row per measurement; the same keys in every row. */
  rows: Row[];
  /** Goals and whether they held, e.g. { "rows/s >= 100k": true }. */
  goals?: Record<string, boolean>;
  notes?: string[];
}

function format(cell: Cell): string {
  if (typeof cell === "number") {
    if (Number.isInteger(cell)) return cell.toLocaleString("en-US");
    return cell.toLocaleString("en-US", { maximumFractionDigits: 3 });
  }
  return cell === null ? "-" : String(cell);
}

/** Prints the report as a table and writes it as JSON to bench/results/<name>.json. */
export function publish(report: BenchReport): string {
  const columns = [...new Set(report.rows.flatMap((row) => Object.keys(row)))];
  const cells = report.rows.map((row) => columns.map((column) => format(row[column] ?? null)));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (values: string[]) =>
    values.map((value, i) => (i === 0 ? value.padEnd(widths[i] ?? 0) : value.padStart(widths[i] ?? 0))).join("  ");
  const out = [`\n${report.name}`, line(columns), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)];
  for (const [goal, held] of Object.entries(report.goals ?? {})) out.push(`${held ? "PASS" : "MISS"}  ${goal}`);
  for (const note of report.notes ?? []) out.push(`note  ${note}`);
  console.log(out.join("\n"));

  const file = join(dirname(fileURLToPath(import.meta.url)), "results", `${report.name}.json`);
  mkdirSync(dirname(file), { recursive: true });
  const machine = { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  writeFileSync(file, `${JSON.stringify({ ...report, machine, at: new Date().toISOString() }, null, 2)}\n`);
  console.log(`\nwritten: ${file}`);
  return file;
}
