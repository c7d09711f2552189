/**
 * `pnpm bench analyze`: a synthetic schema of 300 tables (foreign keys, unique keys, indexes) and a
 * 100k-statement general log; seconds to analyse each (goal < 10 s). Baseline in the same run: the bare
 * cost of reading the same information_schema tables (SELECT * ...) and of reading the log file line by line.
 */
import { createReadStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { introspect, proposeContract, readGeneralLogFile } from "@ferry/analyzer";
import { createSyntheticSchema, writeSyntheticGeneralLog } from "@ferry/analyzer/synthetic";
import { connectMysql, stackDown, stackUp, withDatabase } from "@ferry/stack";
import { publish } from "./report.ts";

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  const value = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} needs a positive whole number`);
  return value;
}

const seconds = (start: number) => (performance.now() - start) / 1000;

export async function main(args: string[]): Promise<void> {
  const tables = flag(args, "tables", 300);
  const statements = flag(args, "statements", 100_000);
  const home = mkdtempSync(join(tmpdir(), "ferry-bench-analyze-"));
  const external = process.env.MYSQL_URL;
  try {
    const state = await stackUp({ home, parts: ["mysql"], onProgress: (line) => process.stderr.write(`${line}\n`) });
    const serverUrl = withDatabase(external ?? state.mysql?.url ?? "", undefined);
    const database = "bench_analyze";
    const admin = await connectMysql(serverUrl, { multipleStatements: true });
    await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeId(database)}`);
    await admin.query(`CREATE DATABASE ${admin.escapeId(database)} CHARACTER SET utf8mb4`);
    await admin.changeUser({ database });
    process.stderr.write(`creating ${tables} tables ...\n`);
    const schema = await createSyntheticSchema(admin, { tables, seed: 1 });

    // Baseline: the raw information_schema reads, no processing.
    let start = performance.now();
    const views: Array<[string, string]> = [
      ["TABLES", "TABLE_SCHEMA"],
      ["COLUMNS", "TABLE_SCHEMA"],
      ["STATISTICS", "TABLE_SCHEMA"],
      ["KEY_COLUMN_USAGE", "TABLE_SCHEMA"],
      ["REFERENTIAL_CONSTRAINTS", "CONSTRAINT_SCHEMA"],
      ["TABLE_CONSTRAINTS", "TABLE_SCHEMA"],
    ];
    for (const [view, schemaColumn] of views) {
      await admin.query(`SELECT * FROM information_schema.${view} WHERE ${schemaColumn} = ?`, [database]);
    }
    const rawSchema = seconds(start);

    start = performance.now();
    const facts = await introspect(admin, database);
    const introspectSeconds = seconds(start);

    const logFile = join(home, "general.log");
    process.stderr.write(`writing a ${statements.toLocaleString("en-US")}-statement general log ...\n`);
    const log = writeSyntheticGeneralLog(logFile, {
      statements,
      tables: facts.tables.map((t) => t.name),
      seed: 1,
      database,
    });

    start = performance.now();
    let lines = 0;
    for await (const _ of createInterface({ input: createReadStream(logFile), crlfDelay: Number.POSITIVE_INFINITY }))
      lines++;
    const rawLog = seconds(start);

    start = performance.now();
    const workload = await readGeneralLogFile(logFile, { database });
    const workloadSeconds = seconds(start);

    start = performance.now();
    const proposal = proposeContract(facts, workload);
    const proposeSeconds = seconds(start);
    await admin.query(`DROP DATABASE ${admin.escapeId(database)}`);
    await admin.end();

    const total = introspectSeconds + workloadSeconds + proposeSeconds;
    publish({
      name: "analyze",
      rows: [
        {
          step: `schema: introspect ${tables} tables (${schema.columns} columns, ${schema.foreignKeys} FKs)`,
          seconds: introspectSeconds,
          baseline: rawSchema,
          "x baseline": introspectSeconds / rawSchema,
        },
        {
          step: `workload: read + digest ${log.statements.toLocaleString("en-US")} statements (${(log.bytes / 2 ** 20).toFixed(1)} MiB, ${workload.statements.length} digests)`,
          seconds: workloadSeconds,
          baseline: rawLog,
          "x baseline": workloadSeconds / rawLog,
        },
        {
          step: `design: propose ${Object.keys(proposal.contract.entities).length} entities, ${Object.keys(proposal.contract.accessPatterns ?? {}).length} patterns`,
          seconds: proposeSeconds,
          baseline: null,
          "x baseline": null,
        },
        { step: "total", seconds: total, baseline: null, "x baseline": null },
      ],
      goals: [
        {
          figure: "schema analysis (introspect + propose)",
          value: introspectSeconds + proposeSeconds,
          unit: "s",
          op: "<",
          bound: 10,
        },
        {
          figure: "workload analysis (read + digest the log)",
          value: workloadSeconds,
          unit: "s",
          op: "<",
          bound: 10,
          baseline: `reading its lines alone: ${rawLog.toFixed(2)} s`,
        },
        {
          figure: "statements read, of the log's",
          value: workload.queries,
          op: "=",
          bound: log.statements,
        },
      ],
      notes: [
        `baselines: bare SELECT * of the same information_schema tables; reading the log's ${lines.toLocaleString("en-US")} lines with readline and nothing else`,
        `server: private MariaDB started for the run${external ? " (MYSQL_URL given: used instead)" : ""}`,
      ],
    });
  } finally {
    await stackDown({ home });
    rmSync(home, { recursive: true, force: true });
  }
}
