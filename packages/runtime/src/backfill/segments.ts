/**
 * An entity's MySQL table split into segments: primary-key ranges taken from the data, so that skewed, string and
 * composite keys split evenly by row count (equal id arithmetic would not). planSegments counts the rows, then walks
 * the primary-key index in keyset steps (`WHERE key > last boundary ORDER BY key LIMIT 1 OFFSET step - 1`): each
 * boundary is an actual key, the last of its segment. A segment is (after, through]: rows whose key is greater than
 * `after` (none: from the start) and at most `through` (none: to the end, so rows inserted past the last boundary
 * while the run is open are still read). Keys are entity values of the primary-key attributes, as codec.fromRow reads
 * them (bigint for BIGINT, Uint8Array for bytes, ...).
 *
 * An empty table gives one segment with no bounds (estimated 0 rows), not none: every entity has a segment to finish,
 * and rows inserted after the plan are read by it.
 *
 * Key comparisons are written out column by column (`a > ? OR (a = ? AND b > ?)`) rather than as a row value
 * (`(a, b) > (?, ?)`): MariaDB 10.11 turns the first into a range on the primary key, but scans the index from its
 * start for the second. Comparisons use the columns' collations, the order of the index itself.
 */
import { type Codec, type EntityValue, mysqlTypeCast } from "../codec/index.ts";
import { escapeId, mysqlStatements } from "../mysql/sql.ts";
import type { MysqlExecutor } from "../mysql/store.ts";

/** A segment of an entity's rows: primary keys in (after, through]. */
export interface PlannedSegment {
  readonly entity: string;
  /** Its place among the entity's segments, from 0, in key order. */
  readonly index: number;
  /** The exclusive lower bound (the last key of the segment before); undefined: from the first row. */
  readonly after?: EntityValue;
  /** The inclusive upper bound (the segment's last key when planned); undefined: to the last row, whatever it is then. */
  readonly through?: EntityValue;
  /** Its rows when planned. */
  readonly estimatedRows: number;
}

export interface PlanSegmentsOptions {
  /** The rows a segment should hold (default 50,000); more when maxSegments would be exceeded. */
  rowsPerSegment?: number;
  /** At most this many segments for the entity (default 1,000). */
  maxSegments?: number;
}

export const DEFAULT_ROWS_PER_SEGMENT = 50_000;
export const DEFAULT_MAX_SEGMENTS = 1_000;

/** A statement and its parameters (read rows with mysqlTypeCast, then codec.fromRow). */
export interface SegmentStatement {
  sql: string;
  values: unknown[];
}

/** The primary key of an entity's table as the backfill uses it. */
export interface EntityKey {
  /** The table, escaped. */
  table: string;
  /** The primary-key attributes, in the key's column order. */
  attributes: readonly string[];
  /** Their columns, escaped, in the same order. */
  columns: readonly string[];
}

/** The primary key of `entity`'s table. */
export function entityKey(codec: Codec, entity: string): EntityKey {
  const statements = mysqlStatements(codec, entity);
  const entityCodec = codec.entity(entity);
  const columns = statements.keyAttributes.map((attribute) => {
    const column = entityCodec.attribute(attribute).column;
    if (column === undefined) throw new Error(`${entity}: primary key attribute '${attribute}' has no column`);
    return escapeId(column);
  });
  return { table: escapeId(statements.table), attributes: statements.keyAttributes, columns };
}

/** The primary-key attributes of an entity value (a row read with codec.fromRow): the key a checkpoint records. */
export function keyOf(codec: Codec, entity: string, value: EntityValue): EntityValue {
  const key: EntityValue = {};
  for (const attribute of entityKey(codec, entity).attributes) {
    const part = value[attribute];
    if (part === undefined || part === null) throw new Error(`${entity}: the row has no primary key '${attribute}'`);
    key[attribute] = part;
  }
  return key;
}

/**
 * The WHERE condition (without `WHERE`; `1 = 1` when unbounded) and parameters of the rows with keys in
 * (after, through], for `entity`'s table.
 */
export function keyRange(
  codec: Codec,
  entity: string,
  bounds: { after?: EntityValue | undefined; through?: EntityValue | undefined },
): SegmentStatement {
  const key = entityKey(codec, entity);
  const entityCodec = codec.entity(entity);
  const parameters = (value: EntityValue): unknown[] =>
    key.attributes.map((attribute) => {
      const part = value[attribute];
      if (part === undefined || part === null) throw new Error(`${entity}: a segment bound has no '${attribute}'`);
      return entityCodec.attribute(attribute).toParameter(part);
    });
  const parts: string[] = [];
  const values: unknown[] = [];
  for (const [bound, strict, last] of [
    [bounds.after, ">", ">"],
    [bounds.through, "<", "<="],
  ] as const) {
    if (bound === undefined) continue;
    const compared = compare(key.columns, parameters(bound), strict, last);
    parts.push(compared.sql);
    values.push(...compared.values);
  }
  return { sql: parts.length === 0 ? "1 = 1" : parts.join(" AND "), values };
}

/**
 * `columns` compared with `values` in key order: `c1 {strict} ? OR (c1 = ? AND (...c_n {last} ?))`, a range MariaDB
 * reads from the primary key.
 */
function compare(
  columns: readonly string[],
  values: readonly unknown[],
  strict: string,
  last: string,
): SegmentStatement {
  const [column, ...rest] = columns;
  const [value, ...restValues] = values;
  if (column === undefined) throw new Error("a key has at least one column");
  if (rest.length === 0) return { sql: `${column} ${last} ?`, values: [value] };
  const inner = compare(rest, restValues, strict, last);
  return {
    sql: `(${column} ${strict} ? OR (${column} = ? AND ${inner.sql}))`,
    values: [value, value, ...inner.values],
  };
}

/**
 * The next `limit` rows of a segment in primary-key order, every column, after `after` (the claim's checkpoint: the
 * last key done) or, when there is none, from the segment's start.
 */
export function segmentRows(
  codec: Codec,
  segment: Pick<PlannedSegment, "entity" | "after" | "through">,
  options: { after?: EntityValue | undefined; limit: number },
): SegmentStatement {
  checkCount(options.limit, "a page of rows (limit)");
  const key = entityKey(codec, segment.entity);
  const range = keyRange(codec, segment.entity, { after: options.after ?? segment.after, through: segment.through });
  const columns = mysqlStatements(codec, segment.entity).columns;
  return {
    sql: `SELECT ${columns} FROM ${key.table} WHERE ${range.sql} ORDER BY ${key.columns.join(", ")} LIMIT ${options.limit}`,
    values: range.values,
  };
}

/** Splits `entity`'s table into segments of about `rowsPerSegment` rows, boundaries read from the primary key. */
export async function planSegments(
  connection: MysqlExecutor,
  codec: Codec,
  entity: string,
  options: PlanSegmentsOptions = {},
): Promise<PlannedSegment[]> {
  const rowsPerSegment = checkCount(options.rowsPerSegment ?? DEFAULT_ROWS_PER_SEGMENT, "rowsPerSegment");
  const maxSegments = checkCount(options.maxSegments ?? DEFAULT_MAX_SEGMENTS, "maxSegments");
  const key = entityKey(codec, entity);
  const [counted] = await connection.query({ sql: `SELECT COUNT(*) AS \`rows\` FROM ${key.table}` });
  const rows = Number((counted as Array<{ rows: number | string | bigint }>)[0]?.rows ?? 0);
  const step = Math.max(rowsPerSegment, Math.ceil(rows / maxSegments));
  const wanted = Math.max(1, Math.ceil(rows / step));
  const boundaries: EntityValue[] = [];
  const keyColumns = key.columns.join(", ");
  while (boundaries.length < wanted - 1) {
    const range = keyRange(codec, entity, { after: boundaries.at(-1) });
    const [found] = await connection.query({
      sql: `SELECT ${keyColumns} FROM ${key.table} WHERE ${range.sql} ORDER BY ${keyColumns} LIMIT 1 OFFSET ${step - 1}`,
      values: range.values,
      typeCast: mysqlTypeCast,
    });
    const row = (found as Array<Record<string, unknown>>)[0];
    // Rows were deleted since they were counted: the segment before is the last.
    if (row === undefined) break;
    boundaries.push(keyOf(codec, entity, codec.entity(entity).fromRow(row)));
  }
  const segments: PlannedSegment[] = [];
  for (let index = 0; index <= boundaries.length; index++) {
    const after = boundaries[index - 1];
    const through = boundaries[index];
    const estimatedRows = through === undefined ? Math.max(0, rows - step * boundaries.length) : step;
    segments.push({
      entity,
      index,
      ...(after === undefined ? {} : { after }),
      ...(through === undefined ? {} : { through }),
      estimatedRows,
    });
  }
  return segments;
}

function checkCount(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Error(`${name} must be a whole number from 1 up, got ${value}`);
  return value;
}
