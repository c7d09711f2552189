/**
 * Schema drift: what changed in MySQL since the contract's facts were taken. `ferry analyze --check`
 * fails on it, so CI notices a schema change the contract has not caught up with.
 */
import type { ColumnFacts, Contract, Entity } from "@ferry/contract";
import { byCodePoint } from "../propose/canonical.ts";

export interface DriftReport {
  /** Schema changes (tables, columns, keys, views, triggers): any of these makes `--check` fail. */
  schema: string[];
  /** Workload changes (new statements, statements not seen again): for information. */
  workload: string[];
}

const describeColumn = (c: ColumnFacts) => `${c.sqlType}${c.nullable ? " null" : " not null"}`;

function byTable(contract: Contract): Map<string, Entity> {
  return new Map(Object.values(contract.entities).map((e) => [e.source.table, e]));
}

function keyDiff(
  what: string,
  table: string,
  before: Record<string, string[]> = {},
  after: Record<string, string[]> = {},
): string[] {
  const lines: string[] = [];
  for (const [name, columns] of Object.entries(after)) {
    const old = before[name];
    if (!old) lines.push(`${table}: ${what} ${name} (${columns.join(", ")}) added`);
    else if (old.join() !== columns.join())
      lines.push(`${table}: ${what} ${name} changed (${old.join(", ")}) -> (${columns.join(", ")})`);
  }
  for (const [name, columns] of Object.entries(before)) {
    if (!after[name]) lines.push(`${table}: ${what} ${name} (${columns.join(", ")}) removed`);
  }
  return lines;
}

/** Every table the contract has seen: from its facts, or (older files) from its entities and skipped tables. */
export function knownTables(contract: Contract): Set<string> {
  return new Set(
    contract.source.tables ?? [
      ...Object.values(contract.entities).map((e) => e.source.table),
      ...Object.keys(contract.source.skippedTables ?? {}),
    ],
  );
}

/** Facts-only comparison of the contract as it was and the fresh proposal. */
export function schemaDrift(before: Contract, after: Contract): string[] {
  const lines: string[] = [];
  const old = byTable(before);
  const now = byTable(after);
  const oldTables = knownTables(before);
  const newTables = knownTables(after);
  for (const table of [...newTables].sort(byCodePoint)) {
    if (oldTables.has(table)) continue;
    const entity = now.get(table);
    const reason = after.source.skippedTables?.[table];
    lines.push(
      entity
        ? `table ${table} added (${Object.keys(entity.attributes).length} columns)`
        : `table ${table} added, not migrated: ${reason ?? "left out"}`,
    );
  }
  for (const [table, entity] of [...now].sort(([a], [b]) => byCodePoint(a, b))) {
    const was = old.get(table);
    if (!was) continue;
    const oldColumns = new Map(Object.values(was.attributes).map((a) => [a.column.name, a.column]));
    const newColumns = new Map(Object.values(entity.attributes).map((a) => [a.column.name, a.column]));
    const oldNames = was.source.columns ?? [...oldColumns.keys()];
    const newNames = entity.source.columns ?? [...newColumns.keys()];
    for (const name of newNames) {
      const column = newColumns.get(name);
      const prior = oldColumns.get(name);
      if (!oldNames.includes(name)) lines.push(`${table}.${name} added${column ? ` (${describeColumn(column)})` : ""}`);
      else if (column && prior && describeColumn(prior) !== describeColumn(column)) {
        lines.push(`${table}.${name} retyped: ${describeColumn(prior)} -> ${describeColumn(column)}`);
      } else if (column && prior && (prior.default ?? "") !== (column.default ?? "")) {
        lines.push(`${table}.${name} default changed: ${prior.default ?? "none"} -> ${column.default ?? "none"}`);
      }
    }
    for (const name of oldNames) {
      if (newNames.includes(name)) continue;
      const column = oldColumns.get(name);
      lines.push(`${table}.${name} removed${column ? ` (was ${describeColumn(column)})` : ""}`);
    }
    if (was.source.primaryKey.join() !== entity.source.primaryKey.join()) {
      lines.push(
        `${table}: primary key changed (${was.source.primaryKey.join(", ")}) -> (${entity.source.primaryKey.join(", ")})`,
      );
    }
    lines.push(...keyDiff("unique key", table, was.source.uniqueKeys, entity.source.uniqueKeys));
    lines.push(...keyDiff("index", table, was.source.indexes, entity.source.indexes));
    const fkColumns = (e: Entity) =>
      Object.fromEntries(
        Object.entries(e.source.foreignKeys ?? {}).map(([n, fk]) => [
          n,
          [...fk.columns, "->", fk.references.table, ...fk.references.columns],
        ]),
      );
    lines.push(...keyDiff("foreign key", table, fkColumns(was), fkColumns(entity)));
  }
  for (const table of [...oldTables].sort(byCodePoint)) {
    if (!newTables.has(table)) lines.push(`table ${table} removed`);
    else if (old.has(table) && !now.has(table)) {
      lines.push(`table ${table} is no longer migrated: ${after.source.skippedTables?.[table] ?? "left out"}`);
    }
  }
  const setDiff = (what: string, a: string[] = [], b: string[] = []) => {
    for (const x of b) if (!a.includes(x)) lines.push(`${what} ${x} added`);
    for (const x of a) if (!b.includes(x)) lines.push(`${what} ${x} removed`);
  };
  setDiff("view", before.source.views, after.source.views);
  setDiff("trigger", Object.keys(before.source.triggers ?? {}), Object.keys(after.source.triggers ?? {}));
  return lines;
}
