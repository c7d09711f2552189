/**
 * What MySQL does on its own and DynamoDB does not: column defaults on insert (`DEFAULT 0`,
 * `DEFAULT 'pending'`, `DEFAULT current_timestamp(3)`, the implicit NULL) and `ON UPDATE current_timestamp(3)`.
 * The router applies them itself so both stores hold the same values whichever is authoritative.
 */
import type { Attribute, Entity } from "@ferry/contract";
import type { EntityValue } from "../codec/index.ts";

const NOW = /^(current_timestamp|now|localtimestamp|localtime)(\((\d)\))?$/i;

/** The time now as the column stores it: ISO-8601 UTC with the column's fractional digits. */
function now(sqlType: string, at: Date): string {
  const digits = Number(/\((\d)\)/.exec(sqlType)?.[1] ?? 0);
  const iso = at.toISOString(); // 2026-01-02T03:04:05.678Z
  return digits === 0
    ? `${iso.slice(0, 19)}Z`
    : `${iso.slice(0, 20 + Math.min(digits, 3))}${"0".repeat(Math.max(0, digits - 3))}Z`;
}

function literal(attribute: Attribute, text: string, at: Date): unknown {
  if (NOW.test(text))
    return attribute.type === "date"
      ? now(attribute.column.sqlType, at).slice(0, 10)
      : now(attribute.column.sqlType, at);
  if (/^null$/i.test(text)) return null;
  const quoted = /^'(.*)'$/s.exec(text);
  const raw = quoted ? (quoted[1] ?? "").replace(/''/g, "'") : text;
  switch (attribute.type) {
    case "integer":
    case "float":
      return Number(raw);
    case "bigint":
      return BigInt(raw);
    case "boolean":
      return raw !== "0" && raw.toLowerCase() !== "false";
    case "set":
      return raw === "" ? [] : raw.split(",");
    default:
      return raw;
  }
}

/** The value with every absent attribute that has a column default filled in. */
export function withInsertDefaults(entity: Entity, value: EntityValue, at = new Date()): EntityValue {
  const filled: EntityValue = { ...value };
  for (const [name, attribute] of Object.entries(entity.attributes)) {
    if (filled[name] !== undefined || attribute.column.autoIncrement || attribute.column.generated) continue;
    if (attribute.column.default !== undefined) filled[name] = literal(attribute, attribute.column.default, at);
    // A NULL-able column without a default is NULL, as MySQL stores it.
    else if (attribute.column.nullable) filled[name] = null;
  }
  return filled;
}

/** The changes with every `ON UPDATE` attribute set, unless the caller set it. */
export function withUpdateDefaults(entity: Entity, changes: EntityValue, at = new Date()): EntityValue {
  const filled: EntityValue = { ...changes };
  for (const [name, attribute] of Object.entries(entity.attributes)) {
    if (filled[name] !== undefined || attribute.column.onUpdate === undefined) continue;
    filled[name] = literal(attribute, attribute.column.onUpdate, at);
  }
  return filled;
}
