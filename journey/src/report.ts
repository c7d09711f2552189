/**
 * The journey's report: report.md (the timeline, per-phase request rate, latency and error rate, the outbox, the
 * backfill, the validations, the shadow reads, the replay, what went wrong) and chart.svg (requests/s, p50/p99 and the
 * outbox depth over the whole journey, the phase changes marked).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FaultRecord } from "./faults.ts";
import type { LoadSummary } from "./processes.ts";
import type { JourneyOptions, OutboxSample, TimelineEvent, ValidationJson } from "./types.ts";

/** One second of the load, as load.mjs writes it. */
export interface Second {
  t: number;
  ok: number;
  client: number;
  server: number;
  errors: number;
  p50: number;
  p99: number;
}

export interface JourneyReport {
  options: Omit<JourneyOptions, "say"> & { say: undefined };
  started: number;
  loadStarted: number;
  events: TimelineEvent[];
  seconds: Second[];
  control: { summary: LoadSummary; seconds: Second[] } | undefined;
  summary: LoadSummary;
  outbox: OutboxSample[];
  backfills: Array<{ state: string; written: number; itemsPerSecond: number; rejected: number; errors: number }>;
  /** In the order they ran. */
  validations: Array<{ phase: number; report: ValidationJson }>;
  /** Each stay in phase 3 going forward. */
  shadows: Array<{
    comparisons: number;
    mismatches: number;
    errors: number;
    timeouts: number;
    minComparisons: number;
    /** Differences that agreed when read again (a write crossed the two reads). */
    settled: number;
  }>;
  /** The load's log read back: in phase 1 after the way back (MySQL), in phase 5 at the end (DynamoDB). */
  replays: Array<{
    phase: number;
    orders: number;
    cancels: number;
    users: number;
    emailChanges: number;
    missing: number;
  }>;
  /** Each fault, with the failed requests within its window (by "step status"). */
  faults: Array<FaultRecord & { cost: Record<string, number> }>;
  steps: Array<{ args: string[]; code: number; seconds: number }>;
  problems: string[];
}

interface Span {
  name: string;
  from: number;
  to: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : (sorted[Math.floor(sorted.length / 2)] ?? 0);
};
const fixed = (value: number, digits = 1) => value.toFixed(digits);

/** The load's seconds summed: requests/s, the share that failed, median p50 and p99 of the seconds. */
function aggregate(seconds: Second[]): { rate: number; failed: number; errorRate: number; p50: number; p99: number } {
  const total = seconds.reduce((sum, s) => sum + s.ok + s.client + s.server + s.errors, 0);
  const failed = seconds.reduce((sum, s) => sum + s.client + s.server + s.errors, 0);
  return {
    rate: seconds.length === 0 ? 0 : total / seconds.length,
    failed,
    errorRate: total === 0 ? 0 : failed / total,
    p50: median(seconds.map((s) => s.p50)),
    p99: median(seconds.map((s) => s.p99)),
  };
}

/** The phases' spans, from the timeline's phase events (each lasts until the next; the last until the load's end). */
function phaseSpans(report: JourneyReport): Span[] {
  const phases = report.events.filter((e) => e.kind === "phase");
  const end = (report.seconds.at(-1)?.t ?? report.loadStarted / 1000) * 1000 + 1000;
  return phases.map((e, i) => ({
    name: e.text.replace(/:.*$/, ""),
    from: e.at,
    to: phases[i + 1]?.at ?? end,
  }));
}

/** The span's seconds, a second with no answer at all counted as one (a stall is not averaged away). */
function within(seconds: Second[], span: Span): Second[] {
  const byT = new Map(seconds.map((s) => [s.t, s]));
  const out: Second[] = [];
  for (let t = Math.ceil(span.from / 1000); t * 1000 < span.to; t++) {
    out.push(byT.get(t) ?? { t, ok: 0, client: 0, server: 0, errors: 0, p50: 0, p99: 0 });
  }
  return out;
}

export function writeReport(out: string, report: JourneyReport): string {
  const spans = phaseSpans(report);
  const lines: string[] = [];
  const o = report.options;
  lines.push(
    `# ferry journey: ${report.problems.length === 0 ? "every promise kept" : `${report.problems.length} problem${report.problems.length === 1 ? "" : "s"}`}`,
    "",
    `Started ${new Date(report.started).toISOString()}; seed: ${o.users.toLocaleString("en-US")} users, ${o.products.toLocaleString("en-US")} products, ${o.orders.toLocaleString("en-US")} orders (seed ${o.seed}); ${o.stores} store processes, ${o.connections} load connections each (autocannon, another process)${o.rate === undefined ? "" : `, at ${o.rate} requests/s in all`}; ${o.phaseSeconds} s per phase.`,
    "",
    "![requests/s, latency and outbox depth over the journey](chart.svg)",
    "",
  );
  if (report.problems.length > 0) lines.push("## Problems", "", ...report.problems.map((p) => `- ${p}`), "");
  if (report.faults.length > 0) {
    lines.push(
      "## Faults",
      "",
      "Each at a random moment of its phase. Its window runs from the fault until the server answers again (or the worker has been replaced), plus 5 s for the load's connections to come back; what failed in it is its cost, and nothing may fail outside one.",
      "",
      "| fault | phase | at (s) | window (s) | failed requests in its window |",
      "| --- | --- | ---: | ---: | --- |",
    );
    for (const fault of report.faults) {
      const cost = Object.entries(fault.cost)
        .map(([kind, count]) => `${kind}: ${count}`)
        .join(", ");
      lines.push(
        `| ${fault.name}${fault.note === "" ? "" : ` (${fault.note})`} | ${fault.phase} | ${fixed((fault.from - report.started) / 1000)} | ${fixed((fault.to - fault.from) / 1000)} | ${cost === "" ? "none" : cost} |`,
      );
    }
    lines.push("");
  }
  lines.push("## Timeline", "", "| at (s) | what | |", "| ---: | --- | --- |");
  for (const e of report.events) {
    lines.push(`| ${fixed((e.at - report.started) / 1000)} | ${e.kind} | ${e.text.replaceAll("|", "\\|")} |`);
  }
  lines.push(
    "",
    "## The load, phase by phase",
    "",
    "Latencies are the median of the per-second p50 and p99 (every answer, in ms); failed: answers other than 2xx, connection errors and timeouts.",
    "",
    "| phase | seconds | requests/s | p50 ms | p99 ms | failed | error rate |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  const row = (name: string, seconds: Second[]) => {
    const a = aggregate(seconds);
    lines.push(
      `| ${name} | ${seconds.length} | ${fixed(a.rate)} | ${fixed(a.p50, 2)} | ${fixed(a.p99, 2)} | ${a.failed} | ${(a.errorRate * 100).toFixed(3)}% |`,
    );
  };
  if (report.control) row("control run (phase 1, no migration)", report.control.seconds);
  for (const span of spans) row(span.name, within(report.seconds, span));
  row("the whole journey", report.seconds);
  lines.push("", "Answers by step (journey; control run in brackets):", "", "| step | answers |", "| --- | --- |");
  for (const [step, answers] of Object.entries(report.summary.steps)) {
    const control = report.control?.summary.steps[step] ?? {};
    const text = Object.entries(answers)
      .map(([status, count]) => `${status}: ${count}${report.control ? ` (${control[status] ?? 0})` : ""}`)
      .join(", ");
    lines.push(`| ${step} | ${text} |`);
  }
  lines.push(
    "",
    `Connection errors: ${report.summary.errors}; timeouts: ${report.summary.timeouts}${report.control ? ` (control run: ${report.control.summary.errors}, ${report.control.summary.timeouts})` : ""}.`,
    "",
    "## The outbox",
    "",
    "| phase | deepest | at the end |",
    "| --- | ---: | ---: |",
  );
  for (const span of spans) {
    const samples = report.outbox.filter((s) => s.at >= span.from && s.at < span.to);
    lines.push(`| ${span.name} | ${Math.max(0, ...samples.map((s) => s.depth))} | ${samples.at(-1)?.depth ?? "-"} |`);
  }
  lines.push("", "## Backfill, validation, shadow reads, replay", "");
  for (const backfill of report.backfills) {
    lines.push(
      `- Backfill: ${backfill.state}; ${backfill.written.toLocaleString("en-US")} rows written, ${Math.round(backfill.itemsPerSecond).toLocaleString("en-US")} items/s, ${backfill.rejected} rejected, ${backfill.errors} errors (under the load).`,
    );
  }
  for (const { phase, report: v } of report.validations) {
    lines.push(
      `- Validation in phase ${phase} (full, under the load): ${v.clean ? "clean" : `${v.totals.differences} differences`}; ${v.totals.rows.toLocaleString("en-US")} rows, ${v.totals.items.toLocaleString("en-US")} items, ${v.totals.markers.toLocaleString("en-US")} markers. Rows per entity: ${v.entities.map((e) => `${e.entity} ${e.rows.toLocaleString("en-US")}`).join(", ")}.`,
    );
  }
  for (const shadow of report.shadows) {
    lines.push(
      `- Shadow reads in phase 3: ${shadow.comparisons.toLocaleString("en-US")} compared (the 3 -> 4 guard rail needs ${shadow.minComparisons.toLocaleString("en-US")}), ${shadow.mismatches} mismatched, ${shadow.errors} errors, ${shadow.timeouts} timeouts; ${shadow.settled} differed for a moment and agreed when read again (a write crossed the two reads: not a mismatch).`,
    );
  }
  for (const replay of report.replays) {
    lines.push(
      `- Replay of the load's log in phase ${replay.phase} (${replay.phase === 1 ? "MySQL, after the way back" : "DynamoDB"}): ${replay.orders.toLocaleString("en-US")} orders the store said it placed, ${replay.cancels.toLocaleString("en-US")} cancels it confirmed, ${replay.users.toLocaleString("en-US")} shoppers it registered with the email each must have (${replay.emailChanges.toLocaleString("en-US")} changes it confirmed); ${replay.missing} missing or wrong.`,
    );
  }
  lines.push(
    "",
    "## The commands",
    "",
    "| command | exit | seconds |",
    "| --- | ---: | ---: |",
    ...report.steps.map(
      (s) => `| \`ferry ${s.args.join(" ").replaceAll("|", "\\|")}\` | ${s.code} | ${fixed(s.seconds)} |`,
    ),
    "",
  );
  writeFileSync(join(out, "chart.svg"), chart(report, spans));
  writeFileSync(join(out, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  const file = join(out, "report.md");
  writeFileSync(file, lines.join("\n"));
  return file;
}

const escapeXml = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

/** Three panels over one time axis: requests/s, p50 and p99 (ms), outbox depth; the phase changes as lines. */
function chart(report: JourneyReport, spans: Span[]): string {
  const width = 960;
  const left = 60;
  const right = 20;
  const panel = 150;
  const gap = 40;
  const top = 30;
  const height = top + 3 * (panel + gap);
  const start = report.loadStarted;
  const end = Math.max(start + 1000, ...report.seconds.map((s) => s.t * 1000 + 1000));
  const x = (at: number) => left + ((at - start) / (end - start)) * (width - left - right);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
  ];
  const series = (
    index: number,
    title: string,
    lines: Array<{ color: string; label: string; points: Array<[number, number]> }>,
  ) => {
    const y0 = top + index * (panel + gap);
    const max = Math.max(1, ...lines.flatMap((l) => l.points.map(([, v]) => v)));
    const y = (v: number) => y0 + panel - (v / max) * panel;
    parts.push(
      `<text x="${left}" y="${y0 - 8}" font-weight="bold">${escapeXml(title)}</text>`,
      `<line x1="${left}" y1="${y0 + panel}" x2="${width - right}" y2="${y0 + panel}" stroke="#999"/>`,
      `<line x1="${left}" y1="${y0}" x2="${left}" y2="${y0 + panel}" stroke="#999"/>`,
      `<text x="${left - 6}" y="${y0 + 4}" text-anchor="end">${escapeXml(max.toFixed(max < 10 ? 1 : 0))}</text>`,
      `<text x="${left - 6}" y="${y0 + panel}" text-anchor="end">0</text>`,
    );
    lines.forEach((line, i) => {
      if (line.points.length > 0) {
        const d = line.points.map(([at, v], j) => `${j === 0 ? "M" : "L"}${x(at).toFixed(1)},${y(v).toFixed(1)}`);
        parts.push(`<path d="${d.join("")}" fill="none" stroke="${line.color}" stroke-width="1.5"/>`);
      }
      parts.push(
        `<rect x="${width - right - 150 + i * 75}" y="${y0 - 18}" width="10" height="10" fill="${line.color}"/>`,
        `<text x="${width - right - 136 + i * 75}" y="${y0 - 9}">${escapeXml(line.label)}</text>`,
      );
    });
    spans.forEach((span, i) => {
      const at = x(span.from);
      parts.push(`<line x1="${at}" y1="${y0}" x2="${at}" y2="${y0 + panel}" stroke="#c33" stroke-dasharray="4 3"/>`);
      // "phase N" only, staggered: phases a few seconds apart must not write over each other.
      const label = /^phase \d/.exec(span.name)?.[0] ?? span.name;
      if (index === 0)
        parts.push(`<text x="${at + 3}" y="${y0 + 12 + (i % 2) * 12}" fill="#c33">${escapeXml(label)}</text>`);
    });
  };
  const at = (s: Second) => s.t * 1000 + 500;
  series(0, "requests/s (all answers)", [
    { color: "#2563eb", label: "answered", points: report.seconds.map((s) => [at(s), s.ok + s.client + s.server]) },
    { color: "#dc2626", label: "failed", points: report.seconds.map((s) => [at(s), s.client + s.server + s.errors]) },
  ]);
  series(1, "latency (ms)", [
    { color: "#16a34a", label: "p50", points: report.seconds.map((s) => [at(s), s.p50]) },
    { color: "#9333ea", label: "p99", points: report.seconds.map((s) => [at(s), s.p99]) },
  ]);
  series(2, "outbox depth (all store processes)", [
    {
      color: "#ea580c",
      label: "entries",
      points: report.outbox.filter((s) => s.at >= start).map((s) => [s.at, s.depth]),
    },
  ]);
  const seconds = Math.round((end - start) / 1000);
  for (let t = 0; t <= seconds; t += Math.max(10, Math.ceil(seconds / 10 / 10) * 10)) {
    parts.push(`<text x="${x(start + t * 1000)}" y="${height - 8}" text-anchor="middle">${t} s</text>`);
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
