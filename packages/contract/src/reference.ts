/**
 * docs/contract.md, generated from the contract's JSON Schema (schema/contract.schema.json): every block, its fields,
 * their types, whether they are required, and what they mean, in the schema's own words, so the page never says
 * something the checker does not. `pnpm docs:generate` writes it; a test fails when the committed page is stale.
 */
import { contractSchema, type JsonSchema } from "./schema.ts";

interface Section {
  /** The heading: a definition's name, or a path to an inline block (`entity.parent`). */
  title: string;
  schema: JsonSchema;
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
/** A heading's anchor as GitHub makes it: lower case, punctuation dropped (but - and _), spaces to -. */
const anchor = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, "")
    .replace(/ /g, "-");

function refName(schema: JsonSchema): string | undefined {
  const ref = schema.$ref;
  return typeof ref === "string" && ref.startsWith("#/definitions/") ? ref.slice("#/definitions/".length) : undefined;
}

/** An inline block worth its own section: an object with named fields. */
function isBlock(schema: JsonSchema): boolean {
  return schema.properties !== undefined && Object.keys(schema.properties).length > 0;
}

/** A field's type in words, with links to the sections of the blocks it holds (`inline` names an inline one). */
function typeOf(schema: JsonSchema, inline: string, nested: Section[]): string {
  const ref = refName(schema);
  if (ref !== undefined) return `[${ref}](#${anchor(ref)})`;
  if ("const" in schema) return `\`${JSON.stringify(schema.const)}\``;
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => `\`${JSON.stringify(value)}\``).join(" or ");
  for (const keyword of ["oneOf", "anyOf"] as const) {
    const options = schema[keyword];
    if (Array.isArray(options)) {
      return (options as JsonSchema[])
        .map((option, i) => typeOf(option, `${inline}.${keyword}${i + 1}`, nested))
        .join(" or ");
    }
  }
  if (isBlock(schema)) {
    nested.push({ title: inline, schema });
    return `[${inline}](#${anchor(inline)})`;
  }
  const type = schema.type;
  if (type === "array") {
    const items = (schema.items ?? {}) as JsonSchema;
    return `list of ${typeOf(items, `${inline}[]`, nested)}`;
  }
  if (type === "object" && typeof schema.additionalProperties === "object") {
    return `map of name to ${typeOf(schema.additionalProperties as JsonSchema, `${inline}.*`, nested)}`;
  }
  if (Array.isArray(type)) return type.map((t) => `\`${String(t)}\``).join(" or ");
  if (typeof type === "string") {
    const pattern = typeof schema.pattern === "string" ? ` matching \`${schema.pattern}\`` : "";
    return `\`${type}\`${pattern}`;
  }
  return "any";
}

function renderSection(section: Section, queue: Section[]): string[] {
  const { schema } = section;
  const lines = [`## ${section.title}`, ""];
  if (typeof schema.description === "string") lines.push(schema.description, "");
  if (!isBlock(schema)) {
    const nested: Section[] = [];
    lines.push(
      `A value of type ${typeOf({ ...schema, description: undefined }, `${section.title}.value`, nested)}.`,
      "",
    );
    queue.push(...nested);
    return lines;
  }
  const required = new Set(schema.required ?? []);
  lines.push("| field | type | required | what it is |", "| --- | --- | --- | --- |");
  const nested: Section[] = [];
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const type = typeOf(field, `${section.title}.${name}`, nested);
    const description = typeof field.description === "string" ? field.description : "";
    lines.push(`| \`${name}\` | ${cell(type)} | ${required.has(name) ? "yes" : "no"} | ${cell(description)} |`);
  }
  lines.push("");
  if (schema.additionalProperties === false) lines.push("No other field is allowed.", "");
  queue.push(...nested);
  return lines;
}

/** The contract reference as Markdown: the top level, then every definition, each followed by its inline blocks. */
export function contractReference(schema: JsonSchema = contractSchema()): string {
  const lines = [
    "# The migration contract",
    "",
    "<!-- Generated from packages/contract/schema/contract.schema.json (packages/contract/src/reference.ts): run",
    "`pnpm docs:generate` after changing the schema; a test fails while this page is stale. -->",
    "",
    `The contract is a YAML file (\`contract/<name>.yaml\`) checked against its JSON Schema by \`ferry contract check\`.`,
    "",
  ];
  const done = new Set<string>();
  const visit = (section: Section) => {
    if (done.has(section.title)) return;
    done.add(section.title);
    const found: Section[] = [];
    lines.push(...renderSection(section, found));
    for (const inner of found) visit(inner);
  };
  visit({ title: "contract", schema });
  for (const [name, definition] of Object.entries(schema.definitions ?? {})) visit({ title: name, schema: definition });
  return `${lines.join("\n").trimEnd()}\n`;
}
