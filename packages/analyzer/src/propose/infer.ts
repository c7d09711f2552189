/**
 * Access patterns inferred from the schema alone, for a database whose workload was never captured (and beside an
 * observed one): a get by each UNIQUE key, a listing of children by each foreign key (newest first by an indexed
 * date column after the key, else by the child's primary key), and a listing by each secondary index's leading
 * columns. Each is a statement shape like an observed one, so the key design and the patterns treat both alike; it
 * weighs INFERRED_WEIGHT (far below one observed statement), so observed lookups always rank first.
 */
import type { SchemaFacts, TableFacts } from "../facts/types.ts";
import type { ObservedStatement, StatementShape } from "../workload/types.ts";
import { byCodePoint } from "./canonical.ts";

/** What one inferred statement weighs in the key design: all of a schema's together stay below one observed. */
export const INFERRED_WEIGHT = 1e-6;

const TEMPORAL = new Set(["date", "datetime", "timestamp"]);
/** Types whose equality is no lookup anyone makes (a float, a moment): an index led by one is read by range. */
const NO_EQUALITY = new Set(["float", "double", "real", "date", "datetime", "timestamp", "time", "year"]);

const quote = (name: string) => `\`${name.replaceAll("`", "``")}\``;

function statement(
  table: string,
  columns: readonly string[],
  order: { column: string; direction: "asc" | "desc" } | undefined,
  listing: boolean,
  from: string,
): ObservedStatement {
  const shape: StatementShape = {
    kind: "select",
    tables: [table],
    conditions: columns.map((column) => ({ column: { table, column }, operator: "=" })),
    joins: [],
    orderBy: order === undefined ? [] : [{ column: { table, column: order.column }, direction: order.direction }],
    limit: listing,
    aggregate: false,
    writes: [],
    locking: false,
    complex: false,
  };
  const where = columns.map((c) => `${quote(c)} = ?`).join(" AND ");
  const sql = `SELECT * FROM ${quote(table)} WHERE ${where}${order ? ` ORDER BY ${quote(order.column)} ${order.direction.toUpperCase()}` : ""}${listing ? " LIMIT ?" : ""}`;
  return { digest: from, sql, example: sql, count: INFERRED_WEIGHT, perSecond: 0, shape, inferred: { from } };
}

/** The order a listing of `table` by `columns` comes in: an indexed date column right after them, else the key. */
function listingOrder(
  table: TableFacts,
  columns: readonly string[],
): { column: string; direction: "asc" | "desc" } | undefined {
  const type = (name: string) => table.columns.find((c) => c.name === name)?.dataType ?? "";
  for (const key of [...table.indexes, ...table.uniqueKeys]) {
    const next = key.columns[columns.length];
    if (next && columns.every((c, i) => key.columns[i] === c) && TEMPORAL.has(type(next))) {
      return { column: next, direction: "desc" };
    }
  }
  const rest = table.primaryKey.find((c) => !columns.includes(c));
  return rest === undefined ? undefined : { column: rest, direction: "asc" };
}

/**
 * The inferred statements of every table with a primary key, one per distinct lookup (the first source of it wins:
 * a unique key, then a foreign key, then an index), none that the primary key itself answers.
 */
export function inferStatements(facts: SchemaFacts): ObservedStatement[] {
  const out: ObservedStatement[] = [];
  for (const table of facts.tables) {
    if (table.primaryKey.length === 0) continue;
    const seen = new Set<string>([[...table.primaryKey].sort(byCodePoint).join(",")]);
    const add = (columns: readonly string[], make: () => ObservedStatement) => {
      const id = [...columns].sort(byCodePoint).join(",");
      if (columns.length === 0 || seen.has(id)) return;
      seen.add(id);
      out.push(make());
    };
    const type = (name: string) => table.columns.find((c) => c.name === name)?.dataType ?? "";
    for (const key of table.uniqueKeys) {
      add(key.columns, () =>
        statement(
          table.name,
          key.columns,
          undefined,
          false,
          `unique key ${table.name}.${key.name} (${key.columns.join(", ")})`,
        ),
      );
    }
    for (const fk of table.foreignKeys) {
      add(fk.columns, () =>
        statement(
          table.name,
          fk.columns,
          listingOrder(table, fk.columns),
          true,
          `foreign key ${table.name}.${fk.name} (${fk.columns.join(", ")}) to ${fk.referencedTable}`,
        ),
      );
    }
    const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((c, i) => b[i] === c);
    for (const index of table.indexes) {
      // The index InnoDB keeps for a foreign key (or one just like it) says nothing the key has not said.
      if (table.foreignKeys.some((fk) => same(fk.columns, index.columns))) continue;
      const last = index.columns.at(-1) ?? "";
      const columns = index.columns.length > 1 ? index.columns.slice(0, -1) : index.columns;
      if (columns.some((c) => NO_EQUALITY.has(type(c)))) continue;
      const order =
        index.columns.length > 1
          ? { column: last, direction: TEMPORAL.has(type(last)) ? ("desc" as const) : ("asc" as const) }
          : listingOrder(table, columns);
      add(columns, () =>
        statement(table.name, columns, order, true, `index ${table.name}.${index.name} (${index.columns.join(", ")})`),
      );
    }
  }
  return out;
}
