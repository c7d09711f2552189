/**
 * The identity of a lookup, shared by the proposal (an inferred pattern an observed one already serves is left out)
 * and re-analysis (a workload that asks for an inferred lookup makes that pattern observed; a deleted inferred pattern
 * is remembered by its table and columns, whatever its key or index is called).
 */
import type { AccessPattern, Contract } from "@ferry/contract";
import type { StatementShape } from "../workload/types.ts";
import { byCodePoint } from "./canonical.ts";

/**
 * A statement that reads one table by equality alone (no range, IN, IS NULL or LIKE; no aggregate, join, subquery or
 * lock): its ORDER BY column, if any. Undefined for any other statement.
 */
export function plainRead(shape: StatementShape): { orderColumn?: string } | undefined {
  if (shape.kind !== "select" || shape.complex || shape.aggregate || shape.locking || shape.tables.length !== 1) {
    return undefined;
  }
  if (shape.conditions.some((c) => c.operator !== "=")) return undefined;
  const order = shape.orderBy[0]?.column.column;
  return order === undefined ? {} : { orderColumn: order };
}

/**
 * Whether two read patterns look up the same thing: the same entity, the same parameters, the same kind of result,
 * both served, and no order that contradicts the other's, by direction or by column (a statement without ORDER BY
 * takes any).
 */
export function sameLookup(
  a: AccessPattern,
  b: AccessPattern,
  orderColumns: { a?: string | undefined; b?: string | undefined } = {},
): boolean {
  if (a.entity !== b.entity || a.returns === "none" || a.returns !== b.returns) return false;
  if (a.dynamodb.operation === "unsupported" || b.dynamodb.operation === "unsupported") return false;
  const parameters = (p: AccessPattern) =>
    Object.keys(p.parameters ?? {})
      .sort(byCodePoint)
      .join(",");
  if (parameters(a) !== parameters(b)) return false;
  const [x, y] = [a.dynamodb.order, b.dynamodb.order];
  if (x !== undefined && y !== undefined && x !== y) return false;
  return orderColumns.a === undefined || orderColumns.b === undefined || orderColumns.a === orderColumns.b;
}

/** The column a Query pattern of `contract` comes ordered by: its sort template's first placeholder past its parameters. */
export function patternOrderColumn(contract: Contract, pattern: AccessPattern): string | undefined {
  if (pattern.dynamodb.operation !== "Query") return undefined;
  const entity = contract.entities[pattern.entity];
  const index = pattern.dynamodb.index;
  const template = index === undefined ? entity?.key.sort : entity?.indexes?.[index]?.sort;
  const parameters = new Set(Object.keys(pattern.parameters ?? {}));
  const attribute = [...(template ?? "").matchAll(/\{([^}]+)\}/g)]
    .map((m) => m[1] ?? "")
    .find((name) => !parameters.has(name));
  return attribute === undefined ? undefined : entity?.attributes[attribute]?.column.name;
}

/** `table(column, ...)`: what an inferred lookup reads, by its table and its columns (sorted). */
export function inferredId(table: string, columns: readonly string[]): string {
  return `${table}(${[...columns].sort(byCodePoint).join(", ")})`;
}

/** The table of an inferredId. */
export function inferredTable(id: string): string {
  return id.slice(0, id.lastIndexOf("("));
}

/** The columns of an inferredId. */
export function inferredColumns(id: string): string[] {
  return id.slice(id.lastIndexOf("(") + 1, -1).split(", ");
}

/** The inferredId of a pattern of `contract` (its entity's table, its parameters' columns). */
export function patternInferredId(contract: Contract, pattern: AccessPattern): string | undefined {
  const entity = contract.entities[pattern.entity];
  if (entity === undefined) return undefined;
  const columns = Object.keys(pattern.parameters ?? {}).map((name) => entity.attributes[name]?.column.name);
  if (columns.some((c) => c === undefined)) return undefined;
  return inferredId(entity.source.table, columns as string[]);
}
