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
  /** AVG_ROW_LENGTH, plus an estimate of off-page TEXT/BLOB bytes where known. */
  avgRowBytes: number;
  /** Largest possible row in bytes from the column types (for the 400 KB item warning); null = unbounded (LONGBLOB etc.). */
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
  /** Full type as MySQL prints it, lower case, normalised across servers: "decimal(10,2)", "int unsigned" vs "int(10) unsigned" -> keep as reported but see `displayWidth`. */
  columnType: string;
  nullable: boolean;
  /** The default as SQL text on both servers: NULL default -> undefined when nullable without default, string literals quoted ('abc'), numbers bare (0), expressions lower case (current_timestamp(3)). */
  default?: string;
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
  /** TINYINT(1) on servers that still print the display width (MariaDB, MySQL < 8.0.19), and BOOL/BOOLEAN. */
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
  onDelete: string;
  onUpdate: string;
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
