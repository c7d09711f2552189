import { ContractError, formatContractErrors, loadValidContract } from "@ferry/contract";
import type { Difference, RepairOutcome, ValidationOutcome } from "@ferry/runtime";
import { createMysqlPool } from "@ferry/stack";
import { MultiBar, Presets } from "cli-progress";
import { Command } from "commander";
import { note, printError, say } from "../output.ts";
import { storeConnections, withStoreConnections } from "../store-connections.ts";

interface ValidateCommandOptions {
  contract: string;
  entities?: string;
  sample?: string;
  json?: boolean;
  repair?: boolean;
  recheckMs?: string;
  parallel?: string;
  who?: string;
  quiet?: boolean;
  mysqlUrl?: string;
  database?: string;
  prefix?: string;
  dynamodbEndpoint?: string;
}

/**
 * Differences shown per entity in the table view. The report keeps the first 20 per entity (every one is counted), and
 * JSON shows those 20; the repair works on every difference found, not only those kept.
 */
const SHOWN = 5;

/** An operator's mistake or a store that is not there: exit code 2, one message, nothing recorded. */
class UsageError extends Error {}

export function validateCommand(): Command {
  return withStoreConnections(new Command("validate"))
    .description("compare MySQL's rows with DynamoDB's items and unique markers; optionally repair what differs")
    .requiredOption("--contract <file>", "the contract both stores follow")
    .option("--entities <names>", "only these entities, comma-separated (default: all)")
    .option("--sample <fraction>", "check a random fraction of the rows, more than 0 and at most 1 (default 1)")
    .option("--json", "print the report as JSON")
    .option("--repair", "re-sync every difference from the authoritative store, then validate those keys again")
    .option("--recheck-ms <n>", "wait this long before reading a difference again (default 1500)")
    .option("--parallel <n>", "DynamoDB scan segments read at once (default 4)")
    .option("--who <name>", "who runs it, for the report (default: $USER)")
    .option("-q, --quiet", "no progress bars")
    .addHelpText(
      "after",
      `
For each entity: every row (or a --sample of them) is read from MySQL in key order, and the items the
live path would write for it (the item, one marker per unique value its key does not enforce) are read from DynamoDB; then
DynamoDB's items and markers of the entity are scanned for those without a row (with --sample, a
random part of the scan's segments, about the same fraction). A difference is read again on both sides
after --recheck-ms and reported only if it still differs: a write on its way to the second store is not
one. Denormalised copies are not compared (the live path leaves them as they were when written).
The report is kept in the control table; a validation of every entity and every row records its result
for the 3 -> 4 guard rail (ferry phase set 4), and so does any validation that finds differences.

--repair copies each differing key from the authoritative store (MySQL in phases 1-3, DynamoDB in 4)
with the same conditional writes as the outbox's replays, puts back lost unique markers and deletes
orphan ones on condition that their owner is as read; then it validates the repaired keys again.
The repair joins the fleet (a heartbeat as "ferry-cli"), so a phase move waits for the key being
repaired; it stops, and lists what it did not attempt, if the phase moves to 5.
Run a full validation afterwards for the guard rail.

Exit codes:
  0  no differences (with --repair: none left after the repair)
  1  differences found (with --repair: some could not be repaired)
  2  the contract, an option, an entity or a table is wrong, a store cannot be reached, or --repair
     in phase 5; nothing validated or recorded

Examples:
  pnpm ferry validate --contract contract/store.yaml
  pnpm ferry validate --contract contract/store.yaml --entities User,Product --sample 0.1 --json
  pnpm ferry validate --contract contract/store.yaml --repair`,
    )
    .action(async (options: ValidateCommandOptions) => {
      try {
        process.exitCode = await run(options);
      } catch (error) {
        printError(error);
        process.exitCode = 2;
      }
    });
}

async function run(options: ValidateCommandOptions): Promise<number> {
  const sample = fraction(options.sample);
  const recheckMs = whole("--recheck-ms", options.recheckMs, 0, 600_000);
  const parallel = whole("--parallel", options.parallel, 1, 1000);
  let contract: Awaited<ReturnType<typeof loadValidContract>>;
  try {
    contract = await loadValidContract(options.contract);
  } catch (error) {
    if (error instanceof ContractError) {
      process.stderr.write(`${formatContractErrors(error.issues)}\n`);
      return 2;
    }
    throw error;
  }
  const entities = options.entities
    ?.split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  const known = Object.keys(contract.entities);
  for (const entity of entities ?? []) {
    if (!known.includes(entity))
      throw new UsageError(`the contract has no entity '${entity}' (it has ${known.join(", ")})`);
  }
  const { CachedPhase, createCodec, PhaseStore, repair, validate } = await import("@ferry/runtime");
  const { mysqlUrl, tablePrefix, client } = storeConnections(options);
  // A repair is a write of the fleet: this process joins it (a CachedPhase with its heartbeat, as `ferry outbox drain`)
  // before anything is read, so a move of the authoritative store waits for the key being repaired, and a repair the
  // phase refuses is refused before validating or recording anything.
  const live = options.repair
    ? new CachedPhase(new PhaseStore(client, { tablePrefix }), {
        app: "ferry-cli",
        onError: (error) => note(`reading the phase failed; keeping the last one: ${String(error)}`),
      })
    : undefined;
  try {
    await live?.start();
  } catch (error) {
    client.destroy();
    throw error;
  }
  if (live !== undefined && live.phase() === 5) {
    await live.stop();
    client.destroy();
    throw new UsageError(
      "--repair: the phase is 5, MySQL is no longer written, so there is no authoritative copy to repair from; nothing was validated or recorded",
    );
  }
  const mysql = createMysqlPool(mysqlUrl, { connectionLimit: (parallel ?? 4) + 2 });
  // Only on a terminal: elsewhere cli-progress draws nothing, but its stop() would still write a line.
  const bars = options.quiet || options.json || !process.stderr.isTTY ? undefined : new Bars();
  const who = options.who ?? process.env.USER ?? "ferry";
  try {
    const services = { codec: createCodec(contract), mysql, client, tablePrefix };
    const outcome = await validate(services, {
      contract: options.contract,
      who,
      ...(entities === undefined ? {} : { entities }),
      ...(sample === undefined ? {} : { sample }),
      ...(recheckMs === undefined ? {} : { recheckMs }),
      ...(parallel === undefined ? {} : { parallel }),
      onProgress: (progress) => bars?.update(`${progress.entity} ${progress.stage}`, progress.done, progress.total),
    });
    let repaired: RepairOutcome | undefined;
    if (options.repair && outcome.differences.length > 0) {
      repaired = await repair(services, outcome, {
        who,
        ...(live === undefined ? {} : { phase: live }),
        onKey: (done, total) => bars?.update("repaired", done, total),
      });
    }
    bars?.stop();
    if (options.json) say(JSON.stringify(repaired?.report ?? outcome.report, null, 2));
    else printReport(outcome, repaired);
    if (repaired) return repaired.after.differences.length === 0 && repaired.failures.length === 0 ? 0 : 1;
    return outcome.report.clean ? 0 : 1;
  } finally {
    bars?.stop();
    await live?.stop();
    await mysql.end().catch(() => undefined);
    client.destroy();
  }
}

/**
 * A progress bar per entity's rows, per table's scan and for the repair, on stderr, drawn only on a terminal
 * (cli-progress stays silent otherwise), as `ferry backfill run` draws its bars.
 */
class Bars {
  private readonly multi = new MultiBar(
    {
      format: "  {label} {bar} {percentage}% | {value}/{total} | {speed}/s",
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    Presets.shades_classic,
  );
  private readonly bars = new Map<string, { bar: ReturnType<MultiBar["create"]>; started: number }>();
  private stopped = false;

  update(label: string, done: number, total: number): void {
    if (this.stopped) return;
    const entry = this.bars.get(label);
    const started = entry?.started ?? Date.now();
    const seconds = (Date.now() - started) / 1000;
    const payload = {
      label: label.padEnd(22),
      speed: Math.round(seconds > 0 ? done / seconds : 0).toLocaleString("en-US"),
    };
    if (entry === undefined)
      this.bars.set(label, { bar: this.multi.create(Math.max(total, 1), done, payload), started });
    else {
      entry.bar.setTotal(Math.max(total, 1));
      entry.bar.update(done, payload);
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.multi.stop();
  }
}

function printReport(outcome: ValidationOutcome, repaired: RepairOutcome | undefined): void {
  // Stored data (keys, marker ids, values, reasons) is never printed raw: control characters are escaped.
  const out = (text = "") => say(terminalSafe(text));
  const noteLine = (text: string) => note(terminalSafe(text));
  const { report } = outcome;
  const header = ["entity", "rows", "items", "matched", "missing", "extra", "mismatched"];
  const rows = report.entities.map((e) => [
    e.entity,
    ...[e.rows, e.items, e.matched, e.missing, e.extra, e.mismatched].map((n) => n.toLocaleString("en-US")),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    `  ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join("  ")}`;
  out(line(header));
  for (const row of rows) out(line(row));
  for (const entity of report.entities) {
    const differences = entity.differences.slice(0, SHOWN);
    if (differences.length === 0) continue;
    out("");
    const total = entity.missing + entity.extra + entity.mismatched + entity.unreadable;
    out(`${entity.entity}: ${total.toLocaleString("en-US")} ${total === 1 ? "difference" : "differences"}`);
    for (const difference of differences) for (const text of describe(difference)) out(text);
    if (total > differences.length) out(`  ... and ${(total - differences.length).toLocaleString("en-US")} more`);
  }
  const unclaimed = report.unclaimed;
  if (unclaimed !== undefined && unclaimed.count > 0) {
    out("");
    out(
      `items no entity claims: ${unclaimed.count.toLocaleString("en-US")} (not repaired: nothing says what they should be)`,
    );
    for (const item of unclaimed.items.slice(0, SHOWN))
      out(`  ${item.table} ${JSON.stringify(item.key)}: ${item.reason}`);
    if (unclaimed.count > Math.min(SHOWN, unclaimed.items.length)) {
      out(`  ... and ${(unclaimed.count - Math.min(SHOWN, unclaimed.items.length)).toLocaleString("en-US")} more`);
    }
  }
  out("");
  const settled = report.entities.reduce((sum, e) => sum + e.settled, 0);
  const scope = report.full ? "" : report.sample < 1 ? ` (a sample of ${report.sample})` : " (some entities)";
  out(
    `${report.clean ? "clean" : `${report.totals.differences.toLocaleString("en-US")} differences`}${scope}: ` +
      `${report.totals.rows.toLocaleString("en-US")} rows, ${report.totals.items.toLocaleString("en-US")} items, ` +
      `${report.totals.markers.toLocaleString("en-US")} markers in ${(report.durationMs / 1000).toFixed(1)} s ` +
      `(${report.itemsPerSecond.toLocaleString("en-US")}/s)` +
      (settled > 0 ? `; ${settled} in flight at first look, settled at the recheck` : ""),
  );
  out(`report ${report.id}`);
  if (report.guardRail?.recorded === false)
    out(`NOTE: ${report.guardRail.reason ?? "not recorded for the guard rail"}`);
  if (!repaired) return;
  const r = repaired.repair;
  out("");
  out(
    `repaired on ${r.target} (phase ${r.phase}): ${r.created} created, ${r.updated} updated, ${r.deleted} deleted, ` +
      `${r.markersRestored} markers put back, ${r.markersFreed} orphan markers deleted; ${r.failed} failed; ` +
      `${r.left} differences left among the repaired keys`,
  );
  if (r.phaseMoved !== undefined)
    out(`  the phase moved to ${r.phaseMoved} during the repair: later keys were repaired on its target`);
  if (r.stopped !== undefined) out(`  STOPPED: ${r.stopped}; ${r.skipped} not attempted`);
  for (const failure of repaired.failures.slice(0, SHOWN)) {
    out(`  FAILED ${failure.difference.entity} ${keyText(failure.difference.key)}: ${failure.reason}`);
  }
  if (r.left === 0 && r.failed === 0)
    noteLine("run `ferry validate` again for a full clean result the guard rail takes");
}

/** A difference as lines (each printed through terminalSafe). */
function describe(difference: Difference): string[] {
  const marker = difference.marker === undefined ? "" : ` marker ${difference.marker}`;
  const lines = [`  ${difference.kind.padEnd(14)} ${keyText(difference.key)}${marker}`];
  if (difference.reason !== undefined && difference.fields.length === 0) lines.push(`      ${difference.reason}`);
  const width = Math.max(0, ...difference.fields.map((f) => f.field.length));
  const shown = difference.fields.map((f) => show(f.mysql));
  const mysqlWidth = Math.max(0, ...shown.map((s) => s.length));
  for (const [index, field] of difference.fields.entries()) {
    lines.push(
      `      ${field.field.padEnd(width)}  mysql ${(shown[index] ?? "").padEnd(mysqlWidth)}  dynamodb ${show(field.dynamodb)}`,
    );
  }
  return lines;
}

function show(value: string | null): string {
  if (value === null) return "(absent)";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}..."` : text;
}

/** A report's key (bigints tagged as {"$bigint"}) as short text. */
function keyText(key: unknown): string {
  return JSON.stringify(key, (_name, value: unknown) => {
    if (value !== null && typeof value === "object" && "$bigint" in value)
      return (value as { $bigint: string }).$bigint;
    return value;
  });
}

/**
 * Text safe to print on a terminal: C0 and C1 control characters, DEL and the bidirectional overrides are shown as
 * \xNN or \uNNNN escapes, so that stored data cannot move the cursor, clear the screen or reorder what is shown.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const code = char.codePointAt(0) ?? 0;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point (to escape them).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

function fraction(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === "" || !(value > 0 && value <= 1)) {
    throw new UsageError(`--sample is a fraction of the rows, more than 0 and at most 1; got "${text}"`);
  }
  return value;
}

function whole(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || value < min || value > max) {
    throw new UsageError(`${name} is a whole number from ${min} to ${max}; got "${text}"`);
  }
  return value;
}
