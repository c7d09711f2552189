import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where benchmarks write their reports: bench/results. */
export const RESULTS = join(dirname(fileURLToPath(import.meta.url)), "results");

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

/**
 * One goal of a benchmark: a figure it measured, the bound the figure must keep, and what the figure was measured
 * against. Whether it holds is worked out here, from the figure and the bound, never given.
 */
export interface Goal {
  /** What the figure is, e.g. "product page: phase 5 requests/s / phase 1's". */
  figure: string;
  value: number;
  /** Its unit, when it has one ("rows/s", "MB", "s", "x" for a ratio). */
  unit?: string;
  op: ">=" | ">" | "<=" | "<" | "=";
  bound: number;
  /** The figure's baseline, measured in the same run (e.g. "phase 1: 1,538 requests/s"); none for an absolute bound. */
  baseline?: string;
}

export interface JudgedGoal extends Goal {
  held: boolean;
}

export interface BenchReport {
  name: string;
  /** One row per measurement; the same keys in every row. */
  rows: Row[];
  goals?: Goal[];
  notes?: string[];
}

/** Whether `goal` held. */
export function held(goal: Goal): boolean {
  if (!Number.isFinite(goal.value)) return false;
  if (goal.op === ">=") return goal.value >= goal.bound;
  if (goal.op === ">") return goal.value > goal.bound;
  if (goal.op === "<=") return goal.value <= goal.bound;
  if (goal.op === "<") return goal.value < goal.bound;
  return goal.value === goal.bound;
}

/**
 * A figure as the tables show it: whole numbers grouped, others to at least 3 significant digits; "n/a" for one that
 * is not a number (a rate over nothing: its goal never holds).
 */
export function figure(value: number | null, unit?: string): string {
  if (value === null || !Number.isFinite(value)) return "n/a";
  const digits = Math.min(21, Math.max(3, Math.ceil(Math.log10(Math.abs(value) + 1))));
  const text = Number.isInteger(value)
    ? value.toLocaleString("en-US")
    : value.toLocaleString("en-US", { maximumSignificantDigits: digits });
  return unit === undefined ? text : unit === "x" ? `${text}x` : `${text} ${unit}`;
}

/** The goal's figure, with as many digits as it takes to tell it from the bound when they differ. */
function shownValue(goal: Goal): string {
  const shown = figure(goal.value, goal.unit);
  if (goal.value === goal.bound || shown !== figure(goal.bound, goal.unit)) return shown;
  const precise = goal.value.toPrecision(8).replace(/\.?0+$/, "");
  return goal.unit === undefined ? precise : goal.unit === "x" ? `${precise}x` : `${precise} ${goal.unit}`;
}

/** "figure: value (goal op bound; baseline)", as printed after PASS or MISS. */
export function describeGoal(goal: Goal): string {
  const base = goal.baseline === undefined ? "" : `; against ${goal.baseline}`;
  return `${goal.figure}: ${shownValue(goal)} (goal ${goal.op} ${figure(goal.bound, goal.unit)}${base})`;
}

function format(cell: Cell): string {
  if (typeof cell === "number") {
    if (Number.isInteger(cell)) return cell.toLocaleString("en-US");
    return cell.toLocaleString("en-US", { maximumFractionDigits: 3 });
  }
  return cell === null ? "-" : String(cell);
}

/** Prints the report as a table and writes it as JSON to <results>/<name>.json (bench/results unless told). */
export function publish(report: BenchReport, results = RESULTS): string {
  const columns = [...new Set(report.rows.flatMap((row) => Object.keys(row)))];
  const cells = report.rows.map((row) => columns.map((column) => format(row[column] ?? null)));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (values: string[]) =>
    values.map((value, i) => (i === 0 ? value.padEnd(widths[i] ?? 0) : value.padStart(widths[i] ?? 0))).join("  ");
  const out = [`\n${report.name}`, line(columns), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)];
  const goals: JudgedGoal[] = (report.goals ?? []).map((goal) => ({ ...goal, held: held(goal) }));
  for (const goal of goals) out.push(`${goal.held ? "PASS" : "MISS"}  ${describeGoal(goal)}`);
  for (const note of report.notes ?? []) out.push(`note  ${note}`);
  console.log(out.join("\n"));

  const file = join(results, `${report.name}.json`);
  mkdirSync(results, { recursive: true });
  const machine = { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  writeFileSync(file, `${JSON.stringify({ ...report, goals, machine, at: new Date().toISOString() }, null, 2)}\n`);
  console.log(`\nwritten: ${file}`);
  return file;
}

interface Published extends Omit<BenchReport, "goals"> {
  /** A figure that was not a number is null (JSON has no NaN). */
  goals: Array<Omit<JudgedGoal, "value"> & { value: number | null }>;
  machine: { cpus: number; memoryGiB: number; node: string };
  at: string;
}

/** What one benchmark of a `pnpm bench` run came to: its published report, or why there is none. */
export interface BenchOutcome {
  name: string;
  seconds: number;
  /** Set when the benchmark did not finish (it exited non-zero, or wrote no report). */
  failure?: string;
}

/** The report <results>/<name>.json holds, when it was written at or after `since`. */
export function readPublished(name: string, since: Date, results = RESULTS): Published | undefined {
  const file = join(results, `${name}.json`);
  try {
    const report = JSON.parse(readFileSync(file, "utf8")) as Published;
    return new Date(report.at) >= since ? report : undefined;
  } catch {
    return undefined;
  }
}

const cellText = (text: string) => text.replaceAll("|", "\\|");

/**
 * bench/results/summary.md: one table of every goal of every benchmark of the run (the figure, its baseline from the
 * same run, the goal, PASS or MISS), and the benchmarks that did not finish. Returns the file's path.
 */
export function writeSummary(
  outcomes: BenchOutcome[],
  since: Date,
  results = RESULTS,
): { file: string; unfinished: number } {
  const lines = [
    "# Benchmarks: summary",
    "",
    `\`pnpm bench\`, started ${since.toISOString().replace(/\.\d+Z$/, "Z")}; ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. Each benchmark measures its baseline in the same run (machines here are noisy: ratios, not absolute times); its own table and notes are in bench/results/<name>.json.`,
    "",
    "| benchmark | figure | value | baseline (same run) | goal | result |",
    "| --- | --- | ---: | --- | --- | --- |",
  ];
  const counts = { PASS: 0, MISS: 0 };
  const failed: string[] = [];
  for (const outcome of outcomes) {
    const report = outcome.failure === undefined ? readPublished(outcome.name, since, results) : undefined;
    if (report === undefined) {
      failed.push(`- **${outcome.name}** did not finish: ${outcome.failure ?? "it wrote no report"}`);
      lines.push(`| ${outcome.name} | (did not finish) | | | | MISS |`);
      counts.MISS += 1;
      continue;
    }
    for (const written of report.goals) {
      // JSON has no NaN: a figure that was not a number was written as null.
      const goal = { ...written, value: written.value ?? Number.NaN };
      const result = goal.held ? "PASS" : "MISS";
      counts[result] += 1;
      lines.push(
        `| ${outcome.name} | ${cellText(goal.figure)} | ${shownValue(goal)} | ${cellText(goal.baseline ?? "-")} | ${goal.op} ${figure(goal.bound, goal.unit)} | ${result} |`,
      );
    }
  }
  lines.push("", `${counts.PASS} PASS, ${counts.MISS} MISS.`);
  lines.push("", "| benchmark | seconds |", "| --- | ---: |");
  for (const outcome of outcomes) lines.push(`| ${outcome.name} | ${Math.round(outcome.seconds)} |`);
  if (failed.length > 0) lines.push("", ...failed);
  const file = join(results, "summary.md");
  mkdirSync(results, { recursive: true });
  writeFileSync(file, `${lines.join("\n")}\n`);
  return { file, unfinished: failed.length };
}
