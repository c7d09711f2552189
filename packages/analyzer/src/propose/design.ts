/**
 * The proposed DynamoDB design for a database: one single table, one entity per migrated MySQL table,
 * item collections for children read through their parent, overloaded GSIs for other lookups, uniqueness
 * rules from UNIQUE keys, and an access pattern per observed statement. A person accepts or edits it.
 */
import type { Contract, DynamoTable, Entity, SourceFacts } from "@ferry/contract";
import type { SchemaFacts } from "../facts/types.ts";
import type { Workload } from "../workload/types.ts";
import { byCodePoint, canonicalStatements } from "./canonical.ts";
import { chooseParents, draftEntities, type EntityDraft } from "./entities.ts";
import { type IndexSlot, indexSlots, primaryKeyTemplates } from "./keys.ts";
import { proposePatterns } from "./patterns.ts";
import { type TableStats, tableStats } from "./stats.ts";

export interface ProposeOptions {
  /** The contract's name (default: the database name). */
  name?: string;
  /** Tables to leave out. */
  exclude?: readonly string[];
  /** Tables up to this many rows may be listed whole through a single-partition index (default 10,000). */
  smallTableRows?: number;
}

export interface ContractComment {
  path: Array<string | number>;
  text: string;
}

export interface Proposal {
  contract: Contract;
  /** Comments that explain the design choices, for a new contract file. */
  comments: ContractComment[];
}

/** An item larger than this draws a warning (DynamoDB's limit is 400 KB). */
export const ITEM_WARNING_BYTES = 350 * 1024;

const kb = (bytes: number) => `${Math.round(bytes / 1024).toLocaleString("en-US")} KB`;

export function proposeContract(facts: SchemaFacts, workload?: Workload, options: ProposeOptions = {}): Proposal {
  const smallTableRows = options.smallTableRows ?? 10_000;
  const statements = canonicalStatements(workload?.statements ?? [], facts);
  const stats = tableStats(statements);
  const { drafts, skipped } = draftEntities(facts, new Set(options.exclude ?? []));
  chooseParents(drafts, stats);

  const tableName = "main";
  const slotsByEntity = new Map<string, IndexSlot[]>();
  for (const draft of drafts) {
    const s = stats.get(draft.table.name);
    draft.entity.table = tableName;
    draft.entity.key = primaryKeyTemplates(draft, s);
    const slots = indexSlots(draft, s, smallTableRows);
    slotsByEntity.set(draft.name, slots);
    if (slots.length > 0) draft.entity.indexes = Object.fromEntries(slots.map((slot) => [slot.index, slot.templates]));
    finishEntity(draft);
  }

  const indexCount = Math.max(0, ...[...slotsByEntity.values()].map((slots) => slots.length));
  const table: DynamoTable = { partitionKey: "PK", sortKey: "SK", billingMode: "PAY_PER_REQUEST" };
  if (indexCount > 0) {
    table.indexes = Object.fromEntries(
      Array.from({ length: indexCount }, (_, i) => [
        `GSI${i + 1}`,
        { partitionKey: `GSI${i + 1}PK`, sortKey: `GSI${i + 1}SK`, projection: "ALL" as const },
      ]),
    );
  }

  const entities: Record<string, Entity> = Object.fromEntries(drafts.map((d) => [d.name, ordered(d.entity)]));
  const accessPatterns = proposePatterns(statements, {
    drafts: new Map(drafts.map((d) => [d.table.name, d])),
    slots: slotsByEntity,
    stats,
    smallTableRows,
  });

  const source: SourceFacts = {
    engine: facts.engine,
    serverVersion: facts.serverVersion,
    database: facts.database,
    tables: facts.tables.map((t) => t.name).sort(byCodePoint),
  };
  if (workload) {
    source.workload = {
      origin: workload.origin,
      seconds: workload.seconds,
      queries: workload.queries,
      digests: workload.statements.length,
      proposed: Object.values(accessPatterns)
        .flatMap((p) => (p.observed ? [p.observed.digest] : []))
        .sort(byCodePoint),
    };
  }
  if (Object.keys(skipped).length > 0) source.skippedTables = skipped;
  if (facts.views.length > 0) source.views = facts.views.map((v) => v.name);
  if (facts.triggers.length > 0) {
    source.triggers = Object.fromEntries(
      facts.triggers.map((t) => [t.name, { table: t.table, timing: t.timing, event: t.event }]),
    );
  }
  const warnings = sourceWarnings(facts, drafts, skipped);
  if (warnings.length > 0) source.warnings = warnings;

  const contract: Contract = {
    version: 1,
    name: options.name ?? facts.database,
    source,
    tables: { [tableName]: table },
    entities,
  };
  if (Object.keys(accessPatterns).length > 0) contract.accessPatterns = accessPatterns;
  return { contract, comments: designComments(contract, drafts, slotsByEntity, stats) };
}

/** Uniqueness rules, the id strategy and the parent link, once keys are known. */
function finishEntity(draft: EntityDraft): void {
  const { entity, table } = draft;
  const attr = (column: string) => draft.attributeOf.get(column) ?? column;
  if (table.uniqueKeys.length > 0) {
    entity.unique = Object.fromEntries(table.uniqueKeys.map((k) => [k.name, { attributes: k.columns.map(attr) }]));
  }
  const auto = table.columns.find((c) => c.autoIncrement);
  const firstKey = table.primaryKey[0];
  if (auto) entity.id = { strategy: "auto-increment", attribute: attr(auto.name) };
  else if (table.primaryKey.length === 1 && firstKey) entity.id = { strategy: "provided", attribute: attr(firstKey) };
  if (draft.parent) {
    const parentAttr = (column: string) => draft.parent?.draft.attributeOf.get(column) ?? column;
    entity.parent = {
      entity: draft.parent.draft.name,
      attributes: Object.fromEntries(
        [...draft.parent.columns].map(([parent, child]) => [attr(child), parentAttr(parent)]),
      ),
    };
  }
}

function sourceWarnings(facts: SchemaFacts, drafts: readonly EntityDraft[], skipped: Record<string, string>): string[] {
  const warnings: string[] = [];
  for (const [table, reason] of Object.entries(skipped)) {
    if (reason.startsWith("no primary key")) warnings.push(`table ${table} is not migrated: ${reason}`);
  }
  for (const view of facts.views) {
    warnings.push(`view ${view.name}: its logic will not run on DynamoDB; serve its reads from the entities it reads`);
  }
  for (const trigger of facts.triggers) {
    warnings.push(
      `trigger ${trigger.name} (${trigger.timing} ${trigger.event} on ${trigger.table}): its logic will not run on DynamoDB; move it into the application`,
    );
  }
  for (const draft of drafts) {
    const { table } = draft;
    if (table.maxRowBytes === null) {
      const unbounded = table.columns.filter(
        (c) => /^(mediumtext|longtext|mediumblob|longblob|json)$/.test(c.dataType) || c.json,
      );
      warnings.push(
        `entity ${draft.name} (table ${table.name}): ${unbounded.map((c) => `${c.name} (${c.columnType})`).join(", ") || "a column"} can hold more than DynamoDB's 400 KB item limit (average row today: ${table.avgRowBytes.toLocaleString("en-US")} bytes)`,
      );
    } else if (table.maxRowBytes >= ITEM_WARNING_BYTES) {
      warnings.push(
        `entity ${draft.name} (table ${table.name}): a row can reach ${kb(table.maxRowBytes)}, close to DynamoDB's 400 KB item limit`,
      );
    }
    for (const column of table.columns) {
      if (
        /^(geometry|point|linestring|polygon|multipoint|multilinestring|multipolygon|geometrycollection)$/.test(
          column.dataType,
        )
      ) {
        warnings.push(
          `entity ${draft.name}: ${column.name} (${column.columnType}) is kept as WKB bytes; DynamoDB has no spatial queries`,
        );
      }
    }
  }
  return warnings;
}

function designComments(
  contract: Contract,
  drafts: readonly EntityDraft[],
  slots: ReadonlyMap<string, IndexSlot[]>,
  stats: ReadonlyMap<string, TableStats>,
): ContractComment[] {
  const comments: ContractComment[] = [
    {
      path: ["tables"],
      text: [
        "One DynamoDB table for every entity (single-table design): an item's key says what it is (USER#..., ORDER#...).",
        "The GSIs are overloaded: GSI1 serves each entity's most frequent lookup that its primary key cannot, GSI2 the next.",
      ].join("\n"),
    },
  ];
  for (const draft of drafts) {
    const s = stats.get(draft.table.name);
    const lines = [
      `${draft.table.name}: ${draft.table.rows.toLocaleString("en-US")} rows, ${draft.table.avgRowBytes.toLocaleString("en-US")} bytes per row on average.`,
    ];
    if (draft.parent) {
      lines.push(
        `In ${draft.parent.draft.name}'s item collection: read through ${[...draft.parent.columns.values()].join(", ")} ${draft.parent.weight.toLocaleString("en-US")} times, by its own key ${draft.parent.pkWeight.toLocaleString("en-US")} times in the workload, so one Query returns a ${draft.parent.draft.name} with its ${draft.name} items.`,
      );
    } else if (s) {
      lines.push(
        `Its own partition: read by its key ${s.countCovering(draft.table.primaryKey).toLocaleString("en-US")} times in the workload.`,
      );
    } else {
      lines.push("Its own partition (no reads of it in the workload).");
    }
    for (const slot of slots.get(draft.name) ?? []) {
      const by = slot.columns.length > 0 ? `by ${slot.columns.join(" + ")}` : "the whole (small) table";
      lines.push(`${slot.index}: lookups ${by}, ${slot.lookup.count.toLocaleString("en-US")} in the workload.`);
    }
    comments.push({ path: ["entities", draft.name], text: lines.join("\n") });
  }
  if (contract.accessPatterns) {
    comments.push({
      path: ["accessPatterns"],
      text: "One pattern per statement seen in the workload (most frequent first), with how DynamoDB serves it or why it cannot.",
    });
  }
  return comments;
}

/** Decisions first, in the order a person reads them; the MySQL facts last. */
function ordered(entity: Entity): Entity {
  const { table, key, indexes, parent, id, unique, attributes, denormalized, notes, source } = entity;
  return {
    table,
    key,
    ...(indexes ? { indexes } : {}),
    ...(parent ? { parent } : {}),
    ...(id ? { id } : {}),
    ...(unique ? { unique } : {}),
    attributes,
    ...(denormalized ? { denormalized } : {}),
    ...(notes ? { notes } : {}),
    source,
  };
}
