/**
 * Schema drift: what changed in MySQL since the contract's facts were taken. `ferry analyze --check`
 * fails on it, so CI notices a schema change the contract has not caught up with.
 */
import type { ColumnFacts, Contract, Entity } from "@ferry/contract";

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

/** Facts-only comparison of the contract as it was and the fresh proposal. */
export function schemaDrift(before: Contract, after: Contract): string[] {
  const lines: string[] = [];
  const old = byTable(before);
  const now = byTable(after);
  for (const [table, entity] of now) {
    const was = old.get(table);
    if (!was) {
      lines.push(`table ${table} added (${Object.keys(entity.attributes).length} columns)`);
      continue;
    }
    const oldColumns = new Map(Object.values(was.attributes).map((a) => [a.column.name, a.column]));
    const newColumns = new Map(Object.values(entity.attributes).map((a) => [a.column.name, a.column]));
    for (const [name, column] of newColumns) {
      const prior = oldColumns.get(name);
      if (!prior) lines.push(`${table}.${name} added (${describeColumn(column)})`);
      else if (describeColumn(prior) !== describeColumn(column)) {
        lines.push(`${table}.${name} retyped: ${describeColumn(prior)} -> ${describeColumn(column)}`);
      } else if ((prior.default ?? "") !== (column.default ?? "")) {
        lines.push(`${table}.${name} default changed: ${prior.default ?? "none"} -> ${column.default ?? "none"}`);
      }
    }
    for (const [name, column] of oldColumns) {
      if (!newColumns.has(name)) lines.push(`${table}.${name} removed (was ${describeColumn(column)})`);
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
  for (const table of old.keys()) {
    if (!now.has(table)) {
      const reason = after.source.skippedTables?.[table];
      lines.push(reason ? `table ${table} is no longer migrated: ${reason}` : `table ${table} removed`);
    }
  }
  const oldSkipped = before.source.skippedTables ?? {};
  for (const [table, reason] of Object.entries(after.source.skippedTables ?? {})) {
    if (!(table in oldSkipped) && !old.has(table)) lines.push(`table ${table} added, not migrated: ${reason}`);
  }
  for (const table of Object.keys(oldSkipped)) {
    if (!(table in (after.source.skippedTables ?? {})) && !now.has(table)) lines.push(`table ${table} removed`);
  }
  const setDiff = (what: string, a: string[] = [], b: string[] = []) => {
    for (const x of b) if (!a.includes(x)) lines.push(`${what} ${x} added`);
    for (const x of a) if (!b.includes(x)) lines.push(`${what} ${x} removed`);
  };
  setDiff("view", before.source.views, after.source.views);
  setDiff("trigger", Object.keys(before.source.triggers ?? {}), Object.keys(after.source.triggers ?? {}));
  return lines;
}
