/**
 * `seedStore`: makes the store's legacy MySQL database and fills it with the demo or a synthetic
 * data set. Refuses to touch a database that already has store data unless asked to reset it.
 */
import { connectMysql, parseMysqlUrl, StackError, withDatabase } from "@ferry/stack";
import type { Connection, RowDataPacket } from "mysql2/promise";
import type { BulkMethod } from "./bulk-insert.ts";
import { DEMO_PASSWORD, demoLoad } from "./demo.ts";
import { runLoad } from "./load.ts";
import { MIGRATIONS_TABLE, migrateStore } from "./migrate.ts";
import { hashPassword, seedSalt } from "./password.ts";
import { syntheticLoad, validateSynthetic } from "./synthetic.ts";
import { STORE_TABLES, type StoreTable } from "./tables.ts";

export type SeedPlan =
  | { kind: "demo" }
  | { kind: "synthetic"; users: number; products: number; orders: number; seed: number };

export interface SeedProgress {
  table: string;
  done: number;
  total: number;
}

export interface SeedResult {
  database: string;
  /** Rows loaded, by table. */
  rows: Record<string, number>;
  seconds: number;
  /**
   * User names to sign in with, all with DEMO_PASSWORD: the demo's shopper and sellers, or for a
   * synthetic data set its first seller and first shopper (every synthetic user shares that one
   * password, hashed once: scrypt per user would make seeding far too slow).
   */
  demoAccounts?: string[];
}

export interface SeedOptions {
  mysqlUrl: string;
  plan: SeedPlan;
  /** Drop the store's tables (and their migration history) first, if they have data. */
  reset?: boolean;
  onProgress?: (p: SeedProgress) => void;
  /** Connections loading in parallel (default 3). */
  connections?: number;
  /** Force the load method (default: LOAD DATA LOCAL when the server allows it, else INSERT). */
  method?: BulkMethod;
}

/** The database seeding uses when the URL names none. */
export const DEFAULT_STORE_DATABASE = "store";

export async function seedStore(options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const { plan } = options;
  if (plan.kind === "synthetic") validateSynthetic(plan);
  else if (plan.kind !== "demo") throw new StackError(`unknown seed plan ${(plan as { kind: unknown }).kind}`);
  const database = parseMysqlUrl(options.mysqlUrl).database ?? DEFAULT_STORE_DATABASE;
  const url = withDatabase(options.mysqlUrl, database);

  const server = await connectMysql(withDatabase(options.mysqlUrl, undefined));
  try {
    await server.query(
      `CREATE DATABASE IF NOT EXISTS ${server.escapeId(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
  } finally {
    await server.end();
  }

  const connection = await connectMysql(url);
  try {
    const existing = await storeRowCounts(connection);
    const filled = Object.entries(existing).filter(([, rows]) => rows > 0);
    if (filled.length > 0) {
      if (!options.reset) {
        const list = filled.map(([table, rows]) => `${table}: ${rows} ${rows === 1 ? "row" : "rows"}`).join(", ");
        throw new StackError(`database ${database} already has data (${list})`, {
          hint: "use --reset to drop and reload it",
        });
      }
    }
    if (options.reset) await dropStoreTables(connection);
    await migrateStore(connection);
  } finally {
    await connection.end();
  }

  const load =
    plan.kind === "demo"
      ? await demoLoad()
      : syntheticLoad(plan, await hashPassword(DEMO_PASSWORD, { salt: seedSalt(`synthetic:${plan.seed}`) }));
  await runLoad(load.chunks, load.totals, {
    url,
    connections: plan.kind === "demo" ? 1 : options.connections,
    method: options.method,
    onProgress: options.onProgress,
  });
  return {
    database,
    rows: { ...load.totals },
    seconds: (performance.now() - started) / 1000,
    demoAccounts: load.accounts,
  };
}

/**
 * Whether the store database at `mysqlUrl` (default database `store`) exists and any of its
 * store tables has rows: what `seedStore` would refuse to overwrite without `reset`.
 */
export async function isStoreSeeded(mysqlUrl: string): Promise<boolean> {
  const database = parseMysqlUrl(mysqlUrl).database ?? DEFAULT_STORE_DATABASE;
  const connection = await connectMysql(withDatabase(mysqlUrl, undefined));
  try {
    const [schemas] = await connection.query<RowDataPacket[]>(
      "SELECT COUNT(*) AS n FROM information_schema.schemata WHERE schema_name = ?",
      [database],
    );
    if (Number(schemas[0]?.n) === 0) return false;
    await connection.changeUser({ database });
    const counts = await storeRowCounts(connection);
    return Object.values(counts).some((rows) => rows > 0);
  } finally {
    await connection.end();
  }
}

/** Rows in each store table that exists (tables that do not exist are left out). */
export async function storeRowCounts(connection: Connection): Promise<Partial<Record<StoreTable, number>>> {
  const [tables] = await connection.query<RowDataPacket[]>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN (?)",
    [STORE_TABLES],
  );
  const present = new Set(tables.map((row) => String(row.name)));
  const counts: Partial<Record<StoreTable, number>> = {};
  for (const table of STORE_TABLES) {
    if (!present.has(table)) continue;
    const [rows] = await connection.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${connection.escapeId(table)}`);
    counts[table] = Number(rows[0]?.n ?? 0);
  }
  return counts;
}

/** Drops the store's tables and the migration history, children first. */
async function dropStoreTables(connection: Connection): Promise<void> {
  const names = [...STORE_TABLES].reverse().map((t) => connection.escapeId(t));
  await connection.query("SET SESSION foreign_key_checks = 0");
  try {
    await connection.query(`DROP TABLE IF EXISTS ${names.join(", ")}`);
    await connection.query(`DROP TABLE IF EXISTS ${connection.escapeId(MIGRATIONS_TABLE)}`);
  } finally {
    await connection.query("SET SESSION foreign_key_checks = 1");
  }
}
