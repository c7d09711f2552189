/**
 * The observed workload: statements seen on the server, normalised to digests, counted, and broken
 * down into the tables and columns they use, so the analyzer can turn them into access patterns.
 */

export interface Workload {
  /** Where it came from: "general_log table", "performance_schema digests", or a file path. */
  origin: string;
  /** Length of the observed window in seconds (first to last statement, at least 1). */
  seconds: number;
  /** Statements seen in total (after filtering to the analysed database). */
  queries: number;
  /** One entry per distinct digest, most frequent first (ties by digest). */
  statements: ObservedStatement[];
}

export interface ObservedStatement {
  /** sha1 of `sql`, first 16 hex characters. */
  digest: string;
  /** Normalised text: literals -> ?, IN (?, ?, ...) -> IN (...), whitespace collapsed, keywords upper case, identifiers as written (unquoted where safe). */
  sql: string;
  /** One of the original statements, for people to read. */
  example: string;
  count: number;
  perSecond: number;
  shape: StatementShape;
  /** Set on a statement inferred from the schema (propose/infer.ts), never seen: the key or index it stands for. */
  inferred?: { from: string };
}

export type StatementKind = "select" | "insert" | "update" | "delete" | "replace" | "other";

export interface StatementShape {
  kind: StatementKind;
  /** Tables used, resolved from aliases, in order of appearance (database prefix dropped when it is the analysed one). */
  tables: string[];
  /** Conditions in WHERE (and ON for joins) on a column compared with a parameter or literal. */
  conditions: ColumnCondition[];
  /** Column-to-column equalities from JOIN ... ON and WHERE (a.x = b.y). */
  joins: Array<{ left: ColumnRef; right: ColumnRef }>;
  /** ORDER BY columns in order. */
  orderBy: Array<{ column: ColumnRef; direction: "asc" | "desc" }>;
  /** LIMIT present (with or without OFFSET). */
  limit: boolean;
  /** COUNT/SUM/AVG/MIN/MAX or GROUP BY / HAVING / DISTINCT present. */
  aggregate: boolean;
  /** Columns written by INSERT/UPDATE/REPLACE. */
  writes: ColumnRef[];
  /** FOR UPDATE / LOCK IN SHARE MODE. */
  locking: boolean;
  /** Subqueries, UNION, or anything the shape extractor could not follow; `tables`/`conditions` are then best effort. */
  complex: boolean;
}

export interface ColumnRef {
  table: string;
  column: string;
}

export type ConditionOperator =
  | "="
  | "in"
  | "<"
  | "<="
  | ">"
  | ">="
  | "between"
  | "!="
  | "is null"
  | "is not null"
  | "like-prefix"
  | "like-contains"
  | "other";

export interface ColumnCondition {
  column: ColumnRef;
  operator: ConditionOperator;
}
