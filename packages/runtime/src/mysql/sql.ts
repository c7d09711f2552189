/**
 * The SQL for one entity, built once from the contract as plain text the generated code can embed (sqlc style):
 * identifiers quoted with backticks, every value a `?` parameter. Rows read with these statements go through the
 * codec's fromRow; parameters come from its toRow (so read them with mysqlTypeCast: GEOMETRY arrives as its stored
 * SRID + WKB bytes, the form the codec expects, which is why geometry columns are selected as they are).
 */

import { type ConditionOperator, isConditionOperator } from "@ferry/contract";
import type { Codec } from "../codec/index.ts";

/** `name` quoted for MySQL: in backticks, a backtick inside doubled. */
export function escapeId(name: string): string {
  return `\`${name.replaceAll("`", "``")}\``;
}

export interface UpdateShape {
  /** Attributes set to a parameter. */
  set: readonly string[];
  /** Attributes incremented by a parameter (`col = col + ?`). */
  add?: readonly string[];
  /** Conditions on the row, ANDed after the key. */
  conditions?: ReadonlyArray<{ attribute: string; op: ConditionOperator }>;
}

export interface ListStatements {
  /** The first page: parameters are the filter values, then the limit. */
  readonly first: string;
  /** A following page: the filter values, the last row's order values (order attributes, then the key), the limit. */
  readonly next: string;
  /** The attributes whose values a cursor carries, in parameter order: the order attribute, then the primary key. */
  readonly cursorAttributes: readonly string[];
}

export interface MysqlStatements {
  readonly entity: string;
  readonly table: string;
  /** Every attribute with a column, in contract order (the order of `columns`). */
  readonly attributes: readonly string[];
  /** The select list: every column, escaped, comma separated. */
  readonly columns: string;
  /** The primary key attributes, in the table's key order. */
  readonly keyAttributes: readonly string[];
  /** The attributes a key names (the codec's identity: the primary key's, then the key templates'): the parameter order of the ByKey statements. */
  readonly identityAttributes: readonly string[];
  /** The auto-increment attribute, when there is one. */
  readonly autoIncrement: string | undefined;
  /** Parameters: the identity attributes. */
  readonly selectByKey: string;
  /** Every column except the auto-increment one (the server makes the id); parameters in `attributes` order. */
  readonly insert: string;
  /** Parameters: the identity attributes. */
  readonly deleteByKey: string;
  /** DELETE by key where every condition holds: parameters are the key, then the condition values. */
  deleteByKeyIf(conditions: readonly { attribute: string; op: ConditionOperator }[]): string;
  /** Locks the row by key where every condition holds (SELECT ... FOR UPDATE): parameters as deleteByKeyIf. */
  lockByKeyIf(conditions: readonly { attribute: string; op: ConditionOperator }[]): string;
  /** INSERT of these attributes only (the others take their defaults); parameters in the order given. */
  insertColumns(attributes: readonly string[]): string;
  /** UPDATE by key: parameters are the `set` values, the `add` amounts, the key, then the condition values. */
  updateByKey(shape: UpdateShape | readonly string[]): string;
  /** Keyset-paginated listing filtered by equality on `where` (NULL-safe), ordered by `order` then the key. */
  /**
   * A search by the words of `attribute` (a word index): rows that may have all `words` words, the highest primary
   * key first, `LIMIT ?`; with `after`, only keys below `?`. Parameters: one LIKE pattern per word, NOT_ASCII, then
   * the key (with `after`), then the limit. A row whose text has a character beyond ASCII is always a candidate: LIKE
   * compares such text character by character (`'Straße' LIKE '%strasse%'` is false where `=` is true), and the
   * caller decides on each row with the words as the index folds them.
   */
  searchBy(attribute: string, words: number, after: boolean): string;
  listBy(
    where: readonly string[],
    order?: { attribute: string; direction: "asc" | "desc" },
    conditions?: readonly { attribute: string; op: ConditionOperator }[],
  ): ListStatements;
}

/** The REGEXP parameter of searchBy: a character beyond ASCII. */
export const NOT_ASCII = "[^\\x00-\\x7F]";

/** Builds the statements of one entity of the codec's contract. */
export function mysqlStatements(codec: Codec, entityName: string): MysqlStatements {
  const entity = codec.entity(entityName);
  const definition = entity.definition;
  const table = escapeId(definition.source.table);
  const byColumn = new Map<string, string>();
  const columnOf = new Map<string, string>();
  let autoIncrement: string | undefined;
  for (const attribute of entity.attributes) {
    if (attribute.column === undefined) continue;
    byColumn.set(attribute.column, attribute.name);
    columnOf.set(attribute.name, attribute.column);
    if (definition.attributes[attribute.name]?.column.autoIncrement === true) autoIncrement = attribute.name;
  }
  const attributes = [...columnOf.keys()];
  const column = (attribute: string): string => {
    const name = columnOf.get(attribute);
    if (name === undefined) throw new Error(`${entityName}: '${attribute}' is not an attribute with a MySQL column`);
    return escapeId(name);
  };
  const keyAttributes = definition.source.primaryKey.map((name) => {
    const attribute = byColumn.get(name);
    if (attribute === undefined) {
      throw new Error(`${entityName}: primary key column '${name}' is not one of its attributes`);
    }
    return attribute;
  });
  if (keyAttributes.length === 0) throw new Error(`${entityName}: the table has no primary key`);
  const columns = attributes.map(column).join(", ");
  const identityAttributes = entity.identity;
  const keyWhere = identityAttributes.map((a) => `${column(a)} = ?`).join(" AND ");
  const select = `SELECT ${columns} FROM ${table}`;

  const insertColumns = (names: readonly string[]): string => {
    if (names.length === 0) return `INSERT INTO ${table} () VALUES ()`;
    return `INSERT INTO ${table} (${names.map(column).join(", ")}) VALUES (${names.map(() => "?").join(", ")})`;
  };

  const checksOf = (conditions: readonly { attribute: string; op: ConditionOperator }[]): string[] =>
    conditions.map(({ attribute, op }) => {
      if (!isConditionOperator(op)) throw new Error(`${entityName}: unknown condition operator '${op}'`);
      if (op === "=") return `${column(attribute)} <=> ?`;
      if (op === "<>") return `NOT (${column(attribute)} <=> ?)`;
      return `${column(attribute)} ${op} ?`;
    });

  const updateByKey = (shape: UpdateShape | readonly string[]): string => {
    const { set, add = [], conditions = [] } = isShape(shape) ? shape : { set: shape };
    const assignments = [...set.map((a) => `${column(a)} = ?`), ...add.map((a) => `${column(a)} = ${column(a)} + ?`)];
    if (assignments.length === 0) throw new Error(`${entityName}: an update must change at least one attribute`);
    return `UPDATE ${table} SET ${assignments.join(", ")} WHERE ${[keyWhere, ...checksOf(conditions)].join(" AND ")}`;
  };

  const listBy = (
    where: readonly string[],
    order?: { attribute: string; direction: "asc" | "desc" },
    conditions: readonly { attribute: string; op: ConditionOperator }[] = [],
  ): ListStatements => {
    const direction = order?.direction ?? "asc";
    if (direction !== "asc" && direction !== "desc") throw new Error(`${entityName}: unknown direction '${direction}'`);
    const orderAttributes = order === undefined || keyAttributes.includes(order.attribute) ? [] : [order.attribute];
    for (const attribute of orderAttributes) {
      if (definition.attributes[attribute]?.column.nullable !== false) {
        throw new Error(
          `${entityName}: keyset pagination needs a NOT NULL order attribute, '${attribute}' is nullable`,
        );
      }
    }
    const cursorAttributes =
      order !== undefined && keyAttributes.includes(order.attribute)
        ? [order.attribute, ...keyAttributes.filter((a) => a !== order.attribute)]
        : [...orderAttributes, ...keyAttributes];
    const filters = [...where.map((a) => `${column(a)} <=> ?`), ...checksOf(conditions)];
    const dir = direction === "desc" ? " DESC" : "";
    const orderBy = ` ORDER BY ${cursorAttributes.map((a) => `${column(a)}${dir}`).join(", ")} LIMIT ?`;
    const tuple = (parts: readonly string[]) => (parts.length === 1 ? parts[0] : `(${parts.join(", ")})`);
    const after = `${tuple(cursorAttributes.map(column))} ${direction === "desc" ? "<" : ">"} ${tuple(cursorAttributes.map(() => "?"))}`;
    const whereText = (parts: readonly string[]) => (parts.length === 0 ? "" : ` WHERE ${parts.join(" AND ")}`);
    return {
      first: `${select}${whereText(filters)}${orderBy}`,
      next: `${select}${whereText([...filters, after])}${orderBy}`,
      cursorAttributes,
    };
  };

  const searchBy = (attribute: string, words: number, after: boolean): string => {
    if (keyAttributes.length !== 1) throw new Error(`${entityName}: a search needs a one-column primary key`);
    const key = column(keyAttributes[0] as string);
    const text = column(attribute);
    const likes = Array.from({ length: words }, () => `${text} LIKE ?`).join(" AND ");
    const candidates = `((${likes || "TRUE"}) OR ${text} REGEXP ?)`;
    return `${select} WHERE ${candidates}${after ? ` AND ${key} < ?` : ""} ORDER BY ${key} DESC LIMIT ?`;
  };

  return {
    entity: entityName,
    table: definition.source.table,
    attributes,
    columns,
    keyAttributes,
    identityAttributes,
    autoIncrement,
    selectByKey: `${select} WHERE ${keyWhere}`,
    insert: insertColumns(attributes.filter((a) => a !== autoIncrement)),
    deleteByKey: `DELETE FROM ${table} WHERE ${keyWhere}`,
    deleteByKeyIf: (conditions) => `DELETE FROM ${table} WHERE ${[keyWhere, ...checksOf(conditions)].join(" AND ")}`,
    lockByKeyIf: (conditions) =>
      `SELECT 1 AS found FROM ${table} WHERE ${[keyWhere, ...checksOf(conditions)].join(" AND ")} FOR UPDATE`,
    insertColumns,
    updateByKey,
    searchBy,
    listBy,
  };
}

function isShape(shape: UpdateShape | readonly string[]): shape is UpdateShape {
  return !Array.isArray(shape);
}
