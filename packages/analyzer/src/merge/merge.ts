/**
 * Re-analysis: the contract on disk meets a fresh proposal. FACTS (`source`, `column`, `observed`) are
 * refreshed from the proposal; every DECISION already in the file is kept as it is, including renames
 * and deletions; only what is new (tables, columns, unique keys, statements) is proposed, fitted to the
 * contract's own decisions. Entities are matched by their MySQL table, attributes by column, access
 * patterns by digest. What was deleted by hand is recognised from the facts (`source.tables`,
 * `source.columns`, `workload.proposed`) and not proposed again.
 */
import {
  type AccessPattern,
  type Attribute,
  type Contract,
  defaultAttributeType,
  type Entity,
  validateContract,
} from "@ferry/contract";
import { byCodePoint } from "../propose/canonical.ts";
import {
  inferredColumns,
  inferredTable,
  patternInferredId,
  patternOrderColumn,
  plainRead,
  sameLookup,
} from "../propose/lookup.ts";
import { keyPrefix, unique } from "../propose/naming.ts";
import { distinctNames, statementQualifiers } from "../propose/pattern-names.ts";
import { statementShape } from "../workload/index.ts";
import { type DriftReport, knownTables, schemaDrift } from "./drift.ts";

export interface MergeResult {
  contract: Contract;
  drift: DriftReport;
}

const clone = <T>(value: T): T => structuredClone(value);

/** What every inferred pattern so far read (the ones deleted or made observed since, too), by table and columns. */
function inferredIds(contract: Contract): Set<string> {
  return new Set([
    ...(contract.source.inferred ?? []),
    ...Object.values(contract.accessPatterns ?? {}).flatMap((p) => {
      const id = p.inferred ? patternInferredId(contract, p) : undefined;
      return id === undefined ? [] : [id];
    }),
  ]);
}

/** An observed pattern's statement, when it is a plain read by equality (see plainRead): its ORDER BY column. */
function plainObserved(contract: Contract, pattern: AccessPattern): { orderColumn?: string } | undefined {
  const sql = pattern.observed?.sql;
  return sql === undefined ? undefined : plainRead(statementShape(sql, { database: contract.source.database }));
}

/**
 * The column a pattern comes ordered by: its statement's ORDER BY when observed, else its sort template's unless that
 * is the primary key (an order no one chose).
 */
function orderColumnOf(
  contract: Contract,
  pattern: AccessPattern,
  plain: typeof plainObserved = plainObserved,
): string | undefined {
  if (pattern.observed) return plain(contract, pattern)?.orderColumn;
  const column = patternOrderColumn(contract, pattern);
  return column !== undefined && contract.entities[pattern.entity]?.source.primaryKey.includes(column)
    ? undefined
    : column;
}

function proposedDigests(contract: Contract): Set<string> {
  return new Set(
    contract.source.workload?.proposed ??
      Object.values(contract.accessPatterns ?? {}).flatMap((p) => (p.observed ? [p.observed.digest] : [])),
  );
}

export function mergeContract(current: Contract, proposal: Contract, options: { workloadGiven: boolean }): MergeResult {
  const out = clone(current);
  const drift: DriftReport = { schema: schemaDrift(current, proposal), workload: [] };
  const seenTables = knownTables(current);
  const proposedBefore = proposedDigests(current);

  out.source = clone(proposal.source);
  // What was inferred before (remembered by table and columns), for the tables the database still has.
  const liveSourceTables = new Set(
    proposal.source.tables ?? Object.values(proposal.entities).map((e) => e.source.table),
  );
  const liveColumns = new Map(Object.values(proposal.entities).map((e) => [e.source.table, new Set(e.source.columns)]));
  const live = (id: string) => {
    const table = inferredTable(id);
    const columns = liveColumns.get(table);
    // A table not migrated keeps its ids while it exists; a migrated one, those whose columns it still has.
    return columns === undefined ? liveSourceTables.has(table) : inferredColumns(id).every((c) => columns.has(c));
  };
  const inferredBefore = new Set([...inferredIds(current)].filter(live));
  const inferred = [...new Set([...inferredBefore, ...(proposal.source.inferred ?? [])])].sort(byCodePoint);
  if (inferred.length > 0) out.source.inferred = inferred;
  else delete out.source.inferred;
  if (!options.workloadGiven && current.source.workload) out.source.workload = clone(current.source.workload);
  else if (out.source.workload) {
    out.source.workload.proposed = [
      ...new Set([...proposedBefore, ...(proposal.source.workload?.proposed ?? [])]),
    ].sort(byCodePoint);
  }

  const currentByTable = new Map(Object.entries(out.entities).map(([name, e]) => [e.source.table, name]));
  const entityNames = new Map<string, string>(); // proposal entity name -> name in the contract
  const attributeNames = new Map<string, Map<string, string>>(); // contract entity -> proposal attr -> contract attr
  const taken = new Set(Object.keys(out.entities));
  const added: string[] = [];
  const targetTable = Object.keys(out.tables)[0];

  for (const [proposedName, proposed] of Object.entries(proposal.entities)) {
    const existingName = currentByTable.get(proposed.source.table);
    const existing = existingName ? out.entities[existingName] : undefined;
    if (existingName && existing) {
      entityNames.set(proposedName, existingName);
      attributeNames.set(existingName, refreshEntity(existing, proposed, drift));
      continue;
    }
    // Seen before but without an entity: deleted by hand, and stays deleted.
    if (seenTables.has(proposed.source.table)) continue;
    const name = unique(proposedName, taken);
    entityNames.set(proposedName, name);
    const entity = clone(proposed);
    if (targetTable && !out.tables[proposed.table]) entity.table = targetTable;
    const table = out.tables[entity.table];
    for (const index of Object.keys(entity.indexes ?? {})) {
      const definition = proposal.tables[proposed.table]?.indexes?.[index];
      if (table && definition && !table.indexes?.[index])
        table.indexes = { ...table.indexes, [index]: clone(definition) };
    }
    out.entities[name] = entity;
    attributeNames.set(name, new Map(Object.keys(entity.attributes).map((a) => [a, a])));
    added.push(name);
  }
  // New entities name their parent as the contract does (renamed entities, renamed attributes).
  for (const name of added) {
    const parent = out.entities[name]?.parent;
    if (!parent) continue;
    const parentName = entityNames.get(parent.entity) ?? parent.entity;
    const rename = attributeNames.get(parentName);
    parent.entity = parentName;
    parent.attributes = Object.fromEntries(Object.entries(parent.attributes).map(([a, p]) => [a, rename?.get(p) ?? p]));
  }

  // Entities whose table is gone (or no longer migrated) go, with the patterns that read them.
  const liveTables = new Set(Object.values(proposal.entities).map((e) => e.source.table));
  for (const [name, entity] of Object.entries(out.entities)) {
    if (liveTables.has(entity.source.table)) continue;
    delete out.entities[name];
    for (const [patternName, pattern] of Object.entries(out.accessPatterns ?? {})) {
      if (pattern.entity === name) delete out.accessPatterns?.[patternName];
    }
  }

  const addedPatterns = mergePatterns(out, proposal, {
    entityNames,
    attributeNames,
    proposedBefore,
    inferredBefore,
    drift,
    options,
  });
  fitNewThings(out, new Set(added), addedPatterns);
  return { contract: out, drift };
}

/** Refreshes one entity's facts in place; returns proposal attribute name -> contract attribute name. */
function refreshEntity(existing: Entity, proposed: Entity, drift: DriftReport): Map<string, string> {
  const oldUnique = existing.source.uniqueKeys ?? {};
  const seenColumns = new Set(existing.source.columns ?? Object.values(existing.attributes).map((a) => a.column.name));
  existing.source = clone(proposed.source);
  const byColumn = new Map(Object.entries(existing.attributes).map(([name, a]) => [a.column.name, name]));
  const names = new Map<string, string>();
  const taken = new Set(Object.keys(existing.attributes));
  const liveColumns = new Set<string>();
  for (const [proposedName, attribute] of Object.entries(proposed.attributes)) {
    liveColumns.add(attribute.column.name);
    const name = byColumn.get(attribute.column.name);
    if (name) {
      const kept = existing.attributes[name] as Attribute;
      // A type nobody changed follows the column; a type someone chose stays (the check flags a misfit).
      if (kept.type === defaultAttributeType(kept.column)) kept.type = attribute.type;
      kept.column = clone(attribute.column);
      names.set(proposedName, name);
    } else if (!seenColumns.has(attribute.column.name)) {
      const added = unique(proposedName, taken);
      existing.attributes[added] = clone(attribute);
      names.set(proposedName, added);
    }
  }
  for (const [name, attribute] of Object.entries(existing.attributes)) {
    if (!liveColumns.has(attribute.column.name)) delete existing.attributes[name];
  }
  // UNIQUE keys that are new in MySQL become uniqueness rules; existing rules are decisions and stay.
  for (const [key, rule] of Object.entries(proposed.unique ?? {})) {
    if (key in oldUnique || existing.unique?.[key]) continue;
    const attributes = rule.attributes.map((a) => names.get(a));
    if (!attributes.every((a): a is string => a !== undefined)) continue;
    existing.unique = { ...existing.unique, [key]: { attributes } };
    // Its markers' keys hold the values: a secret that must now stay unique cannot stay hidden (the check refuses it).
    for (const attribute of attributes) {
      const kept = existing.attributes[attribute];
      if (kept?.sensitive !== true) continue;
      delete kept.sensitive;
      drift.schema.push(
        `${existing.source.table}.${kept.column.name} is no longer sensitive: the new UNIQUE key ${key} holds it, and its markers show its values`,
      );
    }
  }
  return names;
}

interface PatternMerge {
  entityNames: ReadonlyMap<string, string>;
  attributeNames: ReadonlyMap<string, ReadonlyMap<string, string>>;
  proposedBefore: ReadonlySet<string>;
  inferredBefore: ReadonlySet<string>;
  drift: DriftReport;
  options: { workloadGiven: boolean };
}

/** Refreshes observed facts, proposes patterns for new statements; returns the names of the new patterns. */
function mergePatterns(out: Contract, proposal: Contract, context: PatternMerge): Set<string> {
  const existing = out.accessPatterns ?? {};
  const byDigest = new Map<string, AccessPattern>();
  for (const pattern of Object.values(existing)) if (pattern.observed) byDigest.set(pattern.observed.digest, pattern);
  const names = new Set(Object.keys(existing));
  const seen = new Set<string>();
  const added = new Set<string>();
  // Each pattern's statement parsed once: the twin search below asks about every pattern once per proposed one.
  const parsed = new Map<AccessPattern, ReturnType<typeof plainObserved>>();
  const plainOf = (contract: Contract, pattern: AccessPattern) => {
    if (!parsed.has(pattern)) parsed.set(pattern, plainObserved(contract, pattern));
    return parsed.get(pattern);
  };
  for (const [proposedName, proposed] of Object.entries(proposal.accessPatterns ?? {})) {
    const digest = proposed.observed?.digest;
    const from = proposed.inferred?.from;
    if (!digest && !from) continue;
    if (digest) {
      seen.add(digest);
      const known = byDigest.get(digest);
      if (known) {
        known.observed = clone(proposed.observed);
        continue;
      }
      if (context.proposedBefore.has(digest)) continue; // deleted by hand
    } else {
      const id = patternInferredId(proposal, proposed);
      // Inferred before: there still, deleted by hand, or made observed since.
      if (id === undefined || context.inferredBefore.has(id)) continue;
    }
    const entity = context.entityNames.get(proposed.entity);
    if (!entity || !out.entities[entity]) continue;
    const rename = context.attributeNames.get(entity);
    const pattern = clone(proposed);
    pattern.entity = entity;
    if (pattern.parameters) {
      const parameters = Object.entries(pattern.parameters).map(([p, t]) => [rename?.get(p), t] as const);
      if (parameters.some(([p]) => p === undefined)) continue; // reads a column deleted by hand
      pattern.parameters = Object.fromEntries(parameters);
    }
    // A pattern of the contract that looks up the same: an inferred one a plain observed read now asks for is made
    // observed; an inferred proposal that the contract already serves is not added.
    const plain = digest === undefined || plainOf(proposal, proposed) !== undefined;
    const order = orderColumnOf(proposal, proposed, plainOf);
    // Inferred patterns first: the one an observed statement upgrades, rather than another pattern like it.
    const twin = plain
      ? Object.keys(existing)
          .sort((a, b) => Number(!existing[a]?.inferred) - Number(!existing[b]?.inferred) || byCodePoint(a, b))
          .find((name) => {
            const other = existing[name] as AccessPattern;
            if (other.observed !== undefined && plainOf(out, other) === undefined) return false;
            return sameLookup(other, pattern, { a: orderColumnOf(out, other, plainOf), b: order });
          })
      : undefined;
    const twinPattern = twin === undefined ? undefined : existing[twin];
    if (from && twin !== undefined) continue;
    if (digest && twin !== undefined && twinPattern?.inferred && !twinPattern.observed) {
      // The workload asks for what was inferred: the pattern (its name, its decisions) is observed from now on.
      context.drift.workload.push(
        `access pattern ${twin} (inferred from ${twinPattern.inferred.from}) is now observed: ${proposed.observed?.sql ?? ""}`,
      );
      // In the inferred block's place, so that the file reads as before.
      const upgraded = Object.fromEntries(
        Object.entries(twinPattern).map(([key, value]) =>
          key === "inferred" ? ["observed", clone(proposed.observed)] : [key, value],
        ),
      ) as AccessPattern;
      existing[twin] = upgraded;
      byDigest.set(digest, upgraded);
      continue;
    }
    const name = !names.has(proposedName)
      ? proposedName
      : from
        ? inferredName(proposedName, from, names)
        : distinctName(out, proposedName, pattern, names);
    if (name === undefined || names.has(name)) {
      context.drift.workload.push(
        `${from ? `inferred from ${from}` : "new statement"}: not added, its name ${proposedName} is taken`,
      );
      continue;
    }
    names.add(name);
    existing[name] = pattern;
    added.add(name);
    context.drift.workload.push(
      from
        ? `inferred from ${from} -> access pattern ${name}`
        : `new statement -> access pattern ${name}: ${proposed.observed?.sql ?? ""}`,
    );
  }
  if (context.options.workloadGiven) {
    for (const [name, pattern] of Object.entries(existing)) {
      if (pattern.observed && !seen.has(pattern.observed.digest)) {
        context.drift.workload.push(`access pattern ${name} was not seen in this workload (kept)`);
      }
    }
  }
  if (Object.keys(existing).length > 0) out.accessPatterns = existing;
  return added;
}

/** A new inferred pattern's name when the contract has another of that name: qualified by its key or index. */
function inferredName(proposedName: string, from: string, taken: ReadonlySet<string>): string | undefined {
  const key = /^(?:unique key|foreign key|index) [^.]+\.(\S+)/.exec(from)?.[1];
  if (key === undefined) return undefined;
  const pascal = key
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== "")
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join("");
  const name = `${proposedName}Via${pascal}`;
  return taken.has(name) ? undefined : name;
}

/** A new pattern's name when the contract has another pattern of that name: qualified by what its statement does. */
function distinctName(out: Contract, proposedName: string, pattern: AccessPattern, taken: ReadonlySet<string>): string {
  const sql = pattern.observed?.sql ?? "";
  const entity = out.entities[pattern.entity];
  const byTable = new Map(Object.values(out.entities).map((e) => [e.source.table, e]));
  const table = entity?.source.table ?? "";
  const nameOf = new Map(Object.entries(out.entities).map(([name, e]) => [e.source.table, name]));
  const qualifiers = statementQualifiers(statementShape(sql, { database: out.source.database }), sql, {
    table,
    entityOf: (other) => nameOf.get(other),
    attributeOf: (other, column) =>
      Object.entries(byTable.get(other)?.attributes ?? {}).find(([, a]) => a.column.name === column)?.[0],
  });
  const [name] = distinctNames(proposedName, [{ qualifiers, digest: pattern.observed?.digest ?? "" }], taken);
  return name ?? proposedName;
}

/**
 * The proposal designed new things against its own keys and indexes; where they do not fit the contract's
 * decisions, a new entity falls back to a partition of its own, and a new pattern is left for a person.
 */
function fitNewThings(out: Contract, entities: ReadonlySet<string>, patterns: ReadonlySet<string>): void {
  const problemsAt = (kind: string) =>
    new Set(
      validateContract(out).flatMap((p) => (p.path[0] === kind && typeof p.path[1] === "string" ? [p.path[1]] : [])),
    );
  const badEntities = problemsAt("entities");
  for (const name of entities) {
    const entity = out.entities[name];
    if (!entity || !badEntities.has(name)) continue;
    const byColumn = new Map(Object.entries(entity.attributes).map(([a, spec]) => [spec.column.name, a]));
    const key = entity.source.primaryKey.map((c) => `{${byColumn.get(c) ?? c}}`);
    const prefix = keyPrefix(name);
    entity.key = {
      partition: `${prefix}#${key[0] ?? ""}`,
      sort: key.length > 1 ? `${prefix}#${key.slice(1).join("#")}` : prefix,
    };
    delete entity.parent;
    delete entity.indexes;
  }
  const badPatterns = problemsAt("accessPatterns");
  for (const name of patterns) {
    const pattern = out.accessPatterns?.[name];
    if (!pattern || !badPatterns.has(name)) continue;
    pattern.dynamodb = {
      operation: "unsupported",
      reason: pattern.inferred
        ? "a lookup inferred from the schema whose proposed design does not fit this contract's keys and indexes: decide how DynamoDB serves it, or delete it"
        : "a new statement whose proposed design does not fit this contract's keys and indexes: decide how DynamoDB serves it",
    };
  }
}
