/**
 * Key templates: every entity's primary key (its own partition, or its parent's item collection) and the
 * global secondary index slots its other observed lookups need. Indexes are overloaded: GSI1 serves the
 * most frequent extra lookup of every entity, GSI2 the next, and so on.
 */
import type { KeyTemplates } from "@ferry/contract";
import { type EntityDraft, keyable } from "./entities.ts";
import { columnLiteral } from "./naming.ts";
import type { Lookup, TableStats } from "./stats.ts";

/** DynamoDB's limit of global secondary indexes per table. */
export const MAX_INDEXES = 20;

export interface IndexSlot {
  index: string;
  /** Equality columns the slot's partition key is built from (empty: one partition for the whole entity). */
  columns: string[];
  templates: KeyTemplates;
  lookup: Lookup;
}

const placeholder = (attribute: string) => `{${attribute}}`;

function attr(draft: EntityDraft, column: string): string {
  return draft.attributeOf.get(column) ?? column;
}

/** Columns (not attribute names) in the partition template of the entity's primary key. */
export function partitionColumns(draft: EntityDraft): string[] {
  if (draft.parent) return [...draft.parent.columns.values()];
  return draft.table.primaryKey.slice(0, 1);
}

/** Columns in the sort template of the entity's primary key. */
export function sortColumns(draft: EntityDraft, stats: TableStats | undefined): string[] {
  const pk = draft.table.primaryKey;
  if (!draft.parent) return pk.slice(1);
  const fk = [...draft.parent.columns.values()];
  const primary = (c: string) => keyable(draft, c, { primary: true });
  const within = draft.table.uniqueKeys.find(
    (key) => key.columns.length > fk.length && fk.every((c) => key.columns.includes(c)) && key.columns.every(primary),
  );
  if (within) return within.columns.filter((c) => !fk.includes(c));
  const order = stats?.lookups.get([...fk].sort().join(","))?.orderBy;
  const rest = pk.filter((c) => !fk.includes(c));
  if (order && !fk.includes(order.column) && primary(order.column)) {
    return [order.column, ...rest.filter((c) => c !== order.column)];
  }
  return rest;
}

export function primaryKeyTemplates(draft: EntityDraft, stats: TableStats | undefined): KeyTemplates {
  const partition = partitionColumns(draft);
  const parentPrefix = draft.parent?.draft.prefix ?? draft.prefix;
  const sort = sortColumns(draft, stats);
  return {
    partition: `${parentPrefix}#${partition.map((c) => placeholder(attr(draft, c))).join("#")}`,
    sort: sort.length > 0 ? `${draft.prefix}#${sort.map((c) => placeholder(attr(draft, c))).join("#")}` : draft.prefix,
  };
}

/**
 * Index slots for the lookups the primary key cannot serve, most frequent first. A lookup of the whole
 * entity (no equality) gets a single-partition index only for small tables.
 */
export function indexSlots(draft: EntityDraft, stats: TableStats | undefined, smallTableRows: number): IndexSlot[] {
  if (!stats) return [];
  const slots: IndexSlot[] = [];
  const mainPartition = partitionColumns(draft);
  for (const lookup of stats.ranked()) {
    const covers = (columns: readonly string[]) =>
      columns.length > 0 ? columns.every((c) => lookup.columns.includes(c)) : lookup.columns.length === 0;
    if (lookup.columns.length > 0 && covers(mainPartition)) continue;
    if (!lookup.columns.every((c) => keyable(draft, c, { primary: false }))) continue;
    if (slots.some((slot) => covers(slot.columns))) continue;
    if (lookup.columns.length === 0 && draft.table.rows > smallTableRows) continue;
    if (slots.length >= MAX_INDEXES) break;
    const pk = draft.table.primaryKey.filter((c) => !lookup.columns.includes(c));
    const order =
      lookup.orderBy &&
      !lookup.columns.includes(lookup.orderBy.column) &&
      // Never a NULL-able sort column: an item with an empty index key is left out of the index.
      keyable(draft, lookup.orderBy.column, { primary: true })
        ? lookup.orderBy.column
        : undefined;
    const sortParts = order ? [order, ...pk.filter((c) => c !== order)] : pk;
    const partition =
      lookup.columns.length === 0
        ? draft.prefix
        : `${draft.prefix}#${lookup.columns.map((c) => `${columnLiteral(attr(draft, c))}#${placeholder(attr(draft, c))}`).join("#")}`;
    slots.push({
      index: `GSI${slots.length + 1}`,
      columns: [...lookup.columns],
      templates: {
        partition,
        sort: sortParts.length > 0 ? sortParts.map((c) => placeholder(attr(draft, c))).join("#") : draft.prefix,
      },
      lookup,
    });
  }
  return slots;
}
