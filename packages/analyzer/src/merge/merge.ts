/**
 * Re-analysis: the contract on disk meets a fresh proposal. FACTS (`source`, `column`, `observed`) are
 * refreshed from the proposal; every DECISION already in the file is kept as it is, including renames
 * and deletions; only what is new (tables, columns, unique keys, statements) is proposed.
 * Entities are matched by their MySQL table, attributes by column, access patterns by digest.
 */
import { type AccessPattern, type Attribute, type Contract, defaultAttributeType, type Entity } from "@ferry/contract";
import { unique } from "../propose/naming.ts";
import { type DriftReport, schemaDrift } from "./drift.ts";

export interface MergeResult {
  contract: Contract;
  drift: DriftReport;
}

const clone = <T>(value: T): T => structuredClone(value);

export function mergeContract(current: Contract, proposal: Contract, options: { workloadGiven: boolean }): MergeResult {
  const out = clone(current);
  const drift: DriftReport = { schema: schemaDrift(current, proposal), workload: [] };

  // Source facts; the previous workload summary stays when no workload was given this time.
  const previousWorkload = current.source.workload;
  out.source = clone(proposal.source);
  if (!options.workloadGiven && previousWorkload) out.source.workload = previousWorkload;

  const currentByTable = new Map(Object.entries(out.entities).map(([name, e]) => [e.source.table, name]));
  const proposalNames = new Map<string, string>(); // proposal entity name -> name in the contract
  const attributeNames = new Map<string, Map<string, string>>(); // contract entity -> proposal attr -> contract attr
  const entityNames = new Set(Object.keys(out.entities));
  const targetTable = Object.keys(out.tables)[0];

  for (const [proposedName, proposed] of Object.entries(proposal.entities)) {
    const existingName = currentByTable.get(proposed.source.table);
    if (existingName) {
      const existing = out.entities[existingName];
      if (!existing) continue;
      proposalNames.set(proposedName, existingName);
      attributeNames.set(existingName, refreshEntity(existing, proposed));
      continue;
    }
    // A new table: take the proposal, on the contract's table, with the indexes it needs.
    const name = unique(proposedName, entityNames);
    proposalNames.set(proposedName, name);
    const entity = clone(proposed);
    if (targetTable && !out.tables[proposed.table]) entity.table = targetTable;
    const table = out.tables[entity.table];
    for (const index of Object.keys(entity.indexes ?? {})) {
      const definition = proposal.tables[proposed.table]?.indexes?.[index];
      if (table && definition && !table.indexes?.[index])
        table.indexes = { ...table.indexes, [index]: clone(definition) };
    }
    if (entity.parent) entity.parent.entity = proposalNames.get(entity.parent.entity) ?? entity.parent.entity;
    out.entities[name] = entity;
    attributeNames.set(name, new Map(Object.keys(entity.attributes).map((a) => [a, a])));
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

  mergePatterns(out, proposal, proposalNames, attributeNames, drift, options.workloadGiven);
  return { contract: out, drift };
}

/** Refreshes one entity's facts in place; returns proposal attribute name -> contract attribute name. */
function refreshEntity(existing: Entity, proposed: Entity): Map<string, string> {
  const oldUnique = existing.source.uniqueKeys ?? {};
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
    } else {
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
    existing.unique = { ...existing.unique, [key]: { attributes: rule.attributes.map((a) => names.get(a) ?? a) } };
  }
  return names;
}

function mergePatterns(
  out: Contract,
  proposal: Contract,
  entityNames: ReadonlyMap<string, string>,
  attributeNames: ReadonlyMap<string, ReadonlyMap<string, string>>,
  drift: DriftReport,
  workloadGiven: boolean,
): void {
  const existing = out.accessPatterns ?? {};
  const byDigest = new Map<string, AccessPattern>();
  for (const pattern of Object.values(existing)) if (pattern.observed) byDigest.set(pattern.observed.digest, pattern);
  const names = new Set(Object.keys(existing));
  const seen = new Set<string>();
  for (const [proposedName, proposed] of Object.entries(proposal.accessPatterns ?? {})) {
    const digest = proposed.observed?.digest;
    if (!digest) continue;
    seen.add(digest);
    const known = byDigest.get(digest);
    if (known) {
      known.observed = clone(proposed.observed);
      continue;
    }
    const entity = entityNames.get(proposed.entity) ?? proposed.entity;
    if (!out.entities[entity]) continue;
    const rename = attributeNames.get(entity);
    const pattern = clone(proposed);
    pattern.entity = entity;
    if (pattern.parameters) {
      pattern.parameters = Object.fromEntries(
        Object.entries(pattern.parameters).map(([p, t]) => [rename?.get(p) ?? p, t]),
      );
    }
    const name = unique(proposedName, names);
    existing[name] = pattern;
    drift.workload.push(`new statement -> access pattern ${name}: ${proposed.observed?.sql ?? ""}`);
  }
  if (workloadGiven) {
    for (const [name, pattern] of Object.entries(existing)) {
      if (pattern.observed && !seen.has(pattern.observed.digest)) {
        drift.workload.push(`access pattern ${name} was not seen in this workload (kept)`);
      }
    }
  }
  if (Object.keys(existing).length > 0) out.accessPatterns = existing;
}
