/**
 * Access patterns: every observed statement on a migrated table, with how DynamoDB serves it (GetItem,
 * Query on the table or an index, a write by key) or why it cannot, so gaps show before code is written.
 */
import type { AccessPattern, AttributeType } from "@ferry/contract";
import type { ObservedStatement, StatementShape } from "../workload/types.ts";
import { type EntityDraft, keyable } from "./entities.ts";
import { type IndexSlot, partitionColumns, sortColumns } from "./keys.ts";
import { plural } from "./naming.ts";
import { distinctNames, type Qualifiers, statementQualifiers } from "./pattern-names.ts";
import { equalityColumns, primaryTable, type TableStats } from "./stats.ts";

export interface PatternContext {
  drafts: ReadonlyMap<string, EntityDraft>;
  slots: ReadonlyMap<string, IndexSlot[]>;
  stats: ReadonlyMap<string, TableStats>;
  smallTableRows: number;
}

const byWords = (attributes: string[]) => attributes.map((a) => a[0]?.toUpperCase() + a.slice(1)).join("And");

function upsert(sql: string): boolean {
  return /\bON DUPLICATE KEY UPDATE\b/i.test(sql);
}

interface Served {
  operation: AccessPattern["dynamodb"]["operation"];
  index?: string;
  reason?: string;
  returns: AccessPattern["returns"];
  notes: string[];
}

/** Conditions other than equality, said in a note: a condition on a write, a filter on a read. */
function otherConditions(shape: StatementShape, table: string, draft: EntityDraft): string[] {
  const others = shape.conditions
    .filter((c) => (c.column.table === table || c.column.table === "") && c.operator !== "=" && c.operator !== "in")
    .filter((c) => c.operator !== "like-contains")
    .map(
      (c) =>
        `${draft.attributeOf.get(c.column.column) ?? c.column.column} ${c.operator.replace(/^like-prefix$/, "begins with")} ?`,
    );
  const notes: string[] = [];
  if (others.length > 0) {
    notes.push(
      shape.kind === "update" || shape.kind === "delete"
        ? `only if ${others.join(" and ")} (a ConditionExpression)`
        : `filtered on ${others.join(" and ")}`,
    );
  }
  if (shape.conditions.some((c) => c.operator === "in" && (c.column.table === table || c.column.table === ""))) {
    notes.push("IN (...): one key per value, read together (BatchGetItem)");
  }
  if (shape.locking) notes.push("FOR UPDATE: the lock becomes a condition on the transaction's writes");
  return notes;
}

function joinProblem(
  shape: StatementShape,
  table: string,
  draft: EntityDraft,
  ctx: PatternContext,
): string | undefined {
  for (const other of shape.tables) {
    if (other === table) continue;
    const otherDraft = ctx.drafts.get(other);
    if (!otherDraft) return `joins ${other}, which is not migrated`;
    const sameCollection = otherDraft.parent?.draft === draft || draft.parent?.draft === otherDraft;
    const alongKey = shape.joins.some(
      (j) => (j.left.table === table && j.right.table === other) || (j.left.table === other && j.right.table === table),
    );
    if (!sameCollection || !alongKey) {
      return `joins ${other}: its items live in other partitions than ${draft.name}'s; denormalise the ${otherDraft.name} attributes it needs onto ${draft.name}, or read ${plural(otherDraft.name)} by key in a second step (BatchGetItem)`;
    }
  }
  return undefined;
}

function serve(shape: StatementShape, sql: string, table: string, draft: EntityDraft, ctx: PatternContext): Served {
  const eq = equalityColumns(shape).get(table) ?? new Set<string>();
  const has = (columns: readonly string[]) => columns.every((c) => eq.has(c));
  const notes = otherConditions(shape, table, draft);
  const stats = ctx.stats.get(table);
  const partition = partitionColumns(draft);
  const sort = sortColumns(draft, stats);
  const slots = ctx.slots.get(draft.name) ?? [];
  const uniqueMatch =
    has(draft.table.primaryKey) || draft.table.uniqueKeys.some((k) => k.columns.length > 0 && has(k.columns));
  const slot = slots.find((s) => (s.columns.length > 0 ? has(s.columns) : eq.size === 0));

  if (shape.kind === "insert" || shape.kind === "replace") {
    return {
      operation: "PutItem",
      returns: "none",
      notes: upsert(sql) ? ["upsert: insert, or update the existing item"] : [],
    };
  }
  if (shape.kind === "update" || shape.kind === "delete") {
    const operation = shape.kind === "update" ? "UpdateItem" : "DeleteItem";
    const what = shape.kind === "update" ? "updates" : "deletes";
    if (eq.size > 0 && has(partition) && has(sort)) return { operation, returns: "none", notes };
    if (eq.size > 0 && has(partition)) {
      return {
        operation,
        returns: "none",
        notes: [`${what} every matching item of the partition (Query, then write each)`, ...notes],
      };
    }
    if (slot && eq.size > 0) {
      return {
        operation,
        index: slot.index,
        returns: "none",
        notes: [`finds the keys through ${slot.index} first`, ...notes],
      };
    }
    return {
      operation: "unsupported",
      reason: `${what} rows without a key condition${eq.size > 0 ? ` (by ${[...eq].join(", ")})` : ""}: read the keys first, then write by key`,
      returns: "none",
      notes,
    };
  }

  // SELECT
  if (shape.complex) {
    return {
      operation: "unsupported",
      reason: "subquery or UNION: split it into reads by key",
      returns: "many",
      notes,
    };
  }
  if (shape.aggregate) {
    return {
      operation: "unsupported",
      reason:
        "aggregate (COUNT/SUM/GROUP BY/DISTINCT): DynamoDB does not aggregate; keep a counter item updated with the writes, or compute it in the application",
      returns: "one",
      notes,
    };
  }
  const contains = shape.conditions.find((c) => c.operator === "like-contains");
  if (contains) {
    return {
      operation: "unsupported",
      reason: `LIKE '%…%' on ${contains.column.column}: a contains-search cannot use a key; use a search index (e.g. OpenSearch) or a prefix match`,
      returns: "many",
      notes,
    };
  }
  const join = joinProblem(shape, table, draft, ctx);
  if (join) return { operation: "unsupported", reason: join, returns: "many", notes };
  const joined = shape.tables.length > 1;
  if (eq.size > 0 && has(partition)) {
    const inList = shape.conditions.some((c) => c.operator === "in");
    if (has(sort) && !joined) return { operation: "GetItem", returns: inList ? "many" : "one", notes };
    return { operation: "Query", returns: uniqueMatch && !joined ? "one" : "many", notes };
  }
  if (slot) return { operation: "Query", index: slot.index, returns: uniqueMatch ? "one" : "many", notes };
  if (eq.size === 0) {
    return {
      operation: "unsupported",
      reason:
        draft.table.rows > ctx.smallTableRows
          ? `reads the whole table (${draft.table.rows.toLocaleString("en-US")} rows) without a key condition: a Scan; add an equality condition or a dedicated index`
          : "reads the whole table without a key condition",
      returns: "many",
      notes,
    };
  }
  const unkeyable = [...eq].filter((c) => !keyable(draft, c, { primary: false }));
  if (unkeyable.length > 0) {
    return {
      operation: "unsupported",
      reason: `a lookup by ${unkeyable.join(", ")}: ${unkeyable.length === 1 ? "its type" : "their types"} cannot be part of a DynamoDB key; add a text column derived from it`,
      returns: "many",
      notes,
    };
  }
  return {
    operation: "unsupported",
    reason: `no key or index serves a lookup by ${[...eq].join(", ")} (index limit reached)`,
    returns: "many",
    notes,
  };
}

function patternName(shape: StatementShape, sql: string, draft: EntityDraft, params: string[], served: Served): string {
  const by = params.length > 0 ? `By${byWords(params)}` : "";
  switch (shape.kind) {
    case "insert":
    case "replace":
      return upsert(sql) ? `upsert${draft.name}` : `create${draft.name}`;
    case "update":
      return `update${served.returns === "none" && by === "" ? plural(draft.name) : draft.name}${by}`;
    case "delete":
      return `delete${draft.name}${by}`;
    default:
      if (shape.aggregate) return `count${plural(draft.name)}${by}`;
      if (shape.conditions.some((c) => c.operator === "like-contains")) return `search${plural(draft.name)}${by}`;
      return served.returns === "one" ? `get${draft.name}${by}` : `list${plural(draft.name)}${by}`;
  }
}

/** Access patterns for the statements, in their order (the workload's, most frequent first; inferred ones after). */
export function proposePatterns(
  statements: readonly ObservedStatement[],
  ctx: PatternContext,
  /** Names already given (to the observed patterns, when these are the inferred ones). */
  given: ReadonlySet<string> = new Set(),
): Record<string, AccessPattern> {
  const proposed: Array<{ base: string; qualifiers: Qualifiers; digest: string; pattern: AccessPattern }> = [];
  for (const statement of statements) {
    const { shape } = statement;
    if (shape.kind === "other") continue;
    const table = primaryTable(shape);
    const draft = table ? ctx.drafts.get(table) : undefined;
    if (!table || !draft) continue;
    const position = (column: string) => draft.table.columns.findIndex((c) => c.name === column);
    const eq = [...(equalityColumns(shape).get(table) ?? [])].sort((a, b) => position(a) - position(b));
    // Every column compared with a value is a parameter (the search term of a LIKE too); names use equality.
    const compared = shape.conditions
      .filter((c) => (c.column.table === table || c.column.table === "") && !c.operator.startsWith("is "))
      .map((c) => c.column.column);
    const parameterColumns = [...new Set([...eq, ...compared])].sort((a, b) => position(a) - position(b));
    const parameters: Record<string, AttributeType> = {};
    for (const column of parameterColumns) {
      const attribute = draft.attributeOf.get(column);
      const type = attribute ? draft.entity.attributes[attribute]?.type : undefined;
      if (attribute && type) parameters[attribute] = type;
    }
    const searched = shape.conditions
      .filter((c) => c.operator === "like-contains" && (c.column.table === table || c.column.table === ""))
      .map((c) => c.column.column);
    const nameColumns = [...new Set([...eq, ...searched])].map((c) => draft.attributeOf.get(c) ?? c);
    const served = serve(shape, statement.sql, table, draft, ctx);
    const base = patternName(shape, statement.sql, draft, nameColumns, served);
    const qualifiers = statementQualifiers(shape, statement.sql, {
      table,
      entityOf: (other) => ctx.drafts.get(other)?.name,
      attributeOf: (other, column) => ctx.drafts.get(other)?.attributeOf.get(column),
    });
    const dynamodb: AccessPattern["dynamodb"] = { operation: served.operation };
    if (served.index) dynamodb.index = served.index;
    const order = shape.orderBy[0];
    if (served.operation === "Query" && order) dynamodb.order = order.direction;
    if (served.reason) dynamodb.reason = served.reason;
    const pattern: AccessPattern = {
      entity: draft.name,
      ...(Object.keys(parameters).length > 0 ? { parameters } : {}),
      returns: served.returns,
      dynamodb,
      ...(statement.inferred
        ? { inferred: { from: statement.inferred.from } }
        : {
            observed: {
              digest: statement.digest,
              sql: statement.sql,
              count: statement.count,
              perSecond: Math.round(statement.perSecond * 1000) / 1000,
            },
          }),
      ...(served.notes.length > 0 ? { notes: served.notes.join("; ") } : {}),
    };
    proposed.push({ base, qualifiers, digest: statement.digest, pattern });
  }
  // Statements that would have the same name are named by how they differ, each group in order of its first.
  const groups = new Map<string, typeof proposed>();
  for (const entry of proposed) groups.set(entry.base, [...(groups.get(entry.base) ?? []), entry]);
  const names = new Map<(typeof proposed)[number], string>();
  const taken = new Set<string>(given);
  for (const [base, group] of groups) {
    distinctNames(base, group, taken).forEach((name, i) => {
      const entry = group[i];
      if (entry) names.set(entry, name);
      taken.add(name);
    });
  }
  const patterns: Record<string, AccessPattern> = {};
  for (const entry of proposed) patterns[names.get(entry) ?? entry.base] = entry.pattern;
  return patterns;
}
