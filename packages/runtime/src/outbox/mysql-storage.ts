/**
 * Outbox entries in a table of the app's own MySQL database (default `ferry_outbox`), created on first use: where the
 * writes DynamoDB missed are kept while MySQL is authoritative (phases 2-3). One row per entry; `seq` is the table's
 * AUTO_INCREMENT, so rows of one multi-row INSERT get ascending numbers in their order.
 */
import type { MysqlExecutor } from "../mysql/index.ts";
import { escapeId } from "../mysql/index.ts";
import type { StoreName } from "../phases.ts";
import { decodeKey, encodeKey, type NewOutboxEntry, type OutboxEntry } from "./entry.ts";
import type { HeadOptions, OutboxDepth, OutboxStorage, Postponement } from "./storage.ts";

/** The outbox table's default name. */
export const OUTBOX_TABLE = "ferry_outbox";

/** MySQL errnos of a statement rolled back by a deadlock or a lock wait, and how often it is sent in all. */
const ER_LOCK_DEADLOCK = 1213;
const ER_LOCK_WAIT_TIMEOUT = 1205;
/** MySQL's errnos for a column or an index that is there already. */
const ER_DUP_FIELDNAME = 1060;
const ER_DUP_KEYNAME = 1061;

const STATEMENT_ATTEMPTS = 3;

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
  stuck_since_ms: string | number | null;
}

const COLUMNS =
  "seq, target, entity, key_id, key_json, moved_from_json, operation, attempts, next_attempt_at_ms, last_error, created_at_ms, stuck_since_ms";

export class MysqlOutboxStorage implements OutboxStorage {
  readonly description: string;
  private readonly table: string;
  private readonly name: string;
  private ready: Promise<void> | undefined;
  private step: bigint | undefined;

  /**
   * `executor`: a pool, or a connection of the outbox's own. Not the single connection a MysqlEntityStore runs its
   * transactions on: a row written while one of those is open would join it (and vanish with its rollback).
   */
  constructor(
    private readonly executor: MysqlExecutor,
    table: string = OUTBOX_TABLE,
  ) {
    this.name = table;
    this.table = escapeId(table);
    this.description = `MySQL table ${this.table}`;
  }

  /**
   * Creates the table when it does not exist, and adds what a table made by an older ferry lacks (the stuck mark and
   * the index of due entries); once per instance, tried again after a failure.
   */
  ensureTable(): Promise<void> {
    if (!this.ready) {
      this.ready = this.createTable().then(() => this.upgradeTable());
      this.ready.catch(() => {
        this.ready = undefined;
      });
    }
    return this.ready;
  }

  private async createTable(): Promise<void> {
    await this.query(
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
          stuck_since_ms BIGINT NULL,
          PRIMARY KEY (seq),
          KEY by_target (target, seq),
          KEY by_due (target, next_attempt_at_ms),
          KEY by_key (key_id)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
          COMMENT='ferry: secondary writes DynamoDB missed, replayed by the outbox'`,
      [],
    );
  }

  /**
   * A table created by an older ferry: add the stuck mark with the index of due entries (before entries could be
   * stuck), and the index of a key's entries (before stranded entries settled themselves).
   */
  private async upgradeTable(): Promise<void> {
    const count = async (sql: string) =>
      Number(((await this.query(sql, [this.name])) as Array<{ n: string | number }>)[0]?.n ?? 0);
    const stuck = await count(
      "SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'stuck_since_ms'",
    );
    // Another process may be upgrading the same table: what it added first is no error here.
    const unlessAdded = (error: unknown) => {
      const errno = (error as { errno?: unknown } | null)?.errno;
      if (errno !== ER_DUP_FIELDNAME && errno !== ER_DUP_KEYNAME) throw error;
    };
    if (stuck === 0) {
      await this.query(
        `ALTER TABLE ${this.table} ADD COLUMN stuck_since_ms BIGINT NULL, ADD KEY by_due (target, next_attempt_at_ms)`,
        [],
      ).catch(unlessAdded);
    }
    const byKey = await count(
      "SELECT COUNT(*) AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = 'by_key'",
    );
    if (byKey === 0) await this.query(`ALTER TABLE ${this.table} ADD KEY by_key (key_id)`, []).catch(unlessAdded);
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
      const sql = `INSERT INTO ${this.table} (target, entity, key_id, key_json, moved_from_json, operation, attempts, next_attempt_at_ms, created_at_ms) VALUES ${rows}`;
      // Inside a caller's transaction a deadlock rolls all of it back: only the caller can run it again.
      const result =
        connection === this.executor ? await this.query(sql, values) : (await connection.query({ sql, values }))[0];
      // One INSERT of a known number of rows gets AUTO_INCREMENT values one step apart, the first one reported (the
      // step is 1 but on servers set up for several primaries, auto_increment_increment).
      const first = BigInt((result as { insertId: number | string | bigint }).insertId);
      const step = chunk.length > 1 ? await this.autoIncrementStep(connection) : 1n;
      chunk.forEach((_, index) => {
        seqs.push(first + BigInt(index) * step);
      });
    }
    return seqs;
  }

  async head(target: StoreName, max: number, options: HeadOptions = {}): Promise<OutboxEntry[]> {
    await this.ensureTable();
    const where = ["target = ?"];
    const values: unknown[] = [target];
    if (options.dueBy !== undefined) {
      where.push("next_attempt_at_ms <= ?");
      values.push(options.dueBy);
    }
    if (options.afterSeq !== undefined) {
      where.push("seq > ?");
      values.push(options.afterSeq.toString());
    }
    const rows = (await this.query(
      `SELECT ${COLUMNS} FROM ${this.table} WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ?`,
      [...values, max],
    )) as Row[];
    return rows.map(toEntry);
  }

  /**
   * `connection`: a transaction's, so that the read comes after the row locks the transaction took (a stranded entry's
   * settling, ./stranded.ts).
   */
  async holdsKey(target: StoreName, keyId: string, connection?: MysqlExecutor): Promise<boolean> {
    await this.ensureTable();
    const sql = `SELECT 1 AS found FROM ${this.table} WHERE key_id = ? AND target = ? LIMIT 1`;
    const values = [keyId, target];
    const rows = connection ? (await connection.query({ sql, values }))[0] : await this.query(sql, values);
    return (rows as unknown[]).length > 0;
  }

  async stuck(target: StoreName, max: number): Promise<OutboxEntry[]> {
    await this.ensureTable();
    const rows = (await this.query(
      `SELECT ${COLUMNS} FROM ${this.table} WHERE target = ? AND stuck_since_ms IS NOT NULL ORDER BY seq LIMIT ?`,
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

  async postpone(entries: readonly OutboxEntry[], postponement: Postponement): Promise<void> {
    if (entries.length === 0) return;
    const { nextAttemptAt, lastError, stuckAt } = postponement;
    await this.query(
      `UPDATE ${this.table} SET attempts = attempts + 1, next_attempt_at_ms = ?, last_error = ?, stuck_since_ms = IF(? IS NULL, NULL, COALESCE(stuck_since_ms, ?)) WHERE seq IN (${entries.map(() => "?").join(", ")})`,
      [nextAttemptAt, lastError, stuckAt ?? null, stuckAt ?? null, ...entries.map((entry) => entry.seq.toString())],
    );
  }

  async depth(target: StoreName, now: number = Date.now()): Promise<OutboxDepth> {
    await this.ensureTable();
    // In flight: a write intent never tried and not yet due (see intents.ts).
    const inFlight = "(attempts = 0 AND next_attempt_at_ms > ?)";
    const rows = (await this.query(
      `SELECT COUNT(*) - COALESCE(SUM(${inFlight}), 0) AS depth, COALESCE(SUM(${inFlight}), 0) AS in_flight, MIN(CASE WHEN ${inFlight} THEN NULL ELSE created_at_ms END) AS oldest, COUNT(stuck_since_ms) AS stuck FROM ${this.table} WHERE target = ?`,
      [now, now, now, target],
    )) as Array<{
      depth: string | number;
      in_flight: string | number;
      oldest: string | number | null;
      stuck: string | number;
    }>;
    const row = rows[0];
    return {
      depth: Number(row?.depth ?? 0),
      inFlight: Number(row?.in_flight ?? 0),
      stuck: Number(row?.stuck ?? 0),
      oldestCreatedAt: row?.oldest === null || row?.oldest === undefined ? undefined : Number(row.oldest),
    };
  }

  /** The server's auto_increment_increment, read once. */
  private async autoIncrementStep(connection: MysqlExecutor): Promise<bigint> {
    if (this.step === undefined) {
      const [rows] = await connection.query({ sql: "SELECT @@auto_increment_increment AS step" });
      this.step = BigInt((rows as Array<{ step: number | string }>)[0]?.step ?? 1);
    }
    return this.step;
  }

  /**
   * One statement on the storage's own connection, in autocommit: one that lost a deadlock or a lock wait was rolled
   * back whole and is sent again (entries are written, postponed and removed by many processes at once).
   */
  private async query(sql: string, values: unknown[]): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        const [result] = await this.executor.query({ sql, values });
        return result;
      } catch (error) {
        const errno = (error as { errno?: unknown }).errno;
        if ((errno !== ER_LOCK_DEADLOCK && errno !== ER_LOCK_WAIT_TIMEOUT) || attempt >= STATEMENT_ATTEMPTS)
          throw error;
      }
    }
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
    ...(row.stuck_since_ms === null ? {} : { stuckSince: Number(row.stuck_since_ms) }),
  };
}
