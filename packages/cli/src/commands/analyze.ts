import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseMysqlUrl, redactMysqlUrl, resolveConnections, StackError } from "@ferry/stack";
import { Command } from "commander";
import { wholeNumber } from "../options.ts";
import { note, say } from "../output.ts";
import { ProgressBar } from "../progress.ts";

interface AnalyzeOptions {
  database?: string;
  out?: string;
  workload: string[];
  check?: boolean;
  name?: string;
  exclude: string[];
  mysqlUrl?: string;
  digests: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, ...value.split(",").filter(Boolean)];

/** The database to analyse: --database, else the URL's, else `store`. */
function databaseOf(mysqlUrl: string, flag: string | undefined): string {
  return flag ?? parseMysqlUrl(mysqlUrl).database ?? "store";
}

export function analyzeCommand(): Command {
  const analyze = new Command("analyze")
    .description("introspect a live MySQL database (schema + observed workload) into a draft contract, or update one")
    .option("--database <db>", "the database to analyse (default: the URL's, else `store`)")
    .option("--out <file>", "the contract file to write or update (default: print to stdout)")
    .option(
      "--workload <file>",
      "a saved workload: a general-log file or JSON from `analyze capture` (repeatable)",
      collect,
      [],
    )
    .option("--check", "do not write; exit 1 if MySQL's schema drifted from the contract's facts (for CI)")
    .option("--name <name>", "the contract's name (default: the database name)")
    .option("--exclude <tables>", "tables to leave out (comma-separated, repeatable)", collect, [])
    .option("--no-digests", "do not read performance_schema digests even when the server has them on")
    .option("--mysql-url <url>", "the server (default: MYSQL_URL, else the local stack's)")
    .passThroughOptions()
    .addHelpText(
      "after",
      `
Access patterns come from the observed workload, and from the schema itself: a get by each UNIQUE key, a
listing by each foreign key and by each index's leading columns (marked "inferred", ranked after the observed
ones). Without a workload the schema's patterns are the whole proposal; a later workload that asks for an
inferred lookup makes that pattern observed, under its name.

Running it again on an existing --out file refreshes the facts from MySQL (tables, columns, keys, the
observed statements) and keeps every decision made by hand: renamed entities and attributes, changed key
templates, notes and comments, deleted patterns (observed or inferred). It prints what drifted.

Exit codes: 0 done; 1 an error, a --check that found drift, or a database in which nothing can be migrated
(no table with a primary key: each is listed with the reason).

Examples:
  pnpm ferry analyze --database store --workload contract/workload/store.log --out contract/store.yaml
  pnpm ferry analyze --out contract/store.yaml --check`,
    )
    .action(async (options: AnalyzeOptions) => {
      const { analyze: run, contractText } = await import("@ferry/analyzer");
      const { mysqlUrl } = resolveConnections({ mysqlUrl: options.mysqlUrl });
      const database = databaseOf(mysqlUrl, options.database);
      if (options.check && !options.out) throw new Error("--check needs --out: the contract to compare with");
      if (options.check && options.out && !existsSync(options.out)) {
        throw new StackError(`--check: ${options.out} does not exist`, {
          hint: `write it first: pnpm ferry analyze --out ${options.out}`,
        });
      }
      note(`analyzing ${database} at ${redactMysqlUrl(mysqlUrl)}`);
      const analysis = await run({
        mysqlUrl,
        database,
        workloadFiles: options.workload,
        digests: options.digests,
        name: options.name,
        exclude: options.exclude,
      });
      const proposed = analysis.proposal.contract;
      if (Object.keys(proposed.entities).length === 0) {
        // Nothing to migrate: say why, table by table, and write no contract (it could not pass its own check).
        const reasons = [
          ...Object.entries(proposed.source.skippedTables ?? {}).map(([table, reason]) => `table ${table}: ${reason}`),
          ...(proposed.source.views ?? []).map(
            (view) => `view ${view}: a view holds no rows of its own; ferry migrates the tables it reads`,
          ),
        ];
        throw new StackError(
          reasons.length === 0
            ? `nothing in ${database} can be migrated: it has no tables`
            : `nothing in ${database} can be migrated:\n${reasons.map((r) => `  ${r}`).join("\n")}`,
          {
            hint: "ferry migrates base tables with a primary key: give each table one (e.g. an AUTO_INCREMENT id), or leave fewer out (--exclude), then analyze again",
          },
        );
      }
      const update = contractText(options.out, analysis.proposal, analysis.workload !== undefined);
      const { contract } = update;
      const patterns = Object.values(contract.accessPatterns ?? {});
      const unsupported = patterns.filter((p) => p.dynamodb.operation === "unsupported").length;
      note(
        `  ${analysis.facts.tables.length} tables -> ${Object.keys(contract.entities).length} entities` +
          `${contract.source.skippedTables ? `, ${Object.keys(contract.source.skippedTables).length} not migrated` : ""}`,
      );
      const inferred = patterns.filter((p) => p.inferred !== undefined).length;
      const observed = patterns.filter((p) => p.observed !== undefined).length;
      if (analysis.workload) {
        note(
          `  workload: ${analysis.workload.queries.toLocaleString("en-US")} statements, ${analysis.workload.statements.length} distinct -> ${patterns.length} access patterns (${observed} observed, ${inferred} inferred from the schema, ${unsupported} unsupported)`,
        );
      } else {
        note(
          `  no workload given: ${inferred} access patterns inferred from the schema (a get by each unique key, a listing by each foreign key and index); capture one (\`ferry analyze capture\`, then --workload FILE) to add what the application really asks`,
        );
      }
      for (const warning of contract.source.warnings ?? []) note(`  warning: ${warning}`);
      if (update.drift) {
        if (update.drift.schema.length === 0) note(`  no schema drift since ${options.out} was written`);
        else
          note(
            `  schema drift (${update.drift.schema.length}):\n${update.drift.schema.map((l) => `    ${l}`).join("\n")}`,
          );
        for (const line of update.drift.workload) note(`  workload: ${line}`);
      }
      if (options.check) {
        if (update.drift && update.drift.schema.length > 0) {
          process.exitCode = 1;
          note(`${options.out} is behind the database: run \`pnpm ferry analyze --out ${options.out}\` and review`);
        }
        return;
      }
      if (!options.out) {
        say(update.text.trimEnd());
        return;
      }
      mkdirSync(dirname(options.out), { recursive: true });
      writeFileSync(options.out, update.text);
      note(`${update.drift ? "updated" : "wrote"} ${options.out}`);
      // New tables or statements can meet decisions that no longer hold (say, a parent table dropped).
      const { parseContract, formatContractErrors } = await import("@ferry/contract");
      const errors = parseContract(update.text, options.out).errors;
      if (errors.length > 0) {
        process.exitCode = 1;
        note(
          `${options.out} needs decisions before it passes \`ferry contract check\`:\n${formatContractErrors(errors)}`,
        );
      }
    });

  analyze
    .command("capture")
    .description("record the live query stream for a while (general log to a table, restored after) as a workload file")
    .requiredOption("--seconds <n>", "how long to record", wholeNumber(1, 86_400))
    .option("--database <db>", "keep statements on this database (default: the URL's, else `store`)")
    .option("--out <file>", "where to save it (default: contract/workload/<database>.workload.json)")
    .option("--mysql-url <url>", "the server (default: MYSQL_URL, else the local stack's)")
    .action(async (options: { seconds: number; database?: string; out?: string; mysqlUrl?: string }) => {
      const { captureGeneralLog } = await import("@ferry/analyzer");
      const { connectMysql, withDatabase } = await import("@ferry/stack");
      const { mysqlUrl } = resolveConnections({ mysqlUrl: options.mysqlUrl });
      const database = databaseOf(mysqlUrl, options.database);
      const out = options.out ?? `contract/workload/${database}.workload.json`;
      const connection = await connectMysql(withDatabase(mysqlUrl, undefined));
      const bar = new ProgressBar();
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once("SIGINT", stop);
      try {
        const workload = await captureGeneralLog(connection, {
          seconds: options.seconds,
          database,
          signal: abort.signal,
          // Once the log is on: what is run on the database from this line on is recorded.
          onStart: () =>
            note(
              `recording statements on ${database} for ${options.seconds} s (Ctrl-C cancels; the server's log settings are restored either way)`,
            ),
          onTick: (elapsed) => bar.update("recording", Math.min(Math.round(elapsed), options.seconds), options.seconds),
        }).catch((error: unknown) => {
          if (!abort.signal.aborted) throw error;
          return undefined;
        });
        if (!workload) {
          note("\ncapture cancelled: the server's log settings are restored; nothing was saved");
          process.exitCode = 130;
          return;
        }
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, `${JSON.stringify(workload, null, 2)}\n`);
        say(
          `recorded ${workload.queries.toLocaleString("en-US")} statements (${workload.statements.length} distinct) -> ${out}\nnext: pnpm ferry analyze --database ${database} --workload ${out} --out contract/${database}.yaml`,
        );
      } finally {
        process.off("SIGINT", stop);
        await connection.end();
      }
    });
  return analyze;
}
