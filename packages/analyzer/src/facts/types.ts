/**
 * Schema facts: what information_schema says about one database, normalised so MariaDB and MySQL 8
 * read the same (JSON columns, quoted defaults, display widths are smoothed over here, nowhere else).
 */

export interface SchemaFacts {
  engine: "mysql" | "mariadb";
  /** e.g. "10.11.19-MariaDB-0+deb12u1" or "8.0.36". */
  serverVersion: string;
  database: string;
  /** Base tables, by name order. */
  tables: TableFacts[];
  views: ViewFacts[];
  triggers: TriggerFacts[];
}

export interface TableFacts {
  name: string;
  /** Estimated rows (information_schema.TABLES.TABLE_ROWS; exact COUNT(*) for tables under 100k rows). */
  rows: number;
  /**
   * DATA_LENGTH / rows (InnoDB counts off-page TEXT/BLOB pages in DATA_LENGTH); for an empty table, or a
   * single-page table where that says more about the page than the rows, a guess from the column types.
   */
  avgRowBytes: number;
  /** Largest possible row in bytes from the column types (for the 400 KB item warning): MySQL storage sizes, text as CHARACTER_OCTET_LENGTH (utf8mb4: 4 bytes a character); null = unbounded (MEDIUMTEXT/MEDIUMBLOB and larger, JSON, spatial). */
  maxRowBytes: number | null;
  columns: ColumnInfo[];
  /** Primary key columns in key order; empty when the table has none. */
  primaryKey: string[];
  uniqueKeys: KeyInfo[];
  /** Non-unique secondary indexes (not the primary key, not unique keys). */
  indexes: KeyInfo[];
  foreignKeys: ForeignKeyInfo[];
  comment?: string;
}

export interface ColumnInfo {
  name: string;
  /** 1-based position in the table. */
  position: number;
  /** Base type, lower case: "int", "bigint", "varchar", "decimal", "enum", "json", "longtext", "geometry", ... JSON is "json" on both servers. */
  dataType: string;
  /** Full type as the server prints it, lower case: "decimal(10,2)"; integer display widths kept as reported ("int(10) unsigned" on MariaDB, "int unsigned" on MySQL 8.0.19+); "json" for JSON on both servers. */
  columnType: string;
  nullable: boolean;
  /**
   * The default as SQL text, one form for both servers: string literals single-quoted with a quote doubled
   * and nothing else escaped ('it''s'), numbers bare (0, -1.50), BIT as b'101', BINARY/VARBINARY as text when
   * printable else 0x-hex, expressions lower case outside quotes (current_timestamp(), current_timestamp(3),
   * uuid(), (6 * 7)). Undefined for no default and for DEFAULT NULL, and for generated columns.
   */
  default?: string;
  /** ON UPDATE expression in the same form as `default` (e.g. current_timestamp()): the server rewrites the column on every UPDATE. */
  onUpdate?: string;
  autoIncrement: boolean;
  generated: boolean;
  unsigned: boolean;
  /** DECIMAL/NUMERIC precision and scale; fractional-seconds precision for DATETIME/TIMESTAMP/TIME in `scale`. */
  precision?: number;
  scale?: number;
  /** Character length for CHAR/VARCHAR/TEXT, byte length for BINARY/VARBINARY/BLOB, bits for BIT. */
  maxLength?: number;
  /** ENUM / SET members in order. */
  values?: string[];
  /** True for JSON (MySQL 8) and for MariaDB's LONGTEXT with a json_valid() CHECK. */
  json: boolean;
  /** columnType exactly "tinyint(1)" (BOOL/BOOLEAN are that): MariaDB prints it, and MySQL 8.0.19+ keeps that one display width. */
  booleanLike: boolean;
  charset?: string;
  collation?: string;
  comment?: string;
}

export interface KeyInfo {
  name: string;
  columns: string[];
}

export interface ForeignKeyInfo {
  name: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  /** CASCADE, SET NULL, SET DEFAULT or RESTRICT (NO ACTION reads RESTRICT: InnoDB treats them alike, and MySQL 8 reports an unspecified rule as NO ACTION where MariaDB says RESTRICT). */
  onDelete: string;
  onUpdate: string;
  /** The most rows of this table that refer to one parent row, measured for a table under 100k rows that has any. */
  maxChildren?: number;
}

export interface ViewFacts {
  name: string;
  /** Base tables the view reads, when the server says (best effort). */
  tables: string[];
}

export interface TriggerFacts {
  name: string;
  table: string;
  timing: "BEFORE" | "AFTER";
  event: "INSERT" | "UPDATE" | "DELETE";
}
