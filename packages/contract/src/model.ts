/**
 * The migration contract's model (version 1). The YAML file, its JSON Schema (schema/contract.schema.json)
 * and these types describe the same thing.
 *
 * Facts vs decisions: blocks named `source` (top level and per entity), `column` (per attribute) and
 * `observed` (per access pattern) are FACTS the analyzer refreshes from MySQL on every run. Everything else
 * is a DECISION: the analyzer proposes it once, people edit it, and re-analysis keeps their edits.
 */

export const CONTRACT_VERSION = 1;

/** How a value is typed in TypeScript and stored in DynamoDB (docs/architecture.md, "Type mapping"). */
export type AttributeType =
  | "string" // CHAR, VARCHAR, TEXT*                      -> string      -> S
  | "integer" // TINYINT..INT, MEDIUMINT, YEAR, BIT(n<=53) -> number      -> N
  | "bigint" // BIGINT (signed or unsigned), BIT(n>53)   -> bigint      -> N (no precision loss)
  | "decimal" // DECIMAL/NUMERIC                           -> string      -> N (exact)
  | "float" // FLOAT, DOUBLE                             -> number      -> N
  | "boolean" // TINYINT(1), BOOL, BIT(1)                  -> boolean     -> BOOL
  | "datetime" // DATETIME, TIMESTAMP                       -> ISO-8601 UTC string -> S
  | "date" // DATE                                     -> 'YYYY-MM-DD' -> S
  | "time" // TIME                                     -> 'HH:MM:SS[.ffffff]' -> S
  | "enum" // ENUM                                     -> literal union -> S
  | "set" // SET                                      -> string[]    -> SS (empty set: absent)
  | "json" // JSON (MariaDB: LONGTEXT + json_valid)     -> JSON value  -> M/L/...
  | "binary" // BINARY, VARBINARY, BLOB*, GEOMETRY (WKB)  -> Uint8Array  -> B
  | "geometry"; // GEOMETRY types, kept as WKB bytes       -> Uint8Array  -> B

export interface Contract {
  version: 1;
  /** The contract's name, e.g. "store"; generated code is named after it. */
  name: string;
  /** FACTS about the source database. */
  source: SourceFacts;
  /** DynamoDB tables by logical name (the physical name is FERRY_TABLE_PREFIX + logical name). */
  tables: Record<string, DynamoTable>;
  /** Entities by name (PascalCase), one per migrated MySQL table. */
  entities: Record<string, Entity>;
  /** Access patterns by name (camelCase). */
  accessPatterns?: Record<string, AccessPattern>;
  /** Multi-entity business operations, all-or-nothing on both stores (detailed by the codegen issue). */
  transactions?: Record<string, Transaction>;
  notes?: string;
}

export interface SourceFacts {
  engine: "mysql" | "mariadb";
  /** e.g. "10.11.19-MariaDB" or "8.0.36". */
  serverVersion: string;
  database: string;
  /** Every base table, migrated or not (so an entity deleted by hand is not proposed again). */
  tables?: string[];
  /** Where the observed workload came from, when one was given. */
  workload?: {
    origin: string;
    seconds: number;
    queries: number;
    digests: number;
    /** Digests the analyzer proposed a pattern for, over every run (a pattern deleted by hand is not proposed again). */
    proposed?: string[];
  };
  /**
   * Every lookup the analyzer inferred an access pattern for, over every run, as `table(column, ...)` (an inferred
   * pattern deleted by hand is not proposed again, whatever its key or index is called).
   */
  inferred?: string[];
  /** Tables that are not migrated, with the reason (e.g. no primary key). */
  skippedTables?: Record<string, string>;
  /** Views: their logic will not run on DynamoDB. */
  views?: string[];
  /** Triggers by name: their logic will not run on DynamoDB. */
  triggers?: Record<string, { table: string; timing: "BEFORE" | "AFTER"; event: "INSERT" | "UPDATE" | "DELETE" }>;
  /** Plain-language warnings (views, triggers, large items, unsupported column types). */
  warnings?: string[];
}

export interface DynamoTable {
  /** Key attribute names; key attributes are strings (S) built from templates. */
  partitionKey: string;
  sortKey?: string;
  billingMode?: "PAY_PER_REQUEST" | "PROVISIONED";
  /** Global secondary indexes by name. */
  indexes?: Record<string, DynamoIndex>;
}

export interface DynamoIndex {
  partitionKey: string;
  sortKey?: string;
  projection?: "ALL" | "KEYS_ONLY";
}

/**
 * A key template: literal text with `{attribute}` placeholders, e.g. "USER#{id}". A placeholder names an
 * attribute of the entity. `{{` and `}}` stand for literal braces.
 */
export type KeyTemplate = string;

export interface KeyTemplates {
  partition: KeyTemplate;
  sort?: KeyTemplate;
}

export type IdStrategy = "auto-increment" | "uuid" | "ulid" | "provided";

export interface Entity {
  /** Logical name of the DynamoDB table the entity's items live in. */
  table: string;
  /** FACTS about the MySQL table. */
  source: EntitySource;
  /** The item's primary key. */
  key: KeyTemplates;
  /** Keys in the table's global secondary indexes, by index name (only indexes this entity uses). */
  indexes?: Record<string, KeyTemplates>;
  /** Attributes by name (camelCase); the DynamoDB attribute has the same name. */
  attributes: Record<string, Attribute>;
  /** Uniqueness that must keep holding on DynamoDB (marker items), by rule name. */
  unique?: Record<string, { attributes: string[] }>;
  /** The entity lives in its parent's item collection (its partition key is the parent's). */
  parent?: { entity: string; attributes: Record<string, string> };
  /**
   * Word indexes for searching a text attribute by its words, by index name: one DynamoDB item per distinct word,
   * kept with the item (see the JSON Schema's description).
   */
  wordIndexes?: Record<string, { attribute: string }>;
  /** Copies of another entity's attribute kept on this entity's items. */
  denormalized?: Record<string, { from: string; attribute: string; via: string }>;
  /** How new ids are made (the same strategy on both stores). */
  id?: { strategy: IdStrategy; attribute: string };
  notes?: string;
}

export interface EntitySource {
  table: string;
  /** Primary key columns, in order. */
  primaryKey: string[];
  rows: number;
  avgRowBytes: number;
  /** Every column, in order (so an attribute deleted by hand is not proposed again). */
  columns?: string[];
  /** UNIQUE keys by name: their columns. */
  uniqueKeys?: Record<string, string[]>;
  /** FOREIGN KEYs by name. */
  foreignKeys?: Record<string, ForeignKeyFacts>;
  /** Secondary (non-unique) indexes by name: their columns. */
  indexes?: Record<string, string[]>;
}

export interface ForeignKeyFacts {
  columns: string[];
  references: { table: string; columns: string[] };
  onDelete?: string;
  onUpdate?: string;
}

export interface Attribute {
  /** DECISION: how the value is typed and stored; must fit the column (e.g. tinyint(1) -> boolean or integer). */
  type: AttributeType;
  /** FACTS about the column the attribute maps to. */
  column: ColumnFacts;
  /**
   * DECISION: a secret (a password hash, a token): copied, validated and compared as any other value, never shown (the
   * console shows `hidden` and a tag). Not allowed in keys, unique rules, word indexes or denormalised copies.
   */
  sensitive?: boolean;
}

export interface ColumnFacts {
  name: string;
  /** The full column type as MySQL prints it, lower case, e.g. "decimal(10,2)", "bigint(20) unsigned", "enum('a','b')". */
  sqlType: string;
  nullable: boolean;
  /** The default as SQL text (e.g. "0", "'pending'", "current_timestamp(3)"); absent when there is none. */
  default?: string;
  /** The value the server sets on every UPDATE (`ON UPDATE current_timestamp(3)`): the dual write must set it too. */
  onUpdate?: string;
  autoIncrement?: boolean;
  /** A generated (virtual/stored) column. */
  generated?: boolean;
  /** JSON, also where MariaDB reports LONGTEXT + json_valid(). */
  json?: boolean;
  /** The collation of a text column, e.g. "utf8mb4_unicode_ci": a `_ci` one compares (and keeps unique) case-insensitively. */
  collation?: string;
}

export type Operation = "GetItem" | "Query" | "PutItem" | "UpdateItem" | "DeleteItem" | "unsupported";

export interface AccessPattern {
  entity: string;
  /** Parameters by name: each names an attribute of the entity, with that attribute's type. */
  parameters?: Record<string, AttributeType>;
  /**
   * DECISION: optional filters of a listing, by argument name: `attribute op argument`, or with `value` a flag that
   * applies `attribute op value` when true. See ListFilter.
   */
  filters?: Record<string, ListFilter>;
  returns?: "one" | "many" | "none";
  /** DECISION: how DynamoDB serves it. */
  dynamodb: {
    operation: Operation;
    /** A global secondary index of the entity's table: what Query reads, or where UpdateItem/DeleteItem find the
     * item's key first (when the statement's condition is not the primary key); absent means the table itself. */
    index?: string;
    /** Query order on the sort key. */
    order?: "asc" | "desc";
    /** A word index of the entity the Query reads: a search by the words of the one string parameter. */
    wordIndex?: string;
    /** Why it cannot be served (required when operation is "unsupported"). */
    reason?: string;
  };
  /** FACTS from the observed workload. */
  observed?: ObservedQuery;
  /** FACT: inferred from the schema (no workload asked for it yet): the UNIQUE key, foreign key or index it stands for. */
  inferred?: { from: string };
  notes?: string;
}

/** One optional filter of a listing (AccessPattern.filters). */
export interface ListFilter {
  /** The attribute compared (one with a MySQL column). */
  attribute: string;
  op: "=" | "<>" | "<" | "<=" | ">" | ">=";
  /** A fixed value: the filter is a flag (a boolean argument) that applies the comparison when true. */
  value?: string | number | boolean;
}

export interface ObservedQuery {
  /** Stable id of the normalised statement (sha1 of the normalised text, first 16 hex). */
  digest: string;
  /** The normalised statement: literals replaced by ?. */
  sql: string;
  count: number;
  /** Average rate over the observed window. */
  perSecond: number;
}

export interface Transaction {
  description?: string;
  /** Entities the transaction writes or checks. */
  entities: string[];
  /** What the generated function takes, by name. */
  input?: Record<string, TransactionInput>;
  /** The writes, in order; all of them happen or none (one MySQL transaction, one TransactWriteItems). */
  steps?: TransactionStep[];
}

/** One input of a transaction: a value of an entity to create, or the key of an existing item; or a list of them. */
export interface TransactionInput {
  entity: string;
  /** new: a value to create (the generated NewEntity type); key: the primary key of an existing item. */
  kind: "new" | "key";
  /** A list (steps go over it with forEach). */
  list?: boolean;
}

/**
 * A value in a step: a literal, or a reference: `{field}` is a field of the forEach element, `{input.field}` a field of
 * a single input (after the step that creates it: the value as stored, with its id); `-{...}` is negated (add only).
 */
export type StepValue = string | number | boolean | null;

/** One step of a transaction: exactly one of create, update, delete, check (the entity it writes or checks). */
export interface TransactionStep {
  create?: string;
  update?: string;
  delete?: string;
  check?: string;
  description?: string;
  /** Repeats the step for every element of a list input. */
  forEach?: string;
  /** create: the input whose value is created (defaults to forEach). */
  from?: string;
  /** update, delete, check: the item's primary key (delete over a list of keys of the entity may leave it out). */
  key?: Record<string, StepValue>;
  /** create: attributes set on the created value; update: attributes changed. */
  set?: Record<string, StepValue>;
  /** update: amounts added to numeric attributes (negative to take away), atomically. */
  add?: Record<string, StepValue>;
  /** update, delete, check: conditions on the stored item, e.g. "inventoryQuantity >= {quantity}"; all must hold. */
  condition?: string[];
}
