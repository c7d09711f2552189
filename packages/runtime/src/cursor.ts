/**
 * Cursors: opaque base64url JSON tokens (one encoding for every listing ferry pages), and the envelope of entity
 * listings on either store, `{ v: 1, store, entity, ...position }`, where the position is each store's own
 * (DynamoDB's LastEvaluatedKey, MySQL's last row). A cursor handed to a listing of another store or entity is refused
 * (CursorError) instead of silently reading the wrong items, and the router can tell which store issued one (a phase
 * change moves reads to the other store).
 */
import { CursorError } from "./errors.ts";
import type { StoreName } from "./phases.ts";

const VERSION = 1;

/** A JSON body as an opaque cursor. */
export function encodeToken(body: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(body), "utf8").toString("base64url");
}

/** The JSON body of a cursor; undefined when it is not one (not base64url JSON of an object). */
export function readToken(cursor: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** A cursor for `store`'s listing of `entity`, continuing after `position` (plain JSON values). */
export function encodeCursor(store: StoreName, entity: string, position: Record<string, unknown>): string {
  for (const reserved of ["v", "store", "entity"]) {
    if (reserved in position) throw new CursorError(store, entity, `cannot carry a position named '${reserved}'`);
  }
  return encodeToken({ v: VERSION, store, entity, ...position });
}

/** The position a cursor carries, once it is known to continue `store`'s listing of `entity`; CursorError otherwise. */
export function decodeCursor(cursor: string, store: StoreName, entity: string): Record<string, unknown> {
  const body = readToken(cursor);
  if (body === undefined || body.v !== VERSION) throw new CursorError(store, entity, "is not a ferry cursor");
  if (body.store !== store) throw new CursorError(store, entity, `belongs to the ${String(body.store)} store`);
  if (body.entity !== entity) throw new CursorError(store, entity, `belongs to a listing of ${String(body.entity)}`);
  const { v: _v, store: _store, entity: _entity, ...position } = body;
  return position;
}

/** The store that issued a cursor; undefined when it is not a ferry cursor. */
export function cursorIssuer(cursor: string): StoreName | undefined {
  const store = readToken(cursor)?.store;
  return store === "mysql" || store === "dynamodb" ? store : undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
