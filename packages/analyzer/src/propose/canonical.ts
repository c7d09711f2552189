/**
 * Statement shapes in the schema's own names: MySQL matches column names regardless of case (and table
 * names too on some servers), so `WHERE Email = ?` is a lookup by `email`; columns the schema does not
 * have (a typo, a dropped column) are left out rather than guessed.
 */
import type { SchemaFacts } from "../facts/types.ts";
import type { ColumnRef, ObservedStatement, StatementShape } from "../workload/types.ts";

/** A plain code-point comparison: the same order on every machine, whatever its locale. */
export const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function canonicalStatements(statements: readonly ObservedStatement[], facts: SchemaFacts): ObservedStatement[] {
  const tables = new Map<string, { name: string; columns: Map<string, string> }>();
  for (const table of facts.tables) {
    const entry = { name: table.name, columns: new Map(table.columns.map((c) => [c.name.toLowerCase(), c.name])) };
    tables.set(table.name, entry);
    if (!tables.has(table.name.toLowerCase())) tables.set(table.name.toLowerCase(), entry);
  }
  const table = (name: string) => tables.get(name) ?? tables.get(name.toLowerCase());

  return statements.map((statement) => {
    const { shape } = statement;
    const names = shape.tables.map((t) => table(t)?.name ?? t);
    const only = names.length === 1 ? names[0] : undefined;
    const ref = (r: ColumnRef): ColumnRef | undefined => {
      const t = table(r.table || only || "");
      const column = t?.columns.get(r.column.toLowerCase());
      return t && column ? { table: t.name, column } : undefined;
    };
    const canonical: StatementShape = {
      ...shape,
      tables: names,
      conditions: shape.conditions.flatMap((c) => {
        const column = ref(c.column);
        return column ? [{ ...c, column }] : [];
      }),
      joins: shape.joins.flatMap((j) => {
        const left = ref(j.left);
        const right = ref(j.right);
        return left && right ? [{ left, right }] : [];
      }),
      orderBy: shape.orderBy.flatMap((o) => {
        const column = ref(o.column);
        return column ? [{ ...o, column }] : [];
      }),
      writes: shape.writes.flatMap((w) => {
        const column = ref(w);
        return column ? [column] : [];
      }),
    };
    return { ...statement, shape: canonical };
  });
}
