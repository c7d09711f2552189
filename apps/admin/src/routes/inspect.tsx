/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The record inspector's routes: one record looked up by its key on both stores (the runtime's inspectRecord), as a
 * page and as JSON. The key comes as the tagged JSON of encodeKey (`?entity=User&key={"id":{"$bigint":"3"}}`, what
 * the validation report links to), or one query parameter per attribute of the entity's key (`?entity=User&id=3`,
 * what the form sends), each read as text of the attribute's type and checked by the codec.
 */
import {
  type AttributeCodec,
  decodeKey,
  type EntityCodec,
  type EntityValue,
  InspectError,
  inspectRecord,
  type RecordInspection,
} from "@ferry/runtime";
import { type AccessRoutes, operatorOf } from "../access.ts";
import { AdminError } from "../errors.ts";
import { type ConsoleStores, needStores } from "../stores.ts";
import { InspectPage } from "../views/inspect.tsx";

/** The longest text read from one query parameter. */
const MAX_TEXT = 2000;

/** What a request asks: the entity, and its key when one was given (none: the form only). */
interface InspectRequest {
  codec: EntityCodec;
  key: EntityValue | undefined;
}

export function inspectRoutes(routes: AccessRoutes, stores: ConsoleStores | undefined): void {
  routes.get("/inspect", "viewer", async (c) => {
    const ready = needStores(stores);
    const typed = c.req.query();
    const entities = ready.codec.entities;
    const given = typed.entity?.trim() ?? "";
    const known = entities.includes(given) ? ready.codec.entity(given) : undefined;
    try {
      const request = readInspectRequest(ready, typed, "page");
      const inspection = request.key === undefined ? undefined : await inspect(ready, request.codec, request.key);
      const shown = request.key === undefined ? typed : { ...typed, ...keyTexts(request.codec, request.key) };
      return c.html(
        <InspectPage
          operator={operatorOf(c)}
          entities={entities}
          codec={request.codec}
          typed={shown}
          inspection={inspection}
        />,
      );
    } catch (error) {
      if (!(error instanceof AdminError) || error.status !== 400) throw error;
      return c.html(
        <InspectPage
          operator={operatorOf(c)}
          entities={entities}
          codec={known}
          typed={typed}
          error={{ message: error.message, fields: error.fields }}
        />,
        400,
      );
    }
  });
  routes.get("/api/inspect", "viewer", async (c) => {
    const ready = needStores(stores);
    const request = readInspectRequest(ready, c.req.query(), "api");
    if (request.key === undefined) {
      const fields = request.codec.identity.join(", ");
      throw new AdminError(400, "invalid", "Give the record's key.", {
        key: `Give the key as key=<its JSON> or as ${fields}.`,
      });
    }
    const inspection = await inspect(ready, request.codec, request.key);
    return c.json({
      ...(plainJson(inspection) as Record<string, unknown>),
      mysql: plainJson(inspection.mysql) ?? null,
      dynamodb: plainJson(inspection.dynamodb) ?? null,
      item: plainJson(inspection.item) ?? null,
    });
  });
}

/** The entity and the key a request names; AdminError 400 with a message per field when they are not right. */
function readInspectRequest(
  stores: ConsoleStores,
  query: Record<string, string>,
  from: "page" | "api",
): InspectRequest {
  const { codec } = stores;
  const entity = query.entity?.trim() ?? "";
  if (entity === "") {
    const first = codec.entities[0];
    if (from === "page" && first !== undefined) return { codec: codec.entity(first), key: undefined };
    throw invalid({ entity: `Choose an entity: ${codec.entities.join(", ")}.` });
  }
  if (!codec.entities.includes(entity)) {
    throw invalid({
      entity: `There is no entity '${short(entity)}' in the contract (it has ${codec.entities.join(", ")}).`,
    });
  }
  const entityCodec = codec.entity(entity);
  const keyText = query.key?.trim() ?? "";
  if (keyText !== "") return { codec: entityCodec, key: taggedKey(entityCodec, keyText) };
  const given = entityCodec.identity.filter((name) => (query[name]?.trim() ?? "") !== "");
  if (given.length === 0) return { codec: entityCodec, key: undefined };
  const key: EntityValue = {};
  const fields: Record<string, string> = {};
  for (const name of entityCodec.identity) {
    const text = query[name]?.trim() ?? "";
    if (text === "") {
      fields[name] = `Give ${name}: ${entityCodec.name}'s key is ${entityCodec.identity.join(", ")}.`;
      continue;
    }
    const read = fieldValue(entityCodec.attribute(name), text);
    if ("problem" in read) fields[name] = read.problem;
    else key[name] = read.value;
  }
  if (Object.keys(fields).length > 0) throw invalid(fields);
  return { codec: entityCodec, key };
}

/** A key given as encodeKey's tagged JSON. */
function taggedKey(codec: EntityCodec, text: string): EntityValue {
  const problem = `The key is the JSON of ${codec.name}'s ${codec.identity.join(", ")}, like ${example(codec)}.`;
  if (text.length > MAX_TEXT) throw invalid({ key: `The key is too long. ${problem}` });
  let key: unknown;
  try {
    key = decodeKey(text);
  } catch {
    throw invalid({ key: `The key is not JSON. ${problem}` });
  }
  if (key === null || typeof key !== "object" || Array.isArray(key)) throw invalid({ key: problem });
  return key as EntityValue;
}

function example(codec: EntityCodec): string {
  return JSON.stringify(Object.fromEntries(codec.identity.map((name) => [name, exampleValue(codec, name)])));
}

function exampleValue(codec: EntityCodec, name: string): unknown {
  const type = codec.attribute(name).type;
  if (type === "bigint") return { $bigint: "42" };
  if (type === "integer" || type === "float") return 42;
  return "…";
}

/**
 * One key attribute from the text typed for it, as the codec takes a value of its type: numbers for integer and float
 * attributes, a bigint for bigint ones, true/false for booleans, base64 for bytes, JSON for JSON, comma-separated
 * members for a SET; every other type (strings, decimals, dates and times, enums) is text the codec checks itself.
 */
function fieldValue(attribute: AttributeCodec, text: string): { value: unknown } | { problem: string } {
  const name = attribute.name;
  if (text.length > MAX_TEXT) return { problem: `${name} is too long.` };
  switch (attribute.type) {
    case "integer":
      return /^-?\d+$/.test(text) ? { value: Number(text) } : { problem: `${name} is a whole number, like 42.` };
    case "bigint":
      return /^-?\d+$/.test(text) ? { value: BigInt(text) } : { problem: `${name} is a whole number, like 42.` };
    case "float":
      return /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)
        ? { value: Number(text) }
        : { problem: `${name} is a number, like 4.2.` };
    case "boolean":
      if (text === "true" || text === "1") return { value: true };
      if (text === "false" || text === "0") return { value: false };
      return { problem: `${name} is true or false.` };
    case "binary":
    case "geometry":
      return /^[A-Za-z0-9+/]*={0,2}$/.test(text) && text.length % 4 === 0
        ? { value: new Uint8Array(Buffer.from(text, "base64")) }
        : { problem: `${name} is bytes in base64.` };
    case "json":
      try {
        return { value: JSON.parse(text) };
      } catch {
        return { problem: `${name} is JSON.` };
      }
    case "set":
      return {
        value: text
          .split(",")
          .map((member) => member.trim())
          .filter((member) => member !== ""),
      };
    default:
      return { value: text };
  }
}

/** A key's values as the form shows them in its fields. */
function keyTexts(codec: EntityCodec, key: EntityValue): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const name of codec.identity) {
    const value = key[name];
    if (value === undefined || value === null) continue;
    if (typeof value === "string") texts[name] = value;
    else if (value instanceof Uint8Array) texts[name] = Buffer.from(value).toString("base64");
    else if (Array.isArray(value) && codec.attribute(name).type === "set") texts[name] = value.join(",");
    else if (typeof value === "object") texts[name] = JSON.stringify(plainJson(value));
    else texts[name] = String(value);
  }
  return texts;
}

/** The runtime's inspection, its refusals as 400 with the form's fields. */
async function inspect(stores: ConsoleStores, codec: EntityCodec, key: EntityValue): Promise<RecordInspection> {
  try {
    return await inspectRecord(stores, codec.name, key);
  } catch (error) {
    if (!(error instanceof InspectError)) throw error;
    const fields: Record<string, string> = {};
    for (const [name, message] of Object.entries(error.fields)) {
      // A field the form has no input for (not part of the key) is said next to the key.
      const field = name === "entity" || codec.identity.includes(name) ? name : "key";
      fields[field] = fields[field] === undefined ? message : `${fields[field]} ${message}`;
    }
    throw invalid(fields);
  }
}

function invalid(fields: Record<string, string>): AdminError {
  return new AdminError(400, "invalid", "This is not a record's key: see the fields.", fields);
}

function short(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * A value as plain JSON, never throwing: bigints and bytes tagged as encodeKey tags them ({"$bigint"}, {"$bytes"}),
 * dates as ISO text, numbers JSON cannot hold as text, undefined left out of objects (null in lists).
 */
export function plainJson(value: unknown, depth = 0): unknown {
  if (value === undefined) return undefined;
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "bigint") return { $bigint: value.toString() };
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString("base64") };
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value !== "object") return String(value);
  if (depth > 64) return null;
  if (Array.isArray(value)) return value.map((inner) => plainJson(inner, depth + 1) ?? null);
  const object: Record<string, unknown> = {};
  for (const [name, inner] of Object.entries(value)) {
    const plain = plainJson(inner, depth + 1);
    if (plain !== undefined) object[name] = plain;
  }
  return object;
}
