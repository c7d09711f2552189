/**
 * What the workload says about each table: which column sets it is looked up by (equality), how often,
 * and in what order results are wanted. The key design is driven by these numbers.
 */

import type { ObservedStatement, StatementShape } from "../workload/types.ts";
import { byCodePoint } from "./canonical.ts";

export interface Lookup {
  /** Equality columns (sorted); empty = the whole table is read. */
  columns: string[];
  count: number;
  /** The ORDER BY most often asked for with this lookup. */
  orderBy?: { column: string; direction: "asc" | "desc" };
}

/** Equality (=, IN) columns per table in one statement. */
export function equalityColumns(shape: StatementShape): Map<string, Set<string>> {
  const byTable = new Map<string, Set<string>>();
  for (const table of shape.tables) byTable.set(table, new Set());
  for (const condition of shape.conditions) {
    if (condition.operator !== "=" && condition.operator !== "in") continue;
    const table = condition.column.table || (shape.tables.length === 1 ? (shape.tables[0] ?? "") : "");
    if (!table) continue;
    const set = byTable.get(table) ?? new Set<string>();
    set.add(condition.column.column);
    byTable.set(table, set);
  }
  return byTable;
}

/** The table a statement is mainly about: for writes the target, for reads the one with most equality conditions. */
export function primaryTable(shape: StatementShape): string | undefined {
  if (shape.kind !== "select") return shape.tables[0];
  const eq = equalityColumns(shape);
  let best: string | undefined;
  let bestCount = -1;
  for (const table of shape.tables) {
    const n = eq.get(table)?.size ?? 0;
    if (n > bestCount) {
      best = table;
      bestCount = n;
    }
  }
  return best;
}

/** Statements a key or index could serve (not aggregates, subqueries or contains-searches). */
export function servable(shape: StatementShape): boolean {
  return !shape.complex && !shape.aggregate && !shape.conditions.some((c) => c.operator === "like-contains");
}

export class TableStats {
  /** Lookups by `columns.join(",")`. */
  readonly lookups = new Map<string, Lookup>();
  private readonly orderVotes = new Map<string, Map<string, number>>();

  add(columns: Set<string>, count: number, shape: StatementShape, table: string): void {
    const sorted = [...columns].sort();
    const id = sorted.join(",");
    const lookup = this.lookups.get(id) ?? { columns: sorted, count: 0 };
    lookup.count += count;
    this.lookups.set(id, lookup);
    const first = shape.orderBy.find((o) => o.column.table === table || o.column.table === "");
    if (first) {
      const vote = `${first.column.column} ${first.direction}`;
      const votes = this.orderVotes.get(id) ?? new Map<string, number>();
      votes.set(vote, (votes.get(vote) ?? 0) + count);
      this.orderVotes.set(id, votes);
      const [best] = [...votes.entries()].sort((a, b) => b[1] - a[1] || byCodePoint(a[0], b[0]));
      if (best) {
        const [column, direction] = best[0].split(" ") as [string, "asc" | "desc"];
        lookup.orderBy = { column, direction };
      }
    }
  }

  /** Total count of lookups whose columns include all of `columns`. */
  countCovering(columns: readonly string[]): number {
    let total = 0;
    for (const lookup of this.lookups.values()) {
      if (columns.every((c) => lookup.columns.includes(c))) total += lookup.count;
    }
    return total;
  }

  /** Lookups, most frequent first (ties by columns). */
  ranked(): Lookup[] {
    return [...this.lookups.values()].sort(
      (a, b) => b.count - a.count || byCodePoint(a.columns.join(), b.columns.join()),
    );
  }
}

/** Per-table lookup statistics over the statements a key could serve. */
export function tableStats(statements: readonly ObservedStatement[]): Map<string, TableStats> {
  const stats = new Map<string, TableStats>();
  for (const statement of statements) {
    const { shape } = statement;
    if (!["select", "update", "delete"].includes(shape.kind) || !servable(shape)) continue;
    const table = primaryTable(shape);
    if (!table) continue;
    // Joined tables are read through the primary one; only the primary table's lookup counts.
    const columns = equalityColumns(shape).get(table) ?? new Set<string>();
    if (columns.size === 0 && (shape.kind !== "select" || shape.tables.length > 1)) continue;
    const entry = stats.get(table) ?? new TableStats();
    entry.add(columns, statement.count, shape, table);
    stats.set(table, entry);
  }
  return stats;
}
