/**
 * Denormalised copies: attributes an entity's DynamoDB items carry from another entity's item (a product's
 * `sellerName` from its seller), as the contract's `denormalized` states them. Filled in from the source items when
 * a value is written to DynamoDB, so the live path and the outbox's replays write the same items.
 */
import type { Codec, EntityValue } from "./codec.ts";

/** Reads one item of an entity by its key (from whichever store is the source). */
export type ReadEntity = (entity: string, key: EntityValue) => Promise<EntityValue | undefined>;

/**
 * The value with its denormalised copies filled in from the items they copy (read with `read`); copies the caller
 * gave are kept. A copy whose source item is missing, or whose `via` attribute is NULL, stays absent. Each source
 * item is read once however many copies come from it.
 */
export async function withCopies(
  codec: Codec,
  entity: string,
  value: EntityValue,
  read: ReadEntity,
): Promise<EntityValue> {
  const copies = Object.entries(codec.entity(entity).definition.denormalized ?? {});
  const missing = copies.filter(([name]) => value[name] === undefined);
  if (missing.length === 0) return value;
  const filled: EntityValue = { ...value };
  const sources = new Map<string, Promise<EntityValue | undefined>>();
  for (const [name, copy] of missing) {
    const identity = codec.entity(copy.from).identity;
    const via = value[copy.via];
    if (identity.length !== 1 || via === undefined || via === null) continue;
    const key = { [identity[0] as string]: via };
    const cacheKey = `${copy.from}\u0000${String(via)}`;
    let source = sources.get(cacheKey);
    if (!source) {
      source = read(copy.from, key);
      sources.set(cacheKey, source);
    }
    const copied = (await source)?.[copy.attribute];
    if (copied !== undefined && copied !== null) filled[name] = copied;
  }
  return filled;
}
