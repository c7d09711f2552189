/**
 * MysqlEntityStore: reads and writes entities on MySQL with the statements of mysqlStatements and the codec's
 * conversions, so the values it returns are exactly what the DynamoDB side returns for the same rows.
 */

import { createHash } from "node:crypto";
import { isConditionOperator } from "@ferry/contract";
import { type Codec, type EntityCodec, type EntityValue, mysqlTypeCast } from "../codec/index.ts";
import type { Condition } from "../condition.ts";
import { decodeCursor, encodeCursor } from "../cursor.ts";
import { hasWords, SEARCH_EXAMINED, wordOrderAttribute, wordsOf } from "../dynamodb/word-items.ts";
import { AlreadyExists, ConditionFailed, CursorError, NotFound, StoreError, UniqueViolation } from "../errors.ts";
import { escapeId, type MysqlStatements, mysqlStatements, NOT_ASCII } from "./sql.ts";

/** What the store needs of a connection; a mysql2/promise Connection (from connectMysql) is one. */
export interface MysqlExecutor {
  query(options: { sql: string; values?: unknown[]; typeCast?: typeof mysqlTypeCast }): Promise<[unknown, unknown]>;
}

/** A pool: transactions take one of its connections and give it back. */
export interface MysqlPoolExecutor extends MysqlExecutor {
  getConnection(): Promise<MysqlExecutor & { release(): void }>;
}

export interface MysqlListOptions {
  /** Equality on attributes (NULL matches NULL). */
  where?: EntityValue;
  /** Order attribute and direction; the primary key always breaks ties (and is the order when this is absent). */
  order?: { attribute: string; direction?: "asc" | "desc" };
  /** Rows per page, at least 1. */
  limit: number;
  /** The cursor of the previous page. */
  cursor?: string;
  /** Conditions every row listed meets (in WHERE, with the equalities). */
  filter?: readonly Condition[];
}

export interface MysqlListPage {
  items: EntityValue[];
  /** Present when there may be more rows: pass it as `cursor` for the next page. */
  cursor?: string;
}

export interface MysqlUpdateOptions {
  /** All must hold on the stored row, or the update fails with ConditionFailed. */
  condition?: readonly Condition[];
  /** Amounts added to numeric attributes on the server (`col = col + ?`), e.g. { inventoryQuantity: -1 }. */
  add?: Readonly<Record<string, number | bigint | string>>;
}

type Row = Record<string, unknown>;

/** Per single connection: settles when the transactions holding or waiting for it are done. */
const gates = new WeakMap<MysqlExecutor, Promise<void>>();

export class MysqlEntityStore {
  private readonly statements = new Map<string, MysqlStatements>();
  private readonly inserts = new Map<string, string>();

  constructor(
    /** The connection or pool it runs on (inside transaction(): the transaction's connection). */
    readonly executor: MysqlExecutor,
    readonly codec: Codec,
    private readonly options: { inTransaction?: boolean; shared?: MysqlEntityStore } = {},
  ) {}

  /** The entity's statements, built once per store. */
  sql(entity: string): MysqlStatements {
    const shared = this.options.shared;
    if (shared) return shared.sql(entity);
    let statements = this.statements.get(entity);
    if (!statements) {
      statements = mysqlStatements(this.codec, entity);
      this.statements.set(entity, statements);
    }
    return statements;
  }

  async get(entity: string, key: EntityValue): Promise<EntityValue | undefined> {
    const sql = this.sql(entity);
    const rows = await this.rows(sql.selectByKey, this.keyParams(entity, sql, key));
    const row = rows[0];
    return row === undefined ? undefined : this.codec.entity(entity).fromRow(row);
  }

  /**
   * get() that locks the row (SELECT ... FOR UPDATE; an absent row's gap, so no insert of the key either) until the
   * transaction ends: only on the store transaction() hands its function.
   */
  async getForUpdate(entity: string, key: EntityValue): Promise<EntityValue | undefined> {
    if (!this.options.inTransaction) throw new Error("getForUpdate locks a row for a transaction: call it inside one");
    const sql = this.sql(entity);
    const rows = await this.rows(`${sql.selectByKey} FOR UPDATE`, this.keyParams(entity, sql, key));
    const row = rows[0];
    return row === undefined ? undefined : this.codec.entity(entity).fromRow(row);
  }

  async list(entity: string, options: MysqlListOptions): Promise<MysqlListPage> {
    const { limit } = options;
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new StoreError("mysql", entity, "list limit must be a positive integer");
    const codec = this.codec.entity(entity);
    const where = Object.entries(options.where ?? {})
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const direction = options.order?.direction ?? "asc";
    const order = options.order === undefined ? undefined : { attribute: options.order.attribute, direction };
    const filter = options.filter ?? [];
    const statements = this.sql(entity).listBy(
      where.map(([attribute]) => attribute),
      order,
      filter,
    );
    const filterValues = [
      ...where.map(([attribute, value]) => codec.attribute(attribute).toParameter(value)),
      ...filter.map(({ attribute, value }) => codec.attribute(attribute).toParameter(value)),
    ];
    const fingerprint = createHash("sha256")
      .update(
        JSON.stringify([
          entity,
          where.map(([attribute, value]) => [attribute, codec.attribute(attribute).normalize(value)]),
          order ?? null,
          ...(filter.length === 0
            ? []
            : [filter.map(({ attribute, op, value }) => [attribute, op, codec.attribute(attribute).normalize(value)])]),
        ]),
      )
      .digest("base64url")
      .slice(0, 22);

    let rows: Row[];
    if (options.cursor === undefined) {
      rows = await this.rows(statements.first, [...filterValues, limit + 1]);
    } else {
      const last = decodeListCursor(options.cursor, entity, fingerprint, statements.cursorAttributes.length);
      rows = await this.rows(statements.next, [...filterValues, ...last, limit + 1]);
    }
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const items = page.map((row) => codec.fromRow(row));
    const lastItem = items[items.length - 1];
    if (!more || lastItem === undefined) return { items };
    const params = codec.toRow(lastItem);
    const last = statements.cursorAttributes.map((attribute) =>
      toJsonParam(params[codec.attribute(attribute).column ?? ""]),
    );
    return { items, cursor: encodeCursor("mysql", entity, { where: fingerprint, last }) };
  }

  /**
   * A page of a search by words (a word index, dynamodb/word-items.ts): the rows whose text has every word of
   * `input.text`, the highest primary key first, as the DynamoDB side finds them. MySQL narrows the rows with LIKE
   * (searchBy); each is then checked with the words as the index folds them. No words: no rows.
   */
  async search(
    entity: string,
    input: { index: string; text: string; limit: number; cursor?: string },
  ): Promise<MysqlListPage> {
    const codec = this.codec.entity(entity);
    const attribute = codec.definition.wordIndexes?.[input.index]?.attribute;
    if (attribute === undefined) throw new StoreError("mysql", entity, `has no word index '${input.index}'`);
    const { limit } = input;
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new StoreError("mysql", entity, "a search limit must be a positive integer");
    const words = wordsOf(input.text);
    if (words.length === 0) return { items: [] };
    const key = wordOrderAttribute(codec);
    const fingerprint = createHash("sha256")
      .update(JSON.stringify(["search", entity, input.index, words]))
      .digest("base64url")
      .slice(0, 22);
    const patterns = words.map((word) => `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    let after: unknown =
      input.cursor === undefined ? undefined : decodeListCursor(input.cursor, entity, fingerprint, 1)[0];
    const batch = Math.min(Math.max(limit * 2, 50), 500);
    const items: EntityValue[] = [];
    let examined = 0;
    for (;;) {
      const sql = this.sql(entity).searchBy(attribute, words.length, after !== undefined);
      const rows = await this.rows(sql, [...patterns, NOT_ASCII, ...(after === undefined ? [] : [after]), batch]);
      for (const row of rows) {
        const value = codec.fromRow(row);
        after = codec.attribute(key).toParameter(value[key]);
        if (hasWords(value[attribute], words)) items.push(value);
        examined++;
        // As DynamoDB's side: a full page, or as many rows looked at as one call may.
        if (items.length === limit || examined >= SEARCH_EXAMINED) {
          return { items, cursor: encodeCursor("mysql", entity, { where: fingerprint, last: [toJsonParam(after)] }) };
        }
      }
      if (rows.length < batch) return { items };
    }
  }

  /**
   * Inserts the value and returns the row as stored: the auto-increment id the server made and every column
   * default filled in. UniqueViolation when a unique key already holds the values.
   */
  async create(entity: string, value: EntityValue): Promise<EntityValue> {
    const sql = this.sql(entity);
    const codec = this.codec.entity(entity);
    const params = codec.toRow(value);
    const present = sql.attributes.filter((attribute) => params[columnName(codec, attribute)] !== undefined);
    const cacheKey = `${entity}\u0000${present.join("\u0000")}`;
    let insert = this.inserts.get(cacheKey);
    if (insert === undefined) {
      insert = sql.insertColumns(present);
      this.inserts.set(cacheKey, insert);
    }
    let result: unknown;
    try {
      result = await this.run(
        insert,
        present.map((attribute) => params[columnName(codec, attribute)]),
      );
    } catch (error) {
      throw this.translate(error, entity, value);
    }
    const key: EntityValue = {};
    for (const attribute of sql.identityAttributes) key[attribute] = value[attribute];
    if (
      sql.autoIncrement !== undefined &&
      (value[sql.autoIncrement] === undefined || value[sql.autoIncrement] === null)
    ) {
      const insertId = (result as { insertId?: number | string | bigint }).insertId;
      if (insertId === undefined) throw new StoreError("mysql", entity, "the server returned no insert id");
      key[sql.autoIncrement] = codec.attribute(sql.autoIncrement).fromColumn(String(insertId));
    }
    const stored = await this.get(entity, key);
    if (stored === undefined) throw new NotFound("mysql", entity, key);
    return stored;
  }

  /**
   * Changes one row by key: `changes` are set, `add` amounts added, and every `condition` must hold. NotFound when no
   * row has the key, ConditionFailed when one does and a condition does not hold, UniqueViolation on a unique key.
   */
  async update(
    entity: string,
    key: EntityValue,
    changes: EntityValue,
    options: MysqlUpdateOptions = {},
  ): Promise<void> {
    const sql = this.sql(entity);
    const codec = this.codec.entity(entity);
    const set = Object.keys(changes).filter((attribute) => changes[attribute] !== undefined);
    const params = codec.toRow(changes);
    const add = Object.entries(options.add ?? {});
    for (const [attribute] of add) {
      const type = codec.attribute(attribute).type;
      if (!NUMERIC.has(type))
        throw new StoreError("mysql", entity, `'${attribute}' is a ${type} attribute and cannot be incremented`);
      if (changes[attribute] !== undefined)
        throw new StoreError("mysql", entity, `'${attribute}' is both changed and incremented`);
    }
    const conditions = options.condition ?? [];
    for (const condition of conditions) {
      if (!isConditionOperator(condition.op))
        throw new StoreError("mysql", entity, `unknown condition operator '${condition.op}'`);
    }
    const statement = sql.updateByKey({
      set,
      add: add.map(([attribute]) => attribute),
      conditions: conditions.map(({ attribute, op }) => ({ attribute, op })),
    });
    const values = [
      ...set.map((attribute) => params[columnName(codec, attribute)]),
      ...add.map(([attribute, amount]) => addAmount(entity, attribute, amount)),
      ...this.keyParams(entity, sql, key),
      ...conditions.map(({ attribute, value }) => codec.attribute(attribute).toParameter(value)),
    ];
    let result: unknown;
    try {
      result = await this.run(statement, values);
    } catch (error) {
      throw this.translate(error, entity, { ...key, ...changes });
    }
    const affected = (result as { affectedRows?: number }).affectedRows;
    if (affected === 1) return;
    if (affected === 0) {
      if (conditions.length > 0 && (await this.get(entity, key)) !== undefined)
        throw new ConditionFailed("mysql", entity, key);
      throw new NotFound("mysql", entity, key);
    }
    throw new StoreError("mysql", entity, `an update by key changed ${String(affected)} rows`);
  }

  /**
   * The highest id the table's AUTO_INCREMENT column has handed out or holds (ids are never reused, so deleted rows
   * count): the larger of MAX(id) and the table's next AUTO_INCREMENT value minus one. 0 for an empty new table.
   */
  async highestId(entity: string): Promise<bigint> {
    const sql = this.sql(entity);
    const attribute = sql.autoIncrement;
    if (attribute === undefined) throw new StoreError("mysql", entity, "has no AUTO_INCREMENT column");
    const column = escapeId(this.codec.entity(entity).attribute(attribute).column ?? attribute);
    const [max] = await this.rows(`SELECT CAST(MAX(${column}) AS CHAR) AS id FROM ${escapeId(sql.table)}`, []);
    const highest = BigInt(String(max?.id ?? "0"));
    const fromNext = (await this.nextAutoIncrement(entity, sql.table)) - 1n;
    return highest > fromNext ? highest : fromNext;
  }

  /**
   * The table's next AUTO_INCREMENT value, read exactly: from SHOW CREATE TABLE, which asks the storage engine.
   * information_schema.TABLES.AUTO_INCREMENT is not exact on MySQL 8, which caches it for up to a day
   * (information_schema_stats_expiry); MariaDB has no such cache and no such variable, and SHOW CREATE TABLE is exact
   * on both. A table that never had an AUTO_INCREMENT option shown (nothing inserted yet) starts at 1.
   */
  private async nextAutoIncrement(entity: string, table: string): Promise<bigint> {
    await this.gate();
    const [rows] = await this.executor.query({ sql: `SHOW CREATE TABLE ${escapeId(table)}` });
    const ddl = String((rows as Row[])[0]?.["Create Table"] ?? "");
    return nextAutoIncrementOf(ddl, entity);
  }

  /** Deletes one row by key; false when there was none. With conditions: ConditionFailed when the row is there and one does not hold. */
  async delete(entity: string, key: EntityValue, condition: readonly Condition[] = []): Promise<boolean> {
    const sql = this.sql(entity);
    if (condition.length === 0) {
      const result = await this.run(sql.deleteByKey, this.keyParams(entity, sql, key));
      return (result as { affectedRows?: number }).affectedRows === 1;
    }
    const result = await this.run(sql.deleteByKeyIf(condition), this.conditionParams(entity, sql, key, condition));
    if ((result as { affectedRows?: number }).affectedRows === 1) return true;
    if ((await this.get(entity, key)) !== undefined) throw new ConditionFailed("mysql", entity, key);
    return false;
  }

  /**
   * Deletes one row while foreign keys do not act (foreign_key_checks off in its own transaction, on again before the
   * connection goes back): rows that reference it stay as they are and no cascade runs. Only for a sync that puts the
   * row back at once (KeySync breaking a cycle of unique values): the references hold again when it is back.
   */
  async setAside(entity: string, key: EntityValue): Promise<boolean> {
    return this.transaction(async (tx) => {
      await tx.run("SET SESSION foreign_key_checks = 0", []);
      try {
        return await tx.delete(entity, key);
      } finally {
        await tx.run("SET SESSION foreign_key_checks = 1", []);
      }
    });
  }

  /**
   * Requires the row to exist and every condition to hold, and locks it until the transaction ends (so it cannot
   * change before the commit): NotFound or ConditionFailed otherwise. Use it inside transaction().
   */
  async check(entity: string, key: EntityValue, condition: readonly Condition[]): Promise<void> {
    const sql = this.sql(entity);
    const rows = await this.rows(sql.lockByKeyIf(condition), this.conditionParams(entity, sql, key, condition));
    if (rows.length > 0) return;
    if ((await this.get(entity, key)) !== undefined) throw new ConditionFailed("mysql", entity, key);
    throw new NotFound("mysql", entity, key);
  }

  private conditionParams(
    entity: string,
    sql: MysqlStatements,
    key: EntityValue,
    condition: readonly Condition[],
  ): unknown[] {
    const codec = this.codec.entity(entity);
    for (const { op } of condition) {
      if (!isConditionOperator(op)) throw new StoreError("mysql", entity, `unknown condition operator '${op}'`);
    }
    return [
      ...this.keyParams(entity, sql, key),
      ...condition.map(({ attribute, value }) => codec.attribute(attribute).toParameter(value)),
    ];
  }

  /**
   * Runs `fn` in a transaction on one connection (a pool's, given back after): COMMIT when it resolves, ROLLBACK when
   * it throws. Use only the store `fn` gets inside it. Not nestable.
   */
  async transaction<T>(fn: (store: MysqlEntityStore) => Promise<T>): Promise<T> {
    if (this.options.inTransaction) throw new Error("a MySQL transaction is already open on this store");
    if (isPool(this.executor)) {
      const pooled = await this.executor.getConnection();
      try {
        return await this.transactionOn(pooled, fn);
      } finally {
        pooled.release();
      }
    }
    // One connection: a transaction has it to itself; everything else on it waits (see gate()).
    const executor = this.executor;
    const previous = gates.get(executor);
    let release = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gate = (previous ?? Promise.resolve()).then(() => mine);
    gates.set(executor, gate);
    await previous;
    try {
      return await this.transactionOn(executor, fn);
    } finally {
      release();
      if (gates.get(executor) === gate) gates.delete(executor);
    }
  }

  /** Waits while a transaction holds this store's only connection (statements sent meanwhile would join it). */
  private async gate(): Promise<void> {
    if (this.options.inTransaction) return;
    for (let held = gates.get(this.executor); held; held = gates.get(this.executor)) await held;
  }

  private async transactionOn<T>(connection: MysqlExecutor, fn: (store: MysqlEntityStore) => Promise<T>): Promise<T> {
    await connection.query({ sql: "START TRANSACTION" });
    const store = new MysqlEntityStore(connection, this.codec, {
      inTransaction: true,
      shared: this.options.shared ?? this,
    });
    let result: T;
    try {
      result = await fn(store);
    } catch (error) {
      await connection.query({ sql: "ROLLBACK" }).catch(() => undefined);
      throw error;
    }
    await connection.query({ sql: "COMMIT" });
    return result;
  }

  private keyParams(entity: string, sql: MysqlStatements, key: EntityValue): unknown[] {
    const codec = this.codec.entity(entity);
    return sql.identityAttributes.map((attribute) => {
      const value = key[attribute];
      if (value === undefined || value === null) throw new StoreError("mysql", entity, `the key has no '${attribute}'`);
      return codec.attribute(attribute).toParameter(value);
    });
  }

  private async rows(sql: string, values: unknown[]): Promise<Row[]> {
    await this.gate();
    try {
      const [rows] = await this.executor.query({ sql, values, typeCast: mysqlTypeCast });
      return rows as Row[];
    } catch (error) {
      throw withoutValues(error, sql);
    }
  }

  private async run(sql: string, values: unknown[]): Promise<unknown> {
    await this.gate();
    try {
      const [result] = await this.executor.query({ sql, values });
      return result;
    } catch (error) {
      throw withoutValues(error, sql);
    }
  }

  /**
   * errno 1062 (ER_DUP_ENTRY) -> AlreadyExists on the primary key, UniqueViolation naming the unique key (the contract's
   * unique rule of that name) otherwise; anything else as it was.
   */
  private translate(error: unknown, entity: string, value: EntityValue): unknown {
    if ((error as { errno?: unknown } | null)?.errno !== ER_DUP_ENTRY) return error;
    const definition = this.codec.entity(entity).definition;
    const message = String((error as { message?: unknown }).message ?? "");
    let key = /for key '(.*)'$/.exec(message)?.[1] ?? "";
    // MySQL 8 says 'table.key', MariaDB 'key'.
    if (key.startsWith(`${definition.source.table}.`)) key = key.slice(definition.source.table.length + 1);
    const columns = key === "PRIMARY" ? definition.source.primaryKey : (definition.source.uniqueKeys?.[key] ?? []);
    const values: Record<string, unknown> = {};
    for (const [attribute, { column }] of Object.entries(definition.attributes)) {
      if (columns.includes(column.name)) values[attribute] = value[attribute];
    }
    if (key === "PRIMARY") return new AlreadyExists("mysql", entity, values, { cause: error });
    return new UniqueViolation("mysql", entity, key, values, { cause: error });
  }
}

/** MySQL's ER_DUP_ENTRY: matched on errno (MariaDB and MySQL agree on it, not always on `code`). */
const ER_DUP_ENTRY = 1062;

const NUMERIC: ReadonlySet<string> = new Set(["integer", "bigint", "decimal", "float"]);

/** A pool (each transaction takes a connection of its own), not a single connection. */
export function isPool(executor: MysqlExecutor): executor is MysqlPoolExecutor {
  return typeof (executor as Partial<MysqlPoolExecutor>).getConnection === "function";
}

function columnName(codec: EntityCodec, attribute: string): string {
  const column = codec.attribute(attribute).column;
  if (column === undefined) throw new Error(`${codec.name}: '${attribute}' has no MySQL column`);
  return column;
}

function addAmount(entity: string, attribute: string, amount: number | bigint | string): number | string {
  if (typeof amount === "bigint") return amount.toString();
  if (typeof amount === "number" && Number.isFinite(amount)) return amount;
  if (typeof amount === "string" && /^-?\d+(\.\d+)?$/.test(amount)) return amount;
  throw new Error(`${entity}.${attribute}: an amount to add must be a finite number, got ${String(amount)}`);
}

/** A query parameter in a form JSON keeps: bytes as { b: base64 }. */
function toJsonParam(value: unknown): unknown {
  if (value instanceof Uint8Array) return { b: Buffer.from(value).toString("base64") };
  if (typeof value === "bigint") return value.toString();
  return value ?? null;
}

function fromJsonParam(value: unknown): unknown {
  if (value !== null && typeof value === "object" && typeof (value as { b?: unknown }).b === "string") {
    return Buffer.from((value as { b: string }).b, "base64");
  }
  return value;
}

/** The last row's order values a cursor of this listing carries, or CursorError. */
function decodeListCursor(cursor: string, entity: string, fingerprint: string, size: number): unknown[] {
  const position = decodeCursor(cursor, "mysql", entity);
  if (position.where !== fingerprint) {
    throw new CursorError("mysql", entity, "is from a listing with another filter or order");
  }
  if (!Array.isArray(position.last) || position.last.length !== size)
    throw new CursorError("mysql", entity, "is damaged");
  return position.last.map(fromJsonParam);
}

/**
 * The next AUTO_INCREMENT value in a SHOW CREATE TABLE statement: the `AUTO_INCREMENT=n` table option, on the line that
 * closes the column list (a column's own AUTO_INCREMENT attribute, or a comment, never has the `=n`). 1 when absent.
 */
export function nextAutoIncrementOf(createTable: string, entity: string): bigint {
  const options = /^\)(.*)$/m.exec(createTable);
  if (options === null) {
    throw new StoreError("mysql", entity, "SHOW CREATE TABLE returned no table definition to read AUTO_INCREMENT from");
  }
  const next = /\bAUTO_INCREMENT=(\d+)/.exec(options[1] ?? "")?.[1];
  return next === undefined ? 1n : BigInt(next);
}

/**
 * mysql2 puts the statement it sent on its errors (`sql`), with the values written into it, and errors are logged: a
 * value that must never be shown (a sensitive attribute's, such as a password hash) would be. The statement as
 * written, with its `?` placeholders, says as much about what failed.
 */
function withoutValues(error: unknown, sql: string): unknown {
  if (error !== null && typeof error === "object" && "sql" in error) {
    try {
      (error as { sql: unknown }).sql = sql;
    } catch {
      // A frozen error keeps what it had; the error itself is what matters.
    }
  }
  return error;
}
