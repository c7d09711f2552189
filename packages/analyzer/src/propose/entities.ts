/**
 * One entity per migrated table, and where its items live: in its own partition (a root), or in its
 * parent's item collection when the workload mostly reads it through that parent.
 */

import { type Attribute, type ColumnFacts, defaultAttributeType, type Entity } from "@ferry/contract";
import type { ColumnInfo, SchemaFacts, TableFacts } from "../facts/types.ts";
import { byCodePoint } from "./canonical.ts";
import { INFERRED_WEIGHT } from "./infer.ts";
import { attributeName, entityName, keyPrefix, unique } from "./naming.ts";
import type { TableStats } from "./stats.ts";

/** Tables that keep a migration tool's bookkeeping, not application data. */
export const BOOKKEEPING_TABLES = new Set([
  "schema_migrations",
  "flyway_schema_history",
  "knex_migrations",
  "knex_migrations_lock",
  "_prisma_migrations",
  "SequelizeMeta",
  "doctrine_migration_versions",
  "alembic_version",
]);

/** Attribute types a key template can hold (the contract forbids json, set, binary and geometry in keys). */
const KEYABLE = new Set([
  "string",
  "integer",
  "bigint",
  "decimal",
  "float",
  "boolean",
  "datetime",
  "date",
  "time",
  "enum",
]);

/** Whether a column can be part of a key: a keyable type, and (for primary keys) never NULL. */
export function keyable(draft: EntityDraft, column: string, options: { primary: boolean }): boolean {
  const attribute = draft.entity.attributes[draft.attributeOf.get(column) ?? ""];
  if (!attribute || !KEYABLE.has(attribute.type)) return false;
  return !(options.primary && attribute.column.nullable);
}

/** Key attribute names of the proposed table and its indexes; no entity attribute may take them. */
export const KEY_ATTRIBUTES = /^(PK|SK|GSI\d+PK|GSI\d+SK)$/;

export interface EntityDraft {
  table: TableFacts;
  name: string;
  prefix: string;
  /** column -> attribute name */
  attributeOf: Map<string, string>;
  entity: Entity;
  parent?: {
    draft: EntityDraft;
    columns: Map<string, string>;
    weight: number;
    pkWeight: number;
    /** The foreign key it is listed through. */
    foreignKey: string;
  };
  /** Why it keeps a partition of its own although it is listed through foreign keys (a cycle, a large collection). */
  alone?: string[];
}

/** An item collection up to this size on average (a parent's item and its children) is read in one Query page. */
export const COLLECTION_BYTES = 1024 * 1024;

/** The lookups of a table the workload made (each inferred one weighs far less than one). */
function observedReads(stats: TableStats): number {
  return stats.ranked().reduce((sum, lookup) => sum + (lookup.count >= 1 ? lookup.count : 0), 0);
}

/**
 * The cycle of foreign keys that the edge `child -> parent` closes, if `parent` leads back to `child` (a -> b -> ...
 * -> a), as text; undefined when there is none. Tables in a cycle go into none of each other's item collections:
 * either could be read through the other.
 */
function cycleThrough(child: string, parent: string, byTable: ReadonlyMap<string, EntityDraft>): string | undefined {
  const edges = (table: string) =>
    [...new Set(byTable.get(table)?.table.foreignKeys.map((fk) => fk.referencedTable) ?? [])]
      .filter((t) => t !== table && byTable.has(t))
      .sort(byCodePoint);
  // Breadth first from the parent: the shortest way back to the child.
  const back = new Map<string, string>([[parent, parent]]);
  const queue = [parent];
  while (queue.length > 0) {
    const at = queue.shift() as string;
    for (const next of edges(at)) {
      if (back.has(next)) continue;
      back.set(next, at);
      if (next === child) {
        const path = [child];
        for (let step = at; ; step = back.get(step) as string) {
          path.unshift(step);
          if (step === parent) break;
        }
        return [child, ...path].join(" -> ");
      }
      queue.push(next);
    }
  }
  return undefined;
}

export function columnFacts(column: ColumnInfo): ColumnFacts {
  const facts: ColumnFacts = { name: column.name, sqlType: column.columnType, nullable: column.nullable };
  if (column.default !== undefined) facts.default = column.default;
  if (column.onUpdate !== undefined) facts.onUpdate = column.onUpdate;
  if (column.autoIncrement) facts.autoIncrement = true;
  if (column.generated) facts.generated = true;
  if (column.json) facts.json = true;
  else if (column.collation !== undefined) facts.collation = column.collation;
  return facts;
}

export function attributeFor(column: ColumnInfo): Attribute {
  const facts = columnFacts(column);
  return { type: defaultAttributeType(facts), column: facts };
}

/** Entity drafts for every table with a primary key; the others are returned as skipped with the reason. */
export function draftEntities(facts: SchemaFacts, exclude: ReadonlySet<string>) {
  const drafts: EntityDraft[] = [];
  const skipped: Record<string, string> = {};
  const names = new Set<string>();
  for (const table of facts.tables) {
    if (exclude.has(table.name)) {
      skipped[table.name] = "excluded (--exclude)";
      continue;
    }
    if (BOOKKEEPING_TABLES.has(table.name)) {
      skipped[table.name] = "a migration tool's bookkeeping, not application data";
      continue;
    }
    if (table.primaryKey.length === 0) {
      skipped[table.name] =
        "no primary key: ferry keys every item by it; add one (e.g. an AUTO_INCREMENT id) and analyze again";
      continue;
    }
    const binaryKey = table.columns.find(
      (c) => table.primaryKey.includes(c.name) && ["binary", "geometry", "json", "set"].includes(attributeFor(c).type),
    );
    if (binaryKey) {
      skipped[table.name] =
        `its primary key column ${binaryKey.name} (${binaryKey.columnType}) cannot go into a text key template; add a text or integer key (e.g. the UUID as CHAR(36)) and analyze again`;
      continue;
    }
    const name = unique(entityName(table.name), names);
    const attributeOf = new Map<string, string>();
    const attributes: Record<string, Attribute> = {};
    const taken = new Set<string>();
    for (const column of table.columns) {
      let attribute = attributeName(column.name);
      if (KEY_ATTRIBUTES.test(attribute)) attribute = `${attribute}_`;
      attribute = unique(attribute, taken);
      attributeOf.set(column.name, attribute);
      attributes[attribute] = attributeFor(column);
    }
    const entity: Entity = {
      table: "",
      source: {
        table: table.name,
        primaryKey: [...table.primaryKey],
        rows: table.rows,
        avgRowBytes: table.avgRowBytes,
        columns: table.columns.map((c) => c.name),
      },
      key: { partition: "" },
      attributes,
    };
    if (table.uniqueKeys.length > 0) {
      entity.source.uniqueKeys = Object.fromEntries(table.uniqueKeys.map((k) => [k.name, [...k.columns]]));
    }
    if (table.foreignKeys.length > 0) {
      entity.source.foreignKeys = Object.fromEntries(
        table.foreignKeys.map((fk) => [
          fk.name,
          {
            columns: [...fk.columns],
            references: { table: fk.referencedTable, columns: [...fk.referencedColumns] },
            onDelete: fk.onDelete,
            onUpdate: fk.onUpdate,
          },
        ]),
      );
    }
    if (table.indexes.length > 0) {
      entity.source.indexes = Object.fromEntries(table.indexes.map((k) => [k.name, [...k.columns]]));
    }
    drafts.push({ table, name, prefix: keyPrefix(name), attributeOf, entity });
  }
  return { drafts, skipped };
}

/**
 * Chooses item collections: a table goes under a parent (via a foreign key to the parent's primary key)
 * when the workload reads it through that key at least as often as by its own primary key. A parent is
 * always a root (one level of nesting), the heaviest edges are taken first.
 */
export function chooseParents(drafts: readonly EntityDraft[], stats: ReadonlyMap<string, TableStats>): void {
  const byTable = new Map(drafts.map((d) => [d.table.name, d]));
  const candidates: Array<NonNullable<EntityDraft["parent"]> & { child: EntityDraft }> = [];
  for (const child of drafts) {
    const s = stats.get(child.table.name);
    if (!s) continue;
    const pkWeight = s.countCovering(child.table.primaryKey);
    for (const fk of child.table.foreignKeys) {
      const parent = byTable.get(fk.referencedTable);
      const weight = s.countCovering(fk.columns);
      // Nobody lists it through this key.
      if (!parent || weight === 0) continue;
      const refuse = (reason: string) => {
        if (!child.alone?.includes(reason)) child.alone = [...(child.alone ?? []), reason];
      };
      if (parent === child) {
        refuse(`its foreign key ${fk.name} refers to its own table (a tree), so it is listed through it by an index`);
        continue;
      }
      // One level of nesting, under a parent with a one-column key.
      if (parent.table.primaryKey.length !== 1) {
        refuse(
          `${parent.name}'s primary key has ${parent.table.primaryKey.length} columns, and a collection's partition is one`,
        );
        continue;
      }
      const cycle = cycleThrough(child.table.name, parent.table.name, byTable);
      if (cycle !== undefined) {
        refuse(
          `its foreign key ${fk.name} is part of a cycle (${cycle}): either table could be read through the other, so neither goes into the other's item collection`,
        );
        continue;
      }
      const referencesPk =
        fk.referencedColumns.length === parent.table.primaryKey.length &&
        parent.table.primaryKey.every((c) => fk.referencedColumns.includes(c));
      if (!referencesPk) {
        refuse(
          `its foreign key ${fk.name} refers to ${parent.name}'s ${fk.referencedColumns.join(", ")}, not to its primary key`,
        );
        continue;
      }
      // A nullable foreign key cannot be part of a key: rows without a parent would have no partition.
      if (!fk.columns.every((c) => keyable(child, c, { primary: true }))) {
        refuse(`its foreign key ${fk.name} may be NULL, and a row without a ${parent.name} would have no partition`);
        continue;
      }
      // Small enough to read whole: the largest collection (a parent's item and its children) fits a Query page; the
      // data says how many children the busiest parent has (small tables), else the average from the row counts.
      const most = fk.maxChildren;
      const perParent = most ?? (parent.table.rows > 0 ? child.table.rows / parent.table.rows : undefined);
      if (perParent !== undefined) {
        const bytes = perParent * child.table.avgRowBytes + parent.table.avgRowBytes;
        if (bytes > COLLECTION_BYTES) {
          const mb = (bytes / 1024 / 1024).toFixed(1);
          refuse(
            most !== undefined
              ? `the busiest ${parent.name}'s item collection would hold ${most.toLocaleString("en-US")} of its items (${mb} MB, more than one Query page)`
              : `each ${parent.name}'s item collection would hold about ${Math.round(perParent).toLocaleString("en-US")} of its items (${mb} MB on average, more than one Query page)`,
          );
          continue;
        }
      }
      if (weight < pkWeight) continue;
      // A table the workload reads goes where the workload reads it from, never by an inference alone.
      if (weight < 1 && observedReads(s) >= 1) continue;
      const columns = new Map<string, string>();
      fk.referencedColumns.forEach((parentColumn, i) => {
        const childColumn = fk.columns[i];
        if (childColumn) columns.set(parentColumn, childColumn);
      });
      candidates.push({ child, draft: parent, columns, weight, pkWeight, foreignKey: fk.name });
    }
  }
  // The heaviest first; between equals (every inferred one), a child that is no candidate's parent first, so that the
  // deepest level (an order's lines rather than a user's orders) is the one kept together.
  const parentsOf = new Set(candidates.map((c) => c.draft));
  const leaf = (draft: EntityDraft) => (parentsOf.has(draft) ? 1 : 0);
  // Inferred weights sum a table's inferred lookups: equal, whatever the number of indexes behind them.
  const rank = (weight: number) => (weight < 1 ? INFERRED_WEIGHT : weight);
  candidates.sort(
    (a, b) =>
      rank(b.weight) - rank(a.weight) ||
      leaf(a.child) - leaf(b.child) ||
      byCodePoint(a.child.name, b.child.name) ||
      byCodePoint(a.draft.name, b.draft.name),
  );
  const parents = new Set<EntityDraft>();
  for (const candidate of candidates) {
    const { child, draft } = candidate;
    if (child.parent) continue;
    if (draft.parent || parents.has(child)) {
      const reason =
        draft.parent !== undefined
          ? `${draft.name} is itself in ${draft.parent.draft.name}'s item collection (one level of nesting)`
          : `it holds item collections of its own (one level of nesting)`;
      if (!child.alone?.includes(reason)) child.alone = [...(child.alone ?? []), reason];
      continue;
    }
    child.parent = {
      draft,
      columns: candidate.columns,
      weight: candidate.weight,
      pkWeight: candidate.pkWeight,
      foreignKey: candidate.foreignKey,
    };
    parents.add(draft);
  }
}
