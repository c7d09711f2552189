/**
 * SourceRows: an entity's rows read from MySQL in bulk, for the backfill and validation: a page of a key range in
 * primary-key order, the rows of a set of keys (one statement), and denormalised copies filled in for a whole page
 * with one statement per source entity (not one read per row, as the live path does for a single write).
 *
 * A row the codec cannot read (invalid JSON, a value out of range) does not fail the page: it comes back as a
 * RowRead with its key and the error, for the caller to record as rejected.
 */

import { entityKey, type PlannedSegment, segmentRows } from "../backfill/segments.ts";
import { type Codec, type EntityValue, mysqlTypeCast } from "../codec/index.ts";
import { mysqlStatements } from "../mysql/sql.ts";
import type { MysqlExecutor } from "../mysql/store.ts";

/** One row as read: its primary key, and its value or why the codec could not read it. */
export type RowRead = { key: EntityValue; value: EntityValue } | { key: EntityValue; error: unknown };

/** Keys per statement of byKeys (one round trip each). */
const KEYS_PER_STATEMENT = 500;

export class SourceRows {
  constructor(
    private readonly executor: MysqlExecutor,
    private readonly codec: Codec,
  ) {}

  /** The next `limit` rows of a segment after `after` (or from its start), in primary-key order. */
  async page(
    segment: Pick<PlannedSegment, "entity" | "after" | "through">,
    options: { after?: EntityValue | undefined; limit: number },
  ): Promise<RowRead[]> {
    const statement = segmentRows(this.codec, segment, options);
    const [rows] = await this.executor.query({ ...statement, typeCast: mysqlTypeCast });
    return (rows as Array<Record<string, unknown>>).map((row) => this.read(segment.entity, row));
  }

  /** The rows with these primary keys (the primary-key attributes), by keyId; absent keys are not in the map. */
  async byKeys(entity: string, keys: readonly EntityValue[]): Promise<Map<string, RowRead>> {
    const found = new Map<string, RowRead>();
    const key = entityKey(this.codec, entity);
    const codec = this.codec.entity(entity);
    const columns = mysqlStatements(this.codec, entity).columns;
    for (let start = 0; start < keys.length; start += KEYS_PER_STATEMENT) {
      const chunk = keys.slice(start, start + KEYS_PER_STATEMENT);
      if (chunk.length === 0) continue;
      const values: unknown[] = [];
      let where: string;
      const parameter = (value: EntityValue, attribute: string) =>
        codec.attribute(attribute).toParameter(value[attribute]);
      if (key.columns.length === 1) {
        const [column] = key.columns;
        const [attribute] = key.attributes;
        for (const value of chunk) values.push(parameter(value, attribute as string));
        where = `${column} IN (${chunk.map(() => "?").join(", ")})`;
      } else {
        const one = `(${key.columns.map((column) => `${column} = ?`).join(" AND ")})`;
        for (const value of chunk) for (const attribute of key.attributes) values.push(parameter(value, attribute));
        where = chunk.map(() => one).join(" OR ");
      }
      const [rows] = await this.executor.query({
        sql: `SELECT ${columns} FROM ${key.table} WHERE ${where}`,
        values,
        typeCast: mysqlTypeCast,
      });
      for (const row of rows as Array<Record<string, unknown>>) {
        const read = this.read(entity, row);
        found.set(keyId(this.codec, entity, read.key), read);
      }
    }
    return found;
  }

  /**
   * The values with their denormalised copies filled in from MySQL (as KeySync.valueFor fills one): one statement per
   * source entity for the whole list. A copy whose source row is missing, or whose `via` is NULL, stays absent.
   */
  async withCopies(entity: string, values: readonly EntityValue[]): Promise<EntityValue[]> {
    const copies = Object.entries(this.codec.entity(entity).definition.denormalized ?? {});
    if (copies.length === 0 || values.length === 0) return [...values];
    const sources = new Map<string, Map<string, RowRead>>();
    for (const from of new Set(copies.map(([, copy]) => copy.from))) {
      const identity = this.codec.entity(from).identity;
      const [attribute] = identity;
      if (identity.length !== 1 || attribute === undefined) continue;
      const wanted = new Map<string, EntityValue>();
      for (const value of values) {
        for (const [, copy] of copies) {
          if (copy.from !== from) continue;
          const via = value[copy.via];
          if (via === undefined || via === null) continue;
          const key = { [attribute]: via };
          wanted.set(keyId(this.codec, from, key), key);
        }
      }
      sources.set(from, await this.byKeys(from, [...wanted.values()]));
    }
    return values.map((value) => {
      const filled: EntityValue = { ...value };
      for (const [name, copy] of copies) {
        if (filled[name] !== undefined) continue;
        const via = value[copy.via];
        const attribute = this.codec.entity(copy.from).identity[0];
        if (via === undefined || via === null || attribute === undefined) continue;
        const source = sources.get(copy.from)?.get(keyId(this.codec, copy.from, { [attribute]: via }));
        const copied = source !== undefined && "value" in source ? source.value[copy.attribute] : undefined;
        if (copied !== undefined && copied !== null) filled[name] = copied;
      }
      return filled;
    });
  }

  private read(entity: string, row: Record<string, unknown>): RowRead {
    const codec = this.codec.entity(entity);
    const attributes = entityKey(this.codec, entity).attributes;
    const key: EntityValue = {};
    for (const attribute of attributes) {
      const column = codec.attribute(attribute).column;
      const raw = column === undefined ? undefined : row[column];
      try {
        key[attribute] = codec.attribute(attribute).fromColumn(raw);
      } catch {
        key[attribute] = raw as EntityValue[string];
      }
    }
    try {
      return { key, value: codec.fromRow(row) };
    } catch (error) {
      return { key, error };
    }
  }
}

/**
 * A primary key as a string, each part normalised by its attribute. Not folded by collation: under a `_ci` collation
 * two keys MySQL takes as equal but written in another case are different here (a re-read then finds the row "gone"
 * and re-syncs it, which is safe).
 */
export function keyId(codec: Codec, entity: string, key: EntityValue): string {
  const entityCodec = codec.entity(entity);
  return JSON.stringify(
    entityKey(codec, entity).attributes.map((attribute) => entityCodec.attribute(attribute).normalize(key[attribute])),
  );
}
