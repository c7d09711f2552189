/**
 * The proposed DynamoDB design for a database: one single table, one entity per migrated MySQL table,
 * item collections for children read through their parent, overloaded GSIs for other lookups, uniqueness
 * rules from UNIQUE keys, and an access pattern per observed statement. A person accepts or edits it.
 */
import {
  type Contract,
  type DynamoTable,
  type Entity,
  keyTemplatePlaceholders,
  type SourceFacts,
} from "@ferry/contract";
import type { SchemaFacts } from "../facts/types.ts";
import type { Workload } from "../workload/types.ts";
import { byCodePoint, canonicalStatements } from "./canonical.ts";
import { chooseParents, draftEntities, type EntityDraft } from "./entities.ts";
import { inferStatements } from "./infer.ts";
import { type IndexSlot, indexSlots, primaryKeyTemplates } from "./keys.ts";
import { inferredId, plainRead, sameLookup } from "./lookup.ts";
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
  const observed = canonicalStatements(workload?.statements ?? [], facts);
  // The schema's own lookups (unique keys, foreign keys, indexes) too, after the observed ones and far lighter, except
  // where an observed statement already asks for the same lookup.
  const inferred = inferStatements(facts);
  const statements = [...observed, ...inferred];
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
    markSensitive(draft.entity);
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
  const patternContext = {
    drafts: new Map(drafts.map((d) => [d.table.name, d])),
    slots: slotsByEntity,
    stats,
    smallTableRows,
  };
  // The observed patterns are named among themselves; the inferred ones after them, with those names taken.
  const observedPatterns = proposePatterns(observed, patternContext);
  const inferredPatterns = proposePatterns(inferred, patternContext, new Set(Object.keys(observedPatterns)));
  // An inferred pattern that an observed plain read already serves is left out: the observed one stands for it.
  const plain = new Map(
    observed.flatMap((s) => {
      const read = plainRead(s.shape);
      return read === undefined ? [] : [[s.digest, read] as const];
    }),
  );
  // An inferred listing's order matters when an index chose it (newest first); by the primary key, it is no one's choice.
  const primaryKeys = new Map(facts.tables.map((t) => [t.name, t.primaryKey]));
  const inferredOrder = new Map(
    inferred.map((s) => {
      const column = s.shape.orderBy[0]?.column.column;
      const byKey = column !== undefined && primaryKeys.get(s.shape.tables[0] ?? "")?.includes(column);
      return [s.inferred?.from ?? "", byKey ? undefined : column];
    }),
  );
  const served = Object.values(observedPatterns).filter((p) => p.observed && plain.has(p.observed.digest));
  for (const [name, pattern] of Object.entries(inferredPatterns)) {
    const twin = served.some((o) =>
      sameLookup(o, pattern, {
        a: plain.get(o.observed?.digest ?? "")?.orderColumn,
        b: inferredOrder.get(pattern.inferred?.from ?? ""),
      }),
    );
    if (twin) delete inferredPatterns[name];
  }
  const accessPatterns = { ...observedPatterns, ...inferredPatterns };

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
  const migrated = new Set(drafts.map((d) => d.table.name));
  const inferredIds = inferred
    .filter((s) => migrated.has(s.shape.tables[0] ?? ""))
    .map((s) =>
      inferredId(
        s.shape.tables[0] ?? "",
        s.shape.conditions.map((c) => c.column.column),
      ),
    );
  if (inferredIds.length > 0) source.inferred = [...new Set(inferredIds)].sort(byCodePoint);
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
  const inferredLookups = new Map(
    inferred.map((s) => [
      `${s.shape.tables[0]}|${s.shape.conditions
        .map((c) => c.column.column)
        .sort()
        .join(",")}`,
      s.inferred?.from ?? "",
    ]),
  );
  return {
    contract,
    comments: designComments(contract, drafts, slotsByEntity, stats, {
      inferredLookups,
      workload: workload !== undefined,
    }),
  };
}

/** Words of column names that hold secrets (`password_hash`, `apiToken`, `totp_secret`, `remember_digest`). */
const SECRET_WORDS = new Set(["password", "passwd", "pwd", "pw", "secret", "token", "salt", "otp", "totp"]);
/** Pairs of words that do (`api_key`, `privateKey`, `signing_key`, `recovery_codes`, `remember_digest`). */
const SECRET_PAIRS =
  /(^|_)((api|private|secret|signing|encryption|access|recovery)_(key|keys|codes?)|(remember|reset|activation|confirmation|session|password)_digest)(_|$)/;
/** Words that make a column about a secret rather than the secret (`token_expires_at`, `has_password`, `otp_enabled`). */
const ABOUT_A_SECRET =
  /(^(is|has|needs|must)_)|(_(at|on|id|ids|count|type|kind|enabled|required|set|length|version|changed|expires|expiry|hint|algorithm|algo|method|status)$)/;
/** The types a secret is stored as (not a flag, a count or a date about one). */
const SECRET_TYPES = new Set(["string", "binary", "json"]);

/** Whether a column looks like it holds a secret: by the words of its name (snake_case or camelCase) and its type. */
export function looksSecret(column: string, type: string): boolean {
  if (!SECRET_TYPES.has(type)) return false;
  const snake = column
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/([a-z])([A-Z0-9])/g, "$1_$2")
    .replace(/([0-9])([A-Za-z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .toLowerCase();
  if (ABOUT_A_SECRET.test(snake)) return false;
  return snake.split("_").some((word) => SECRET_WORDS.has(word)) || SECRET_PAIRS.test(snake);
}

/**
 * Marks the attributes of secret-looking columns `sensitive`, once keys are known: not one that is in the primary key, a
 * key template or a unique rule, where a contract check refuses it (its value would show there).
 */
function markSensitive(entity: Entity): void {
  const used = new Set<string>();
  const byColumn = new Map(Object.entries(entity.attributes).map(([name, a]) => [a.column.name, name]));
  for (const column of entity.source.primaryKey) used.add(byColumn.get(column) ?? column);
  for (const keys of [entity.key, ...Object.values(entity.indexes ?? {})]) {
    for (const template of [keys.partition, keys.sort]) {
      if (template !== undefined) for (const placeholder of keyTemplatePlaceholders(template)) used.add(placeholder);
    }
  }
  for (const rule of Object.values(entity.unique ?? {})) for (const attribute of rule.attributes) used.add(attribute);
  for (const [name, attribute] of Object.entries(entity.attributes)) {
    // Decisions before the column's facts, as a person reads them.
    if (looksSecret(attribute.column.name, attribute.type) && !used.has(name)) {
      entity.attributes[name] = { type: attribute.type, sensitive: true, column: attribute.column };
    }
  }
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
  context: { inferredLookups: ReadonlyMap<string, string>; workload: boolean },
): ContractComment[] {
  /** What a lookup of `table` by `columns` was inferred from, when no observed statement asked for it. */
  const inferredFrom = (table: string, lookup: { columns: readonly string[]; count: number }) =>
    lookup.count < 1 ? context.inferredLookups.get(`${table}|${[...lookup.columns].sort().join(",")}`) : undefined;
  const times = (count: number) =>
    count < 1 ? "never in the workload" : `${Math.round(count).toLocaleString("en-US")} times in the workload`;
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
    const parent = draft.parent;
    if (parent && parent.weight < 1) {
      // Chosen from the schema alone: the foreign key, and how large a collection gets on average.
      const perParent = parent.draft.table.rows > 0 ? draft.table.rows / parent.draft.table.rows : undefined;
      const most = draft.table.foreignKeys.find((fk) => fk.name === parent.foreignKey)?.maxChildren;
      const size =
        perParent === undefined
          ? ", no rows yet to size a collection by"
          : `, about ${perParent.toFixed(1)} per ${parent.draft.name} today${most === undefined ? "" : ` (at most ${most.toLocaleString("en-US")})`}`;
      lines.push(
        `In ${parent.draft.name}'s item collection: listed through foreign key ${parent.foreignKey} (inferred from the schema)${size}, so one Query returns the ${parent.draft.name} item with its ${draft.name} items.`,
      );
    } else if (parent) {
      lines.push(
        `In ${parent.draft.name}'s item collection: read through ${[...parent.columns.values()].join(", ")} ${parent.weight.toLocaleString("en-US")} times, by its own key ${parent.pkWeight.toLocaleString("en-US")} times in the workload, so one Query returns a ${parent.draft.name} with its ${draft.name} items.`,
      );
    } else if (draft.alone) {
      lines.push(`Its own partition: ${draft.alone.join("; ")}.`);
    } else if (s && context.workload) {
      lines.push(`Its own partition: read by its key ${times(s.countCovering(draft.table.primaryKey))}.`);
    } else {
      lines.push(
        context.workload
          ? "Its own partition (no reads of it in the workload)."
          : "Its own partition: no foreign key of it leads to an item collection.",
      );
    }
    for (const slot of slots.get(draft.name) ?? []) {
      const by = slot.columns.length > 0 ? `by ${slot.columns.join(" + ")}` : "the whole (small) table";
      const from = inferredFrom(draft.table.name, slot.lookup);
      lines.push(
        `${slot.index}: lookups ${by}, ${from === undefined ? times(slot.lookup.count) : `inferred from ${from}`}.`,
      );
    }
    comments.push({ path: ["entities", draft.name], text: lines.join("\n") });
  }
  if (contract.accessPatterns) {
    comments.push({
      path: ["accessPatterns"],
      text: context.workload
        ? "One pattern per statement seen in the workload (most frequent first), then one per lookup the schema implies that the workload did not ask for (inferred: a get by each UNIQUE key, a listing by each foreign key and index), with how DynamoDB serves it or why it cannot."
        : "No workload was given: one pattern per lookup the schema implies (inferred: a get by each UNIQUE key, a listing by each foreign key and index), with how DynamoDB serves it or why it cannot. Capture a workload (`ferry analyze capture`) and analyze again to add what the application really asks.",
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
