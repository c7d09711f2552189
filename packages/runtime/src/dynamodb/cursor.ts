/**
 * DynamoDB's position in a listing (LastEvaluatedKey and the index it belongs to), carried in ferry's cursor
 * envelope (../cursor.ts).
 */

import type { Item } from "../codec/index.ts";
import { decodeCursor, encodeCursor, isRecord } from "../cursor.ts";
import { CursorError } from "../errors.ts";

/**
 * Encodes DynamoDB's LastEvaluatedKey (string key attributes only, as every ferry key is); `where` names the
 * listing's order and filters, which a continuation must have too.
 */
export function encodeQueryCursor(entity: string, index: string | undefined, key: Item, where?: string): string {
  const strings: Record<string, { S: string }> = {};
  for (const [name, value] of Object.entries(key)) {
    if (value.S === undefined) {
      throw new CursorError("dynamodb", entity, `cannot hold the non-string key attribute '${name}'`);
    }
    strings[name] = { S: value.S };
  }
  return encodeCursor("dynamodb", entity, { index: index ?? null, key: strings, ...(where ? { where } : {}) });
}

/** The ExclusiveStartKey a cursor of this listing carries, or CursorError. */
export function decodeQueryCursor(cursor: string, entity: string, index: string | undefined, listing?: string): Item {
  const position = decodeCursor(cursor, "dynamodb", entity);
  if ((position.where ?? undefined) !== listing) {
    throw new CursorError("dynamodb", entity, "is from a listing with another order or filter");
  }
  const where = (name: unknown) => (name === null ? "the table" : `index ${String(name)}`);
  if (position.index !== (index ?? null)) {
    throw new CursorError(
      "dynamodb",
      entity,
      `continues a listing of ${where(position.index)}, not of ${where(index ?? null)}`,
    );
  }
  const key = position.key;
  if (!isRecord(key)) throw new CursorError("dynamodb", entity, "has no key");
  const item: Item = {};
  for (const [name, value] of Object.entries(key)) {
    if (!isRecord(value) || typeof value.S !== "string") {
      throw new CursorError("dynamodb", entity, "has a malformed key");
    }
    item[name] = { S: value.S };
  }
  return item;
}
