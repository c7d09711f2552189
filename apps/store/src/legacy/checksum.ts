/**
 * A fingerprint of the store's data: sha256 over every table's rows in id order, per table and
 * overall. Two databases with the same fingerprint hold the same rows (the migration history,
 * which records when it ran, is left out).
 */
import { createHash } from "node:crypto";
import type { Connection, RowDataPacket } from "mysql2/promise";
import { STORE_TABLES, type StoreTable } from "./tables.ts";

export interface StoreChecksum {
  sha256: string;
  tables: Record<StoreTable, { rows: number; sha256: string }>;
}

export async function storeChecksum(connection: Connection): Promise<StoreChecksum> {
  const overall = createHash("sha256");
  const tables = {} as StoreChecksum["tables"];
  for (const table of STORE_TABLES) {
    const [rows] = await connection.query<RowDataPacket[][]>({
      sql: `SELECT * FROM ${connection.escapeId(table)} ORDER BY ${connection.escapeId("id")}`,
      rowsAsArray: true,
    });
    const hash = createHash("sha256");
    for (const row of rows) hash.update(`${JSON.stringify(row)}\n`);
    const sha256 = hash.digest("hex");
    tables[table] = { rows: rows.length, sha256 };
    overall.update(`${table}:${rows.length}:${sha256}\n`);
  }
  return { sha256: overall.digest("hex"), tables };
}
