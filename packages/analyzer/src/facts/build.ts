/**
 * Catalog -> SchemaFacts. Pure: the same catalog always gives the same facts, and a MariaDB and a
 * MySQL 8 catalog of the same DDL give the same facts except for what differs legitimately
 * (engine, serverVersion, integer display widths in `columnType`).
 */
import { type Catalog, type CatalogRow, isBaseTable } from "./catalog.ts";
import { columnFacts, int, maxColumnBytes, type ServerDialect, text, typicalColumnBytes } from "./columns.ts";
import { stripParentheses } from "./sql-text.ts";
import type { ForeignKeyInfo, KeyInfo, SchemaFacts, TableFacts, TriggerFacts, ViewFacts } from "./types.ts";

/** InnoDB's page: statistics of a table that fits one page say little about its rows. */
const PAGE_BYTES = 16 * 1024;

export function buildFacts(catalog: Catalog, database: string): SchemaFacts {
  const dialect = serverDialect(catalog.version);
  const baseTables = catalog.tables.filter(isBaseTable);
  const columnsByTable = groupBy(catalog.columns, (row) => text(row.TABLE_NAME));
  const statisticsByTable = groupBy(catalog.statistics, (row) => text(row.TABLE_NAME));
  const jsonColumns = jsonCheckedColumns(catalog);
  const foreignKeysByTable = foreignKeys(catalog);

  const tables = baseTables
    .map((row): TableFacts => {
      const name = text(row.TABLE_NAME);
      const columnRows = [...(columnsByTable.get(name) ?? [])].sort(
        (a, b) => (int(a.ORDINAL_POSITION) ?? 0) - (int(b.ORDINAL_POSITION) ?? 0),
      );
      const columns = columnRows.map((column) =>
        columnFacts(column, dialect, jsonColumns.has(columnKey(name, text(column.COLUMN_NAME)))),
      );
      const maxSizes = columns.map((column, i) => maxColumnBytes(column, columnRows[i] ?? {}));
      const keys = indexFacts(statisticsByTable.get(name) ?? []);
      const rows = rowCount(catalog, row);
      const table: TableFacts = {
        name,
        rows,
        avgRowBytes: averageRowBytes(row, rows, columns.map(typicalColumnBytes)),
        maxRowBytes: maxSizes.some((size) => size === null)
          ? null
          : maxSizes.reduce<number>((sum, size) => sum + (size ?? 0), 0),
        columns,
        primaryKey: keys.primaryKey,
        uniqueKeys: keys.uniqueKeys,
        indexes: keys.indexes,
        foreignKeys: foreignKeysByTable.get(name) ?? [],
      };
      const comment = text(row.TABLE_COMMENT);
      if (comment) table.comment = comment;
      return table;
    })
    .sort(byName);

  return {
    engine: dialect.engine,
    serverVersion: catalog.version,
    database,
    tables,
    views: viewFacts(catalog),
    triggers: triggerFacts(catalog),
  };
}

/** MariaDB says so in its version string ("10.11.19-MariaDB-..."); anything else is MySQL. */
export function serverDialect(version: string): ServerDialect {
  if (!/mariadb/i.test(version)) return { engine: "mysql", defaultsAsSql: false };
  // Through some proxies MariaDB's version carries MySQL's "5.5.5-" prefix.
  const [major = 0, minor = 0, patch = 0] = (/^(?:5\.5\.5-)?(\d+)\.(\d+)\.(\d+)/.exec(version) ?? [])
    .slice(1)
    .map(Number);
  // MariaDB 10.2.7 changed COLUMN_DEFAULT to SQL text (quoted strings, NULL, expressions).
  const defaultsAsSql = major > 10 || (major === 10 && (minor > 2 || (minor === 2 && patch >= 7)));
  return { engine: "mariadb", defaultsAsSql };
}

function rowCount(catalog: Catalog, row: CatalogRow): number {
  const name = text(row.TABLE_NAME);
  const exact = catalog.exactRowCounts;
  if (exact && Object.hasOwn(exact, name)) return exact[name] ?? 0;
  return int(row.TABLE_ROWS) ?? 0;
}

/**
 * DATA_LENGTH / rows (AVG_ROW_LENGTH when DATA_LENGTH is missing). A table in a single page is
 * mostly empty page, so there the smaller of that and the column-type estimate is taken; an empty
 * table gets the column-type estimate.
 */
function averageRowBytes(row: CatalogRow, rows: number, typicalColumns: number[]): number {
  const typical = typicalColumns.reduce((sum, bytes) => sum + bytes, 0);
  const dataLength = int(row.DATA_LENGTH) ?? 0;
  const reported = rows > 0 && dataLength > 0 ? dataLength / rows : (int(row.AVG_ROW_LENGTH) ?? 0);
  if (rows === 0 || reported <= 0) return typical;
  return Math.round(dataLength > 0 && dataLength <= PAGE_BYTES ? Math.min(reported, typical) : reported);
}

interface TableKeys {
  primaryKey: string[];
  uniqueKeys: KeyInfo[];
  indexes: KeyInfo[];
}

function indexFacts(statistics: CatalogRow[]): TableKeys {
  const byIndex = groupBy(statistics, (row) => text(row.INDEX_NAME));
  const keys: TableKeys = { primaryKey: [], uniqueKeys: [], indexes: [] };
  for (const [name, rows] of byIndex) {
    const columns = [...rows]
      .sort((a, b) => (int(a.SEQ_IN_INDEX) ?? 0) - (int(b.SEQ_IN_INDEX) ?? 0))
      // A functional key part (MySQL 8.0.13+) has no column, only an expression.
      .map((row) =>
        row.COLUMN_NAME === null || row.COLUMN_NAME === undefined ? `(${text(row.EXPRESSION)})` : text(row.COLUMN_NAME),
      );
    if (name === "PRIMARY") keys.primaryKey = columns;
    else if (int(rows[0]?.NON_UNIQUE) === 0) keys.uniqueKeys.push({ name, columns });
    else keys.indexes.push({ name, columns });
  }
  keys.uniqueKeys.sort(byName);
  keys.indexes.sort(byName);
  return keys;
}

/**
 * Foreign keys by table. InnoDB treats NO ACTION as RESTRICT, and MySQL 8 reports an unspecified
 * rule as NO ACTION where MariaDB reports RESTRICT: both read RESTRICT.
 */
function foreignKeys(catalog: Catalog): Map<string, ForeignKeyInfo[]> {
  const rules = new Map<string, CatalogRow>();
  for (const row of catalog.referentialConstraints) {
    rules.set(columnKey(text(row.TABLE_NAME), text(row.CONSTRAINT_NAME)), row);
  }
  const usage = catalog.keyColumnUsage.filter((row) => text(row.REFERENCED_TABLE_NAME) !== "");
  const byConstraint = groupBy(usage, (row) => columnKey(text(row.TABLE_NAME), text(row.CONSTRAINT_NAME)));
  const byTable = new Map<string, ForeignKeyInfo[]>();
  for (const [key, rows] of byConstraint) {
    const ordered = [...rows].sort((a, b) => (int(a.ORDINAL_POSITION) ?? 0) - (int(b.ORDINAL_POSITION) ?? 0));
    const first = ordered[0];
    if (!first) continue;
    const table = text(first.TABLE_NAME);
    const rule = rules.get(key);
    const foreignKey: ForeignKeyInfo = {
      name: text(first.CONSTRAINT_NAME),
      columns: ordered.map((row) => text(row.COLUMN_NAME)),
      referencedTable: text(first.REFERENCED_TABLE_NAME),
      referencedColumns: ordered.map((row) => text(row.REFERENCED_COLUMN_NAME)),
      onDelete: foreignKeyRule(rule?.DELETE_RULE),
      onUpdate: foreignKeyRule(rule?.UPDATE_RULE),
    };
    const fanOut = catalog.fanOuts?.[`${table}.${foreignKey.name}`];
    if (fanOut !== undefined) foreignKey.maxChildren = fanOut;
    const list = byTable.get(table) ?? [];
    list.push(foreignKey);
    byTable.set(table, list);
  }
  for (const list of byTable.values()) list.sort(byName);
  return byTable;
}

function foreignKeyRule(value: CatalogRow[string] | undefined): string {
  const rule = text(value).toUpperCase() || "RESTRICT";
  return rule === "NO ACTION" ? "RESTRICT" : rule;
}

/** Columns guarded by CHECK (json_valid(`col`)): MariaDB's JSON, or a hand-written check on either server. */
function jsonCheckedColumns(catalog: Catalog): Set<string> {
  const checked = new Set<string>();
  // MySQL 8's CHECK_CONSTRAINTS has no TABLE_NAME; check names are unique per schema there.
  const tableOfCheck = new Map<string, string>();
  for (const row of catalog.tableConstraints) {
    if (text(row.CONSTRAINT_TYPE).toUpperCase() === "CHECK") {
      tableOfCheck.set(text(row.CONSTRAINT_NAME), text(row.TABLE_NAME));
    }
  }
  for (const row of catalog.checkConstraints ?? []) {
    const column = jsonValidColumn(text(row.CHECK_CLAUSE));
    const table = text(row.TABLE_NAME) || tableOfCheck.get(text(row.CONSTRAINT_NAME));
    if (column && table) checked.add(columnKey(table, column));
  }
  return checked;
}

/** The column of a clause that is exactly json_valid(`col`) (in any parentheses); else undefined. */
export function jsonValidColumn(clause: string): string | undefined {
  const current = stripParentheses(clause);
  const quoted = /^json_valid\s*\(\s*`((?:[^`]|``)+)`\s*\)$/i.exec(current);
  if (quoted?.[1]) return quoted[1].replaceAll("``", "`");
  return /^json_valid\s*\(\s*([\p{L}\p{N}_$]+)\s*\)$/iu.exec(current)?.[1];
}

function viewFacts(catalog: Catalog): ViewFacts[] {
  const tableNames = new Set(catalog.tables.filter(isBaseTable).map((row) => text(row.TABLE_NAME)));
  const viewNames = new Set(catalog.views.map((row) => text(row.TABLE_NAME)));
  const direct = new Map<string, string[]>();
  if (catalog.viewTableUsage) {
    for (const row of catalog.viewTableUsage) {
      if (text(row.TABLE_SCHEMA) !== catalog.database) continue;
      const list = direct.get(text(row.VIEW_NAME)) ?? [];
      list.push(text(row.TABLE_NAME));
      direct.set(text(row.VIEW_NAME), list);
    }
  } else {
    for (const row of catalog.views) {
      direct.set(text(row.TABLE_NAME), tablesInDefinition(text(row.VIEW_DEFINITION), catalog.database));
    }
  }
  // A view over a view reads the base tables of that view.
  const resolve = (view: string, seen: Set<string>): string[] => {
    if (seen.has(view)) return [];
    seen.add(view);
    return (direct.get(view) ?? []).flatMap((name) =>
      tableNames.has(name) ? [name] : viewNames.has(name) ? resolve(name, seen) : [],
    );
  };
  return [...viewNames]
    .map((name) => ({ name, tables: [...new Set(resolve(name, new Set()))].sort(compare) }))
    .sort(byName);
}

/**
 * Best effort for servers without VIEW_TABLE_USAGE: both print a view's tables as `db`.`table`
 * (columns as `alias`.`column`), so every `db`.`name` pair naming this database is a candidate.
 */
export function tablesInDefinition(definition: string, database: string): string[] {
  const names: string[] = [];
  for (const match of definition.matchAll(/`((?:[^`]|``)*)`\.`((?:[^`]|``)*)`(?!\.)/g)) {
    const schema = (match[1] ?? "").replaceAll("``", "`");
    if (schema === database) names.push((match[2] ?? "").replaceAll("``", "`"));
  }
  return names;
}

function triggerFacts(catalog: Catalog): TriggerFacts[] {
  return catalog.triggers
    .map(
      (row): TriggerFacts => ({
        name: text(row.TRIGGER_NAME),
        table: text(row.EVENT_OBJECT_TABLE),
        timing: text(row.ACTION_TIMING).toUpperCase() as TriggerFacts["timing"],
        event: text(row.EVENT_MANIPULATION).toUpperCase() as TriggerFacts["event"],
      }),
    )
    .sort(byName);
}

function groupBy(rows: readonly CatalogRow[], key: (row: CatalogRow) => string): Map<string, CatalogRow[]> {
  const groups = new Map<string, CatalogRow[]>();
  for (const row of rows) {
    const name = key(row);
    const list = groups.get(name);
    if (list) list.push(row);
    else groups.set(name, [row]);
  }
  return groups;
}

function columnKey(table: string, column: string): string {
  return `${table}\u0000${column}`;
}

/** Code-unit order, the same on every machine (no locale). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byName(a: { name: string }, b: { name: string }): number {
  return compare(a.name, b.name);
}
