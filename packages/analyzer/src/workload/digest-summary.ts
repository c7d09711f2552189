/**
 * The workload a server has already summarised: performance_schema's
 * events_statements_summary_by_digest (counts per normalised statement since the server started or
 * the table was truncated). Each row goes through ferry's own normaliser, so its digests are the
 * same as the general-log path's: from QUERY_SAMPLE_TEXT (MySQL 8: a real statement) when the row
 * has one, else from DIGEST_TEXT, whose collapsed `VALUES (...)` is expanded back to one `?` per
 * column named by the INSERT.
 */
import type { Connection, RowDataPacket } from "mysql2/promise";
import { WorkloadBuilder } from "./build.ts";
import { parseServerTime } from "./time.ts";
import type { Workload } from "./types.ts";

export interface DigestSummaryRow {
  /** DIGEST_TEXT (null on the row that counts statements beyond the table's size). */
  digestText: string | null;
  /** COUNT_STAR. */
  count: number;
  /** FIRST_SEEN and LAST_SEEN as 'YYYY-MM-DD HH:MM:SS[.ffffff]' (server time). */
  firstSeen?: string | null;
  lastSeen?: string | null;
  /** QUERY_SAMPLE_TEXT (MySQL 8.0.3+), when the server has it. */
  sampleText?: string | null;
}

/** The server truncates texts at performance_schema_max_sql_text_length (1024 by default). */
const TRUNCATED_AT = 1_000;

/** A Workload from digest summary rows of the analysed database. */
export function workloadFromDigestRows(
  rows: readonly DigestSummaryRow[],
  options: { database: string; origin?: string },
): Workload {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const row of rows) {
    const a = parseServerTime(row.firstSeen);
    const b = parseServerTime(row.lastSeen);
    if (a !== undefined && a < first) first = a;
    if (b !== undefined && b > last) last = b;
  }
  const seconds = last >= first ? Math.max(1, Math.round(last - first) / 1000) : 1;
  const builder = new WorkloadBuilder({
    origin: options.origin ?? "performance_schema digests",
    database: options.database,
    seconds,
  });
  for (const row of rows) {
    const count = Number(row.count);
    if (!(count > 0)) continue;
    const sample = row.sampleText?.trim();
    const sql = sample && sample.length < TRUNCATED_AT && !sample.endsWith("...") ? sample : row.digestText;
    if (!sql) continue;
    builder.add({ sql }, count);
  }
  return builder.build();
}

/**
 * Reads the digest summary for `database`; undefined when performance_schema is off (MariaDB's
 * default) or its digest table cannot be read.
 */
export async function readDigestSummary(
  connection: Connection,
  options: { database: string },
): Promise<Workload | undefined> {
  try {
    const [enabled] = await connection.query<RowDataPacket[]>("SELECT @@GLOBAL.performance_schema AS enabled");
    const value = enabled[0]?.enabled;
    if (!(Number(value) === 1 || String(value).toUpperCase() === "ON")) return undefined;
    const [columns] = await connection.query<RowDataPacket[]>(
      `SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = 'performance_schema' AND TABLE_NAME = 'events_statements_summary_by_digest'`,
    );
    const names = new Set(columns.map((c) => String(c.name).toUpperCase()));
    if (!names.has("DIGEST_TEXT")) return undefined;
    const sample = names.has("QUERY_SAMPLE_TEXT") ? "QUERY_SAMPLE_TEXT" : "NULL";
    const [rows] = await connection.query<RowDataPacket[]>(
      `SELECT DIGEST_TEXT AS digestText, COUNT_STAR AS count,
              DATE_FORMAT(FIRST_SEEN, '%Y-%m-%d %H:%i:%s.%f') AS firstSeen,
              DATE_FORMAT(LAST_SEEN, '%Y-%m-%d %H:%i:%s.%f') AS lastSeen,
              ${sample} AS sampleText
         FROM performance_schema.events_statements_summary_by_digest
        WHERE SCHEMA_NAME = ? AND DIGEST_TEXT IS NOT NULL`,
      [options.database],
    );
    return workloadFromDigestRows(
      rows.map((row) => ({
        digestText: text(row.digestText),
        count: Number(row.count),
        firstSeen: text(row.firstSeen),
        lastSeen: text(row.lastSeen),
        sampleText: text(row.sampleText),
      })),
      { database: options.database },
    );
  } catch (error) {
    // A server error (no such variable or table, no privilege): no summary. Connection errors go on.
    if (error instanceof Error && "sqlState" in error) return undefined;
    throw error;
  }
}

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
}
