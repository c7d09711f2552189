/** The TypeScript type of each contract attribute type (docs/architecture.md, "Type mapping"). */
import { type Attribute, type AttributeType, parseSqlType } from "@ferry/contract";

const SCALAR: Record<Exclude<AttributeType, "enum" | "set">, string> = {
  string: "string",
  integer: "number",
  bigint: "bigint",
  decimal: "string",
  float: "number",
  boolean: "boolean",
  datetime: "string",
  date: "string",
  time: "string",
  json: "JsonValue",
  binary: "Uint8Array",
  geometry: "Uint8Array",
};

const literal = (value: string) => JSON.stringify(value);

/** The TS type of an attribute's value, without `| null`. */
export function valueType(attribute: Attribute): string {
  const { type } = attribute;
  if (type === "enum" || type === "set") {
    const values = parseSqlType(attribute.column.sqlType)?.values ?? [];
    const union = values.length > 0 ? values.map(literal).join(" | ") : "string";
    return type === "enum" ? union : values.length > 1 ? `Array<${union}>` : `${union}[]`;
  }
  return SCALAR[type];
}

/** One line saying what the value holds, for the property's doc comment. */
export function valueDoc(attribute: Attribute): string {
  const { column, type } = attribute;
  const sql = `${column.name} ${column.sqlType}${column.nullable ? "" : " not null"}`;
  switch (type) {
    case "decimal":
      return `${sql}: an exact decimal string (never a float)`;
    case "bigint":
      return `${sql}: a bigint, exact beyond 2^53`;
    case "datetime":
      return `${sql}: ISO-8601 UTC, e.g. 2026-01-02T03:04:05.000Z`;
    case "date":
      return `${sql}: YYYY-MM-DD`;
    case "time":
      return `${sql}: HH:MM:SS[.fraction]`;
    case "set":
      return `${sql}: the members, in declaration order (empty: none)`;
    case "json":
      return `${sql}: a JSON value`;
    case "geometry":
      return `${sql}: WKB bytes`;
    default:
      return sql;
  }
}
