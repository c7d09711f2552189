/**
 * Listing cursors: opaque base64url JSON naming the store, entity and index they continue, so a cursor given to
 * another listing is refused (CursorError) instead of silently reading the wrong items.
 */

import type { Item } from "../codec/index.ts";
import { CursorError } from "../errors.ts";

interface CursorBody {
  v: 1;
  store: "dynamodb";
  entity: string;
  index: string | null;
  key: Record<string, { S: string }>;
}

/** Encodes DynamoDB's LastEvaluatedKey (string key attributes only, as every ferry key is). */
export function encodeCursor(entity: string, index: string | undefined, key: Item): string {
  const strings: Record<string, { S: string }> = {};
  for (const [name, value] of Object.entries(key)) {
    if (value.S === undefined)
      throw new CursorError("dynamodb", entity, `cannot hold the non-string key attribute '${name}'`);
    strings[name] = { S: value.S };
  }
  const body: CursorBody = { v: 1, store: "dynamodb", entity, index: index ?? null, key: strings };
  return Buffer.from(JSON.stringify(body), "utf8").toString("base64url");
}

/** Decodes a cursor for this listing, or throws CursorError. */
export function decodeCursor(cursor: string, entity: string, index: string | undefined): Item {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new CursorError("dynamodb", entity, "is not a ferry cursor");
  }
  if (!isRecord(parsed) || parsed.v !== 1)
    throw new CursorError("dynamodb", entity, "is not a ferry cursor (version 1)");
  if (parsed.store !== "dynamodb")
    throw new CursorError("dynamodb", entity, `belongs to the ${String(parsed.store)} store`);
  if (parsed.entity !== entity)
    throw new CursorError("dynamodb", entity, `belongs to a listing of ${String(parsed.entity)}`);
  const where = (name: unknown) => (name === null ? "the table" : `index ${String(name)}`);
  if (parsed.index !== (index ?? null)) {
    throw new CursorError(
      "dynamodb",
      entity,
      `continues a listing of ${where(parsed.index)}, not of ${where(index ?? null)}`,
    );
  }
  const key = parsed.key;
  if (!isRecord(key)) throw new CursorError("dynamodb", entity, "has no key");
  const item: Item = {};
  for (const [name, value] of Object.entries(key)) {
    if (!isRecord(value) || typeof value.S !== "string")
      throw new CursorError("dynamodb", entity, "has a malformed key");
    item[name] = { S: value.S };
  }
  return item;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
