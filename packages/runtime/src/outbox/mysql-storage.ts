/**
 * Outbox entries in a table of the app's own MySQL database (default `ferry_outbox`), created on first use: where the
 * writes DynamoDB missed are kept while MySQL is authoritative (phases 2-3). One row per entry; `seq` is the table's
 * AUTO_INCREMENT, so rows of one multi-row INSERT get ascending numbers in their order.
 */
import type { MysqlExecutor } from "../mysql/index.ts";
import { escapeId } from "../mysql/index.ts";
import type { StoreName } from "../phases.ts";
import { decodeKey, encodeKey, type NewOutboxEntry, type OutboxEntry } from "./entry.ts";
import type { OutboxDepth, OutboxStorage } from "./storage.ts";

/** The outbox table's default name. */
export const OUTBOX_TABLE = "ferry_outbox";

/** Rows per INSERT (well below max_allowed_packet for keys of any sensible size). */
const INSERT_ROWS = 500;

interface Row {
  seq: string | number | bigint;
  target: string;
  entity: string;
  key_id: string;
  key_json: string;
  moved_from_json: string | null;
  operation: string;
  attempts: string | number;
  next_attempt_at_ms: string | number;
  last_error: string | null;
  created_at_ms: string | number;
}

export class MysqlOutboxStorage implements OutboxStorage {
  readonly description: string;
  private readonly table: string;
  private ready: Promise<void> | undefined;

  /**
   * `executor`: a pool, or a connection of the outbox's own. Not the single connection a MysqlEntityStore runs its
   * transactions on: a row written while one of those is open would join it (and vanish with its rollback).
   */
  constructor(
    private readonly executor: MysqlExecutor,
    table: string = OUTBOX_TABLE,
  ) {
    this.table = escapeId(table);
    this.description = `MySQL table ${this.table}`;
  }

  /** Creates the table when it does not exist (once per instance; tried again after a failure). */
  ensureTable(): Promise<void> {
    if (!this.ready) {
      this.ready = this.query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (
          seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
          target VARCHAR(16) NOT NULL,
          entity VARCHAR(255) NOT NULL,
          key_id CHAR(64) NOT NULL,
          key_json TEXT NOT NULL,
          moved_from_json TEXT NULL,
          operation VARCHAR(255) NOT NULL,
          attempts INT UNSIGNED NOT NULL DEFAULT 0,
          next_attempt_at_ms BIGINT NOT NULL,
          last_error TEXT NULL,
          created_at_ms BIGINT NOT NULL,
          PRIMARY KEY (seq),
          KEY by_target (target, seq)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
          COMMENT='ferry: secondary writes DynamoDB missed, replayed by the outbox'`,
        [],
      ).then(() => undefined);
      this.ready.catch(() => {
        this.ready = undefined;
      });
    }
    return this.ready;
  }

  /**
   * `connection`: another connection than the storage's, e.g. one with a transaction open, so that the entries are
   * committed with the transaction's writes or not at all (a write's intent, ./intents.ts).
   */
  async append(entries: readonly NewOutboxEntry[], connection: MysqlExecutor = this.executor): Promise<bigint[]> {
    if (entries.length === 0) return [];
    await this.ensureTable();
    const seqs: bigint[] = [];
    for (let start = 0; start < entries.length; start += INSERT_ROWS) {
      const chunk = entries.slice(start, start + INSERT_ROWS);
      const values: unknown[] = [];
      for (const entry of chunk) {
        values.push(
          entry.target,
          entry.entity,
          entry.keyId,
          encodeKey(entry.key),
          entry.movedFrom === undefined ? null : encodeKey(entry.movedFrom),
          entry.operation,
          entry.notBefore ?? entry.createdAt,
          entry.createdAt,
        );
      }
      const rows = chunk.map(() => "(?, ?, ?, ?, ?, ?, 0, ?, ?)").join(", ");
      const [result] = await connection.query({
        sql: `INSERT INTO ${this.table} (target, entity, key_id, key_json, moved_from_json, operation, attempts, next_attempt_at_ms, created_at_ms) VALUES ${rows}`,
        values,
      });
      // One INSERT of a known number of rows gets consecutive AUTO_INCREMENT values, the first one reported.
      const first = BigInt((result as { insertId: number | string | bigint }).insertId);
      chunk.forEach((_, index) => {
        seqs.push(first + BigInt(index));
      });
    }
    return seqs;
  }

  async head(target: StoreName, max: number): Promise<OutboxEntry[]> {
    await this.ensureTable();
    const rows = (await this.query(
      `SELECT seq, target, entity, key_id, key_json, moved_from_json, operation, attempts, next_attempt_at_ms, last_error, created_at_ms FROM ${this.table} WHERE target = ? ORDER BY seq LIMIT ?`,
      [target, max],
    )) as Row[];
    return rows.map(toEntry);
  }

  async remove(entries: readonly OutboxEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.query(
      `DELETE FROM ${this.table} WHERE seq IN (${entries.map(() => "?").join(", ")})`,
      entries.map((entry) => entry.seq.toString()),
    );
  }

  async postpone(entries: readonly OutboxEntry[], nextAttemptAt: number, lastError: string): Promise<void> {
    if (entries.length === 0) return;
    await this.query(
      `UPDATE ${this.table} SET attempts = attempts + 1, next_attempt_at_ms = ?, last_error = ? WHERE seq IN (${entries.map(() => "?").join(", ")})`,
      [nextAttemptAt, lastError, ...entries.map((entry) => entry.seq.toString())],
    );
  }

  async depth(target: StoreName): Promise<OutboxDepth> {
    await this.ensureTable();
    const rows = (await this.query(
      `SELECT COUNT(*) AS depth, MIN(created_at_ms) AS oldest FROM ${this.table} WHERE target = ?`,
      [target],
    )) as Array<{ depth: string | number; oldest: string | number | null }>;
    const row = rows[0];
    return {
      depth: Number(row?.depth ?? 0),
      oldestCreatedAt: row?.oldest === null || row?.oldest === undefined ? undefined : Number(row.oldest),
    };
  }

  private async query(sql: string, values: unknown[]): Promise<unknown> {
    const [result] = await this.executor.query({ sql, values });
    return result;
  }
}

function toEntry(row: Row): OutboxEntry {
  const target = row.target === "mysql" ? "mysql" : "dynamodb";
  return {
    seq: BigInt(row.seq),
    target,
    entity: row.entity,
    keyId: row.key_id,
    key: decodeKey(row.key_json),
    ...(row.moved_from_json === null ? {} : { movedFrom: decodeKey(row.moved_from_json) }),
    operation: row.operation,
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at_ms),
    ...(row.last_error === null ? {} : { lastError: row.last_error }),
    createdAt: Number(row.created_at_ms),
  };
}
