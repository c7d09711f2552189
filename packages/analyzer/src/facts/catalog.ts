/**
 * The catalog: the raw rows information_schema returns for one database, from a few bulk queries
 * (one per information_schema table, never one per table of the database). Plain JSON, so a catalog
 * can be recorded from one server and replayed in tests (see test/fixtures/mysql8).
 */
import { StackError } from "@ferry/stack";
import type { Connection, RowDataPacket } from "mysql2/promise";

/** What the catalog needs from a connection (a mysql2 promise Connection or Pool). */
export type Queryable = Pick<Connection, "query" | "escapeId">;

/** One value of an information_schema row: BIGINT and DECIMAL arrive as strings or numbers, both are fine. */
export type CatalogValue = string | number | null;

/** One information_schema row, keys in upper case as information_schema names its columns. */
export type CatalogRow = Record<string, CatalogValue>;

export interface Catalog {
  /** `SELECT VERSION()`, e.g. "10.11.19-MariaDB-0+deb12u1" or "8.0.36". */
  version: string;
  database: string;
  tables: CatalogRow[];
  columns: CatalogRow[];
  statistics: CatalogRow[];
  tableConstraints: CatalogRow[];
  keyColumnUsage: CatalogRow[];
  referentialConstraints: CatalogRow[];
  /** null on servers without CHECK_CONSTRAINTS (before MariaDB 10.2 / MySQL 8.0.16). */
  checkConstraints: CatalogRow[] | null;
  views: CatalogRow[];
  /** null on servers without VIEW_TABLE_USAGE (MariaDB, MySQL before 8.0.13). */
  viewTableUsage: CatalogRow[] | null;
  triggers: CatalogRow[];
  /** Exact `COUNT(*)` by table name, for the tables whose estimate was small (see `exactRowCounts`). */
  exactRowCounts?: Record<string, number>;
  /**
   * The most rows that refer to one parent row, by `table.constraint` of a foreign key, for the tables counted exactly
   * and not empty (see `foreignKeyFanOuts`).
   */
  fanOuts?: Record<string, number>;
}

/** Tables whose TABLE_ROWS estimate is below this get an exact COUNT(*). */
export const EXACT_COUNT_BELOW = 100_000;

type SourceName = Exclude<keyof Catalog, "version" | "database" | "exactRowCounts" | "fanOuts">;

interface Source {
  table: string;
  /** The column that names the database. */
  schemaColumn: string;
  orderBy: string;
  /** The columns kept (those the server has); everything else the server returns is dropped. */
  keep: readonly string[];
}

const SOURCES: Record<SourceName, Source> = {
  tables: {
    table: "TABLES",
    schemaColumn: "TABLE_SCHEMA",
    orderBy: "TABLE_NAME",
    keep: ["TABLE_NAME", "TABLE_TYPE", "ENGINE", "TABLE_ROWS", "AVG_ROW_LENGTH", "DATA_LENGTH", "TABLE_COMMENT"],
  },
  columns: {
    table: "COLUMNS",
    schemaColumn: "TABLE_SCHEMA",
    orderBy: "TABLE_NAME, ORDINAL_POSITION",
    keep: [
      "TABLE_NAME",
      "COLUMN_NAME",
      "ORDINAL_POSITION",
      "COLUMN_DEFAULT",
      "IS_NULLABLE",
      "DATA_TYPE",
      "CHARACTER_MAXIMUM_LENGTH",
      "CHARACTER_OCTET_LENGTH",
      "NUMERIC_PRECISION",
      "NUMERIC_SCALE",
      "DATETIME_PRECISION",
      "CHARACTER_SET_NAME",
      "COLLATION_NAME",
      "COLUMN_TYPE",
      "EXTRA",
      "COLUMN_COMMENT",
      "IS_GENERATED",
      "GENERATION_EXPRESSION",
    ],
  },
  statistics: {
    table: "STATISTICS",
    schemaColumn: "TABLE_SCHEMA",
    orderBy: "TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
    keep: [
      "TABLE_NAME",
      "NON_UNIQUE",
      "INDEX_NAME",
      "SEQ_IN_INDEX",
      "COLUMN_NAME",
      "SUB_PART",
      "INDEX_TYPE",
      "EXPRESSION",
    ],
  },
  tableConstraints: {
    table: "TABLE_CONSTRAINTS",
    schemaColumn: "CONSTRAINT_SCHEMA",
    orderBy: "TABLE_NAME, CONSTRAINT_NAME",
    keep: ["TABLE_NAME", "CONSTRAINT_NAME", "CONSTRAINT_TYPE"],
  },
  keyColumnUsage: {
    table: "KEY_COLUMN_USAGE",
    schemaColumn: "TABLE_SCHEMA",
    orderBy: "TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
    keep: [
      "TABLE_NAME",
      "CONSTRAINT_NAME",
      "COLUMN_NAME",
      "ORDINAL_POSITION",
      "REFERENCED_TABLE_SCHEMA",
      "REFERENCED_TABLE_NAME",
      "REFERENCED_COLUMN_NAME",
    ],
  },
  referentialConstraints: {
    table: "REFERENTIAL_CONSTRAINTS",
    schemaColumn: "CONSTRAINT_SCHEMA",
    orderBy: "TABLE_NAME, CONSTRAINT_NAME",
    keep: ["TABLE_NAME", "CONSTRAINT_NAME", "REFERENCED_TABLE_NAME", "UPDATE_RULE", "DELETE_RULE"],
  },
  checkConstraints: {
    table: "CHECK_CONSTRAINTS",
    schemaColumn: "CONSTRAINT_SCHEMA",
    orderBy: "CONSTRAINT_NAME",
    // MariaDB names the table here; MySQL 8 does not (its TABLE_CONSTRAINTS does).
    keep: ["TABLE_NAME", "CONSTRAINT_NAME", "LEVEL", "CHECK_CLAUSE"],
  },
  views: {
    table: "VIEWS",
    schemaColumn: "TABLE_SCHEMA",
    orderBy: "TABLE_NAME",
    keep: ["TABLE_NAME", "VIEW_DEFINITION"],
  },
  viewTableUsage: {
    table: "VIEW_TABLE_USAGE",
    schemaColumn: "VIEW_SCHEMA",
    orderBy: "VIEW_NAME, TABLE_SCHEMA, TABLE_NAME",
    keep: ["VIEW_NAME", "TABLE_SCHEMA", "TABLE_NAME"],
  },
  triggers: {
    table: "TRIGGERS",
    schemaColumn: "TRIGGER_SCHEMA",
    orderBy: "EVENT_OBJECT_TABLE, TRIGGER_NAME",
    keep: ["TRIGGER_NAME", "EVENT_OBJECT_TABLE", "ACTION_TIMING", "EVENT_MANIPULATION", "ACTION_ORDER"],
  },
};

/** ER_UNKNOWN_TABLE: "Unknown table 'X' in information_schema". */
const ER_UNKNOWN_TABLE = 1109;
/** ER_NO_SUCH_TABLE. */
const ER_NO_SUCH_TABLE = 1146;

/**
 * Reads the catalog of `database`: `SELECT VERSION()` and one parameterised query per
 * information_schema table. Throws a StackError when the database does not exist (or is not visible
 * to this user).
 */
export async function readCatalog(connection: Queryable, database: string): Promise<Catalog> {
  const [versionRows] = await connection.query<RowDataPacket[]>("SELECT VERSION() AS VERSION");
  const version = text(normaliseRow(versionRows[0] ?? {}).VERSION);
  await requireDatabase(connection, database);

  const restore = await freshStatistics(connection, version);
  try {
    const rows = (name: SourceName) => readRows(connection, SOURCES[name], database);
    // One query at a time (a connection runs them in turn anyway), in this order.
    return {
      version,
      database,
      tables: await rows("tables"),
      columns: await rows("columns"),
      statistics: await rows("statistics"),
      tableConstraints: await rows("tableConstraints"),
      keyColumnUsage: await rows("keyColumnUsage"),
      referentialConstraints: await rows("referentialConstraints"),
      checkConstraints: await absentAsNull(rows("checkConstraints")),
      views: await rows("views"),
      viewTableUsage: await absentAsNull(rows("viewTableUsage")),
      triggers: await rows("triggers"),
    };
  } finally {
    await restore();
  }
}

async function readRows(connection: Queryable, source: Source, database: string): Promise<CatalogRow[]> {
  const sql = `SELECT * FROM information_schema.${source.table} WHERE ${source.schemaColumn} = ? ORDER BY ${source.orderBy}`;
  const [rows] = await connection.query<RowDataPacket[]>(sql, [database]);
  return rows.map((row) => project(normaliseRow(row), source.keep));
}

/** An information_schema table this server does not have reads as null. */
async function absentAsNull(read: Promise<CatalogRow[]>): Promise<CatalogRow[] | null> {
  try {
    return await read;
  } catch (error) {
    const errno = (error as { errno?: number }).errno;
    if (errno === ER_UNKNOWN_TABLE || errno === ER_NO_SUCH_TABLE) return null;
    throw error;
  }
}

async function requireDatabase(connection: Queryable, database: string): Promise<void> {
  const [rows] = await connection.query<RowDataPacket[]>(
    "SELECT SCHEMA_NAME AS NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME",
  );
  const names = rows.map((row) => text(normaliseRow(row).NAME));
  if (names.includes(database)) return;
  const system = new Set(["information_schema", "mysql", "performance_schema", "sys"]);
  const others = names.filter((name) => !system.has(name));
  const listed =
    others.length === 0
      ? "the server has no user databases"
      : `databases on this server: ${others.slice(0, 10).join(", ")}${others.length > 10 ? ", ..." : ""}`;
  throw new StackError(`database "${database}" does not exist (or this user cannot see it)`, {
    hint: `${listed}; pass --database NAME or put the database in MYSQL_URL (mysql://user:pass@host:port/NAME)`,
  });
}

/**
 * MySQL 8 caches TABLES statistics for a day (information_schema_stats_expiry); a stale estimate
 * could send a large table to COUNT(*). Ask for fresh ones for this read, then put the setting back.
 */
async function freshStatistics(connection: Queryable, version: string): Promise<() => Promise<void>> {
  if (/mariadb/i.test(version) || Number.parseInt(version, 10) < 8) return async () => undefined;
  try {
    const [rows] = await connection.query<RowDataPacket[]>(
      "SELECT @@SESSION.information_schema_stats_expiry AS EXPIRY",
    );
    const previous = normaliseRow(rows[0] ?? {}).EXPIRY;
    await connection.query("SET SESSION information_schema_stats_expiry = 0");
    return async () => {
      await connection.query("SET SESSION information_schema_stats_expiry = ?", [previous ?? 86400]);
    };
  } catch {
    return async () => undefined;
  }
}

/**
 * Exact `COUNT(*)` for each of `tables` (a few UNION ALL queries, not one round trip per table).
 * `introspect` asks this for the tables whose estimate is under EXACT_COUNT_BELOW.
 */
export async function exactRowCounts(
  connection: Queryable,
  database: string,
  tables: readonly string[],
): Promise<Record<string, number>> {
  const counts: Array<[string, number]> = [];
  const chunk = 100;
  for (let start = 0; start < tables.length; start += chunk) {
    const names = tables.slice(start, start + chunk);
    const sql = names
      .map(
        (name) =>
          `SELECT ? AS TABLE_NAME, COUNT(*) AS N FROM ${connection.escapeId(database)}.${connection.escapeId(name)}`,
      )
      .join(" UNION ALL ");
    const [rows] = await connection.query<RowDataPacket[]>(sql, names);
    for (const row of rows) {
      const normal = normaliseRow(row);
      counts.push([text(normal.TABLE_NAME), Number(normal.N)]);
    }
  }
  return Object.fromEntries(counts);
}

/**
 * For each foreign key of the tables in `counts` that hold rows: the most rows that refer to one parent row (one
 * GROUP BY over the key's columns, which InnoDB indexes; only tables under EXACT_COUNT_BELOW rows are asked, so it
 * stays cheap). Keyed `table.constraint`.
 */
export async function foreignKeyFanOuts(
  connection: Queryable,
  catalog: Catalog,
  counts: Record<string, number>,
): Promise<Record<string, number>> {
  const byConstraint = new Map<string, { table: string; columns: Array<[number, string]> }>();
  for (const row of catalog.keyColumnUsage) {
    if (text(row.REFERENCED_TABLE_NAME) === "") continue;
    const table = text(row.TABLE_NAME);
    const rows = counts[table] ?? 0;
    if (rows === 0 || rows >= EXACT_COUNT_BELOW) continue;
    const key = `${table}.${text(row.CONSTRAINT_NAME)}`;
    const entry = byConstraint.get(key) ?? { table, columns: [] };
    entry.columns.push([Number(row.ORDINAL_POSITION ?? 0), text(row.COLUMN_NAME)]);
    byConstraint.set(key, entry);
  }
  const fanOuts: Record<string, number> = {};
  for (const [key, { table, columns }] of [...byConstraint].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // Quoted whole (a name may hold a dot, which escapeId would read as a qualifier).
    const quote = (name: string) => `\`${name.replaceAll("`", "``")}\``;
    const names = columns.sort((a, b) => a[0] - b[0]).map(([, name]) => quote(name));
    const from = `${quote(catalog.database)}.${quote(table)}`;
    const sql = `SELECT MAX(n) AS N FROM (SELECT COUNT(*) AS n FROM ${from} WHERE ${names.map((n) => `${n} IS NOT NULL`).join(" AND ")} GROUP BY ${names.join(", ")}) AS fan`;
    try {
      const [found] = await connection.query<RowDataPacket[]>(sql);
      const first = found[0] === undefined ? undefined : normaliseRow(found[0]);
      fanOuts[key] = Number(first?.N ?? 0);
    } catch {
      // Only a refinement of the average: a key that cannot be counted is sized by the row counts.
    }
  }
  return fanOuts;
}

/** The base tables of a catalog whose TABLE_ROWS estimate is under EXACT_COUNT_BELOW (or unknown). */
export function tablesToCount(catalog: Catalog): string[] {
  return catalog.tables
    .filter((row) => isBaseTable(row))
    .filter((row) => {
      const estimate = row.TABLE_ROWS;
      return estimate === null || estimate === undefined || Number(estimate) < EXACT_COUNT_BELOW;
    })
    .map((row) => text(row.TABLE_NAME));
}

/** BASE TABLE on both servers; MariaDB says SYSTEM VERSIONED for system-versioned tables. */
export function isBaseTable(row: CatalogRow): boolean {
  const type = text(row.TABLE_TYPE).toUpperCase();
  return type === "BASE TABLE" || type === "SYSTEM VERSIONED";
}

/** Upper-case keys, and values made JSON-safe: Buffers as UTF-8, Dates as ISO strings, bigints as strings. */
export function normaliseRow(row: object): CatalogRow {
  const out: CatalogRow = {};
  for (const [key, value] of Object.entries(row)) out[key.toUpperCase()] = catalogValue(value);
  return out;
}

function catalogValue(value: unknown): CatalogValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" || typeof value === "number") return value;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "boolean") return value ? 1 : 0;
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

function project(row: CatalogRow, keep: readonly string[]): CatalogRow {
  const out: CatalogRow = {};
  for (const key of keep) {
    const value = row[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function text(value: CatalogValue | undefined): string {
  return value === null || value === undefined ? "" : String(value);
}
