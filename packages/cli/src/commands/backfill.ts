/**
 * `ferry backfill run | runs | status`: moves MySQL's existing rows into DynamoDB (docs/backfill.md). `run` opens a run
 * (or joins the open one), works on it until this worker's share is done, and shows a progress bar per entity (done /
 * total, items/s, ETA) read from the control table, so it counts every worker of the run; `runs` lists the runs and
 * their rejected rows; `status` shows the open one.
 *
 * Exit codes: 0 done (or, for runs/status, shown); 1 the run failed (too many rejected rows, the phase moved back) or
 * stopped on an error it could not get past (it resumes from its checkpoints when run again); 2 bad input or refused
 * (a contract that does not check, an unknown entity, an option out of range, phase 1): nothing written.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ContractError, formatContractErrors, loadValidContract } from "@ferry/contract";
import type { Codec, RunReport } from "@ferry/runtime";
import { createMysqlPool } from "@ferry/stack";
import { MultiBar, Presets } from "cli-progress";
import { Command, Option } from "commander";
import { wholeNumber } from "../options.ts";
import { note, printError, say } from "../output.ts";
import { storeConnections, withStoreConnections } from "../store-connections.ts";

interface ConnectionOptions {
  contract: string;
  mysqlUrl?: string;
  database?: string;
  prefix?: string;
  dynamodbEndpoint?: string;
}

interface RunOptions extends ConnectionOptions {
  entities?: string;
  resume?: boolean;
  rate?: number;
  segment?: string;
  totalSegments?: string;
  maxRejected?: number;
  pageRows?: number;
  leaseMs?: number;
  rowsPerSegment?: number;
  concurrency?: number;
  who?: string;
  quiet?: boolean;
  json?: boolean;
}

export function backfillCommand(): Command {
  const backfill = new Command("backfill").description(
    "move MySQL's existing rows into DynamoDB under live dual writes, resumably, and follow the runs",
  );

  withConnections(backfill.command("run"))
    .description("start a backfill run (or join the open one) and work on it until this worker's share is done")
    .option("--entities <names>", "only these entities, comma separated (default: every entity of the contract)")
    .option("--rate <items>", "items per second at most for this worker (markers included)", wholeNumber(1, 10_000_000))
    .option("--segment <i>", "this worker's share: segments whose number modulo --total-segments is i")
    .option("--total-segments <n>", "how many shares the run is split into (with --segment, or JOB_COMPLETION_INDEX)")
    .option("--max-rejected <n>", "fail the run once more rows than this were rejected", wholeNumber(0))
    .addOption(
      new Option("--page-rows <n>", "rows read and written per page").argParser(wholeNumber(1, 100_000)).hideHelp(),
    )
    .addOption(
      new Option("--rows-per-segment <n>", "rows per segment of a new run (default 50,000)")
        .argParser(wholeNumber(1))
        .hideHelp(),
    )
    .addOption(
      new Option("--lease-ms <ms>", "how long a silent worker keeps its segment")
        .argParser(wholeNumber(1001))
        .hideHelp(),
    )
    .addOption(
      new Option("--concurrency <n>", "BatchWriteItem requests in flight (default 8)").argParser(wholeNumber(1, 256)),
    )
    .option("--who <name>", "who starts it, for the run's record (default: the user name)")
    .option("--resume", "resume the open run when an operator stopped it (ferry backfill stop, or the console)")
    .option("-q, --quiet", "no progress bars")
    .option("--json", "print the run's report as JSON at the end")
    // An option out of range is bad input: exit 2, as every other refusal (commander's own code is 1).
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .addHelpText(
      "after",
      `
It starts only once every live process writes both stores (phase 2 or later on every heartbeat). Several
workers share a run: run the same command on other machines, or as a Kubernetes Indexed Job / AWS Batch
array job (the share is read from JOB_COMPLETION_INDEX + FERRY_TOTAL_SEGMENTS, or AWS_BATCH_JOB_ARRAY_INDEX
+ AWS_BATCH_JOB_ARRAY_SIZE). Killed, it resumes from its last checkpoint when run again.

Exit codes:
  0  this worker's share is done (the run is finished once every share is)
  1  the run failed, or this worker stopped on an error (run it again to resume)
  2  bad input or refused (phase 1, unknown entity, option out of range): nothing written`,
    )
    .action(async (options: RunOptions) => {
      await withServices(options, async ({ services, codec, contractName, runtime }) => {
        let share: ReturnType<typeof runtime.workerShare>;
        try {
          share = runtime.workerShare({ segment: options.segment, totalSegments: options.totalSegments });
        } catch (error) {
          return refuse(error);
        }
        const entities = options.entities
          ?.split(",")
          .map((name) => name.trim())
          .filter((name) => name !== "");
        try {
          runtime.checkRunOptions(codec, {
            ...(entities === undefined ? {} : { entities }),
            ...(options.rate === undefined ? {} : { rate: options.rate }),
          });
        } catch (error) {
          return refuse(error);
        }
        const ledger = new runtime.BackfillLedger(services.client, { tablePrefix: services.tablePrefix });
        const bars = options.quiet || options.json ? undefined : new Bars();
        let runId: string | undefined;
        let polling = false;
        const timer = setInterval(() => {
          if (runId === undefined || bars === undefined || polling) return;
          polling = true;
          ledger
            .progress(runId)
            .then(
              (report) => bars.show(report),
              () => {},
            )
            .finally(() => {
              polling = false;
            });
        }, 1000);
        // Ctrl-C or SIGTERM (a Kubernetes eviction): finish the page under way, record it, give the segment back.
        const controller = new AbortController();
        const stop = () => {
          if (controller.signal.aborted) process.exit(130);
          controller.abort();
          note("stopping after the page under way (again to stop at once); the run resumes from its checkpoints");
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
        try {
          const result = await runtime.runBackfill(services, {
            // The contract's name, not its path: workers elsewhere (and the console) join the run by it.
            contract: contractName,
            who: options.who ?? process.env.USER ?? "ferry-cli",
            ...(entities === undefined ? {} : { entities }),
            ...(options.rate === undefined ? {} : { rate: options.rate }),
            ...(options.maxRejected === undefined ? {} : { maxRejected: options.maxRejected }),
            ...(options.pageRows === undefined ? {} : { pageRows: options.pageRows }),
            ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
            ...(options.rowsPerSegment === undefined ? {} : { rowsPerSegment: options.rowsPerSegment }),
            ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
            ...(share === undefined ? {} : { share }),
            ...(options.resume ? { resume: true } : {}),
            signal: controller.signal,
            onPage: (event) => {
              if (runId === undefined) {
                runId = event.runId;
                if (!options.quiet && !options.json) note(`backfill run ${event.runId}`);
              }
            },
          });
          clearInterval(timer);
          bars?.show(result.report);
          bars?.stop();
          if (result.stopped !== undefined) {
            note(
              `stopped by ${result.stopped.who} at ${result.stopped.at}: backfill run ${result.runId} stays open; ` +
                "resume it with ferry backfill run --resume (or from the console)",
            );
            process.exitCode = 1;
          } else if (controller.signal.aborted && result.report.state === "running") {
            note(`stopped: backfill run ${result.runId} stays open; run the same command again to resume it`);
            process.exitCode = 1;
          }
          if (options.json) {
            say(JSON.stringify({ ...result }, bigintJson, 2));
            return;
          }
          say(
            `backfill run ${result.runId} ${result.joined ? "(joined) " : ""}${result.report.state}: this worker wrote ${count(result.written)} rows, ` +
              `skipped ${count(result.skipped)} already there, re-synced ${count(result.resynced)}, rejected ${count(result.rejected)}`,
          );
          say(reportTable([result.report]));
          if (result.report.state === "running") {
            say("other workers still hold segments of this run; it finishes when the last one is done");
          }
        } catch (error) {
          clearInterval(timer);
          bars?.stop();
          if (error instanceof runtime.BackfillRefused) return refuse(error);
          printError(error);
          process.exitCode = 1;
        }
      });
    });

  withConnections(backfill.command("runs"))
    .description("the backfill runs, newest first: who, when, state, per-entity counts, items/s, rejected rows")
    .option("--limit <n>", "how many runs (default 20)", wholeNumber(1, 1000))
    .option("--rejected", "also list each run's rejected rows with their keys and reasons")
    .option("--json", "print them as JSON")
    .action(async (options: ConnectionOptions & { limit?: number; rejected?: boolean; json?: boolean }) => {
      await withServices(options, async ({ services, runtime }) => {
        const ledger = new runtime.BackfillLedger(services.client, { tablePrefix: services.tablePrefix });
        const runs = await ledger.runs(options.limit ?? 20);
        const rejected = new Map<string, Awaited<ReturnType<typeof ledger.rejected>>>();
        if (options.rejected) for (const run of runs) rejected.set(run.id, await ledger.rejected(run.id));
        if (options.json) {
          say(
            JSON.stringify(
              runs.map((run) => ({ ...run, ...(options.rejected ? { rejectedRows: rejected.get(run.id) } : {}) })),
              bigintJson,
              2,
            ),
          );
          return;
        }
        if (runs.length === 0) {
          say("no backfill has run yet: start one with ferry backfill run");
          return;
        }
        say(reportTable(runs));
        for (const run of runs) {
          const rows = rejected.get(run.id);
          if (rows === undefined || rows.count === 0) continue;
          say("");
          say(
            `run ${run.id}: ${count(rows.count)} rejected rows${rows.count > rows.rows.length ? ` (the first ${rows.rows.length} kept)` : ""}`,
          );
          for (const row of rows.rows) say(`  ${row.entity} ${JSON.stringify(row.key, bigintJson)}  ${row.reason}`);
        }
      });
    });

  withConnections(backfill.command("stop"))
    .description("stop the open run for every worker: each gives its segment back after the page under way")
    .option("--who <name>", "who stops it, for the run's record (default: the user name)")
    .addHelpText(
      "after",
      `
The run stays open with its checkpoints. Workers see the stop within a third of their lease and end
(exit code 1); a worker started meanwhile is refused. Resume with: ferry backfill run --resume`,
    )
    .action(async (options: ConnectionOptions & { who?: string }) => {
      await withServices(options, async ({ services, runtime }) => {
        const ledger = new runtime.BackfillLedger(services.client, { tablePrefix: services.tablePrefix });
        const open = await ledger.current();
        if (open === undefined) {
          note("no backfill run is open: there is nothing to stop");
          process.exitCode = 2;
          return;
        }
        const stopped = await ledger.stop(open.id, options.who ?? process.env.USER ?? "ferry-cli");
        say(
          `backfill run ${stopped.id} stopped by ${stopped.stopped?.who} at ${stopped.stopped?.at}; ` +
            "resume it with ferry backfill run --resume",
        );
      });
    });

  withConnections(backfill.command("status"))
    .description("the open backfill run and its progress per entity (or the last one when none is open)")
    .option("--json", "print it as JSON")
    .action(async (options: ConnectionOptions & { json?: boolean }) => {
      await withServices(options, async ({ services, runtime }) => {
        const ledger = new runtime.BackfillLedger(services.client, { tablePrefix: services.tablePrefix });
        const current = (await ledger.current()) ?? (await ledger.runs(1))[0];
        if (options.json) {
          say(JSON.stringify(current ?? null, bigintJson, 2));
          return;
        }
        if (current === undefined) {
          say("no backfill has run yet: start one with ferry backfill run");
          return;
        }
        say(
          `${current.state === "running" ? "open run" : "no run is open; the last one"}: ${current.id}, started ${current.startedAt} by ${current.who}`,
        );
        say(reportTable([current]));
        say("");
        for (const entity of current.perEntity) {
          say(
            `  ${entity.entity.padEnd(14)} segments ${entity.segmentsDone}/${entity.segments} done` +
              `${entity.segmentsLeased > 0 ? `, ${entity.segmentsLeased} being worked on` : ""}, ` +
              `${count(entity.written + entity.skipped)} of ~${count(entity.rowsEstimated)} rows`,
          );
        }
        if (current.failure !== undefined) say(`failed: ${current.failure}`);
      });
    });

  return backfill;
}

/**
 * One progress bar per entity, on stderr, drawn only on a terminal (cli-progress stays silent otherwise). The counts
 * come from the control table, so they include every worker of the run; the speed is over the last ten seconds.
 */
class Bars {
  private readonly multi = new MultiBar(
    {
      format: "  {entity} {bar} {percentage}% | {value}/{total} rows | {speed} rows/s | {remaining}",
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    Presets.shades_classic,
  );
  private readonly bars = new Map<string, ReturnType<MultiBar["create"]>>();
  private readonly samples = new Map<string, Array<{ at: number; done: number }>>();

  show(report: RunReport): void {
    const width = Math.max(...report.perEntity.map((entity) => entity.entity.length));
    const now = Date.now();
    for (const entity of report.perEntity) {
      const finished = entity.segmentsDone === entity.segments;
      const done = entity.written + entity.skipped + entity.rejected;
      const total = Math.max(done, entity.rowsEstimated, 1);
      const samples = this.samples.get(entity.entity) ?? [];
      samples.push({ at: now, done });
      while (samples.length > 2 && now - (samples[0]?.at ?? now) > 10_000) samples.shift();
      this.samples.set(entity.entity, samples);
      const first = samples[0] ?? { at: now, done };
      const seconds = (now - first.at) / 1000;
      const speed = seconds > 0 ? (done - first.done) / seconds : 0;
      const eta = finished
        ? "done"
        : speed > 0
          ? `ETA ${duration((total - done) / speed)}`
          : done === 0
            ? "waiting"
            : "ETA -";
      const payload = {
        entity: entity.entity.padEnd(width),
        speed: Math.round(speed).toLocaleString("en-US"),
        remaining: eta,
      };
      const value = finished ? total : Math.min(done, total);
      const bar = this.bars.get(entity.entity);
      if (bar === undefined) {
        this.bars.set(entity.entity, this.multi.create(finished ? value : total, value, payload));
      } else {
        bar.setTotal(finished ? value : total);
        bar.update(value, payload);
      }
    }
  }

  stop(): void {
    this.multi.stop();
  }
}

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function reportTable(runs: readonly RunReport[]): string {
  const header = [
    "run",
    "state",
    "started",
    "who",
    "entity",
    "rows",
    "written",
    "skipped",
    "rejected",
    "errors",
    "items/s",
  ];
  const rows: string[][] = [header];
  for (const run of runs) {
    for (const [index, entity] of run.perEntity.entries()) {
      rows.push([
        index === 0 ? run.id : "",
        index === 0 ? run.state : "",
        index === 0 ? run.startedAt.replace("T", " ").slice(0, 19) : "",
        index === 0 ? run.who : "",
        entity.entity,
        `~${count(entity.rowsEstimated)}`,
        count(entity.written),
        count(entity.skipped),
        count(entity.rejected),
        count(entity.errors),
        count(Math.round(entity.itemsPerSecond)),
      ]);
    }
  }
  const widths = header.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  return rows
    .map((row) => `  ${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ")}`.trimEnd())
    .join("\n");
}

function count(value: number): string {
  return value.toLocaleString("en-US");
}

function bigintJson(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return value;
}

function refuse(error: unknown): void {
  printError(error);
  process.exitCode = 2;
}

function withConnections(command: Command): Command {
  return withStoreConnections(command.option("--contract <file>", "the migration contract", "contract/store.yaml"));
}

/** Loads the contract (exit 2 with its errors when it does not check), opens the connections, closes them after. */
async function withServices(
  options: ConnectionOptions,
  work: (context: {
    services: {
      codec: Codec;
      mysql: import("@ferry/runtime").MysqlExecutor;
      client: DynamoDBClient;
      tablePrefix: string;
    };
    codec: Codec;
    contractName: string;
    runtime: typeof import("@ferry/runtime");
  }) => Promise<void>,
): Promise<void> {
  let contract: Awaited<ReturnType<typeof loadValidContract>>;
  try {
    contract = await loadValidContract(options.contract);
  } catch (error) {
    if (error instanceof ContractError) {
      process.stderr.write(`${formatContractErrors(error.issues)}\n`);
      process.exitCode = 2;
      return;
    }
    return refuse(error);
  }
  const runtime = await import("@ferry/runtime");
  const { mysqlUrl, tablePrefix, client } = storeConnections(options);
  const pool = createMysqlPool(mysqlUrl, { connectionLimit: 8 });
  const codec = runtime.createCodec(contract);
  try {
    await work({
      services: { codec, mysql: pool, client, tablePrefix },
      codec,
      contractName: contract.name,
      runtime,
    });
  } finally {
    await pool.end().catch(() => {});
    client.destroy();
  }
}
