/**
 * What the outbox stores: one entry per item a failed secondary write touched, naming the store to bring up to date
 * (the one that failed), the entity and the item's identity key. Entries carry no values: a replay re-reads the item
 * from the authoritative store (see sync.ts), so an entry only has to say which key needs a look.
 */
import { createHash } from "node:crypto";
import type { Codec, EntityValue } from "../codec/index.ts";
import type { StoreName } from "../phases.ts";
import type { SecondaryFailure } from "../secondary-failure.ts";

/** An entry before it is stored (it gets its sequence number from the storage). */
export interface NewOutboxEntry {
  /** The store that missed the write and is brought up to date by the replay. */
  target: StoreName;
  entity: string;
  /** Identifies target, entity and key (keyIdOf): the entries of one key are one sync. */
  keyId: string;
  /** The item's identity attributes (EntityCodec.identity). */
  key: EntityValue;
  /**
   * The item's key before an update moved it (a changed identity attribute): the replay syncs that key first, so the
   * stale item under it is deleted on the target before the item is created under its new key.
   */
  movedFrom?: EntityValue;
  /** What failed: create, update, delete, or the transaction's name. For people; the replay does not use it. */
  operation: string;
  /** Epoch milliseconds. */
  createdAt: number;
  /**
   * Epoch milliseconds before which the entry is not replayed (default: at once). A write's intent (./intents.ts) is
   * recorded with one in the future: the request that recorded it is still copying the write, and removes it when done.
   */
  notBefore?: number;
}

/** An entry as stored. */
export interface OutboxEntry extends NewOutboxEntry {
  /** Ascending in the order entries were recorded (per storage; the replay of a key follows it). */
  seq: bigint;
  /** Replays tried so far. */
  attempts: number;
  /** Epoch milliseconds; the entry is not tried again before. */
  nextAttemptAt: number;
  lastError?: string;
  /**
   * Epoch milliseconds since when the entry is stuck: its sync kept failing for a reason that is not an outage (a
   * value the target refuses, a unique value the target's other item really holds, ...). It is kept, shown by
   * `ferry outbox status` and the metrics, and still retried at the slowest backoff (it may become applicable).
   */
  stuckSince?: number;
}

/**
 * The entries a failed secondary write leaves: one per item it touched (for a transaction, per item any of its
 * writes touched; checks touch none), in the order of the writes; a key that occurs twice is recorded once.
 */
export function entriesOf(codec: Codec, failure: SecondaryFailure, now: number): NewOutboxEntry[] {
  const entries: NewOutboxEntry[] = [];
  const seen = new Set<string>();
  const add = (entity: string, operation: string, key: EntityValue, movedFrom?: EntityValue) => {
    const id = keyIdOf(codec, failure.store, entity, key);
    if (seen.has(id) && movedFrom === undefined) return;
    seen.add(id);
    entries.push({
      target: failure.store,
      entity,
      keyId: id,
      key,
      ...(movedFrom ? { movedFrom } : {}),
      operation,
      createdAt: now,
    });
  };
  const touch = (entity: string, operation: string, key: EntityValue, changes: EntityValue | undefined) => {
    const moved = changes === undefined ? undefined : movedKey(codec, entity, key, changes);
    if (moved) {
      add(entity, operation, moved, key);
      // The old key has an entry of its own too, so that a look for the entries of a key (holdsKey: a stranded key's
      // settle, ./stranded.ts) finds the move under either key; its replay deletes the stale item there, as the
      // replay of the new key's entry does first.
      add(entity, operation, identityOf(codec, entity, key));
    } else add(entity, operation, identityOf(codec, entity, key));
  };
  if (failure.operation === "transaction") {
    for (const write of failure.writes ?? []) {
      const operation = `${failure.entity}:${write.operation}`;
      if (write.operation === "create" && write.value) touch(write.entity, operation, write.value, undefined);
      else if (write.operation === "update" && write.key) touch(write.entity, operation, write.key, write.set);
      else if (write.operation === "delete" && write.key) touch(write.entity, operation, write.key, undefined);
    }
  } else {
    touch(failure.entity, failure.operation, failure.key, failure.operation === "update" ? failure.value : undefined);
  }
  return entries;
}

/** The entity's identity attributes of a value. */
export function identityOf(codec: Codec, entity: string, value: EntityValue): EntityValue {
  const key: EntityValue = {};
  for (const attribute of codec.entity(entity).identity) {
    if (value[attribute] !== undefined) key[attribute] = value[attribute];
  }
  return key;
}

/** The key after an update that changes identity attributes; undefined when the key stays. */
function movedKey(codec: Codec, entity: string, key: EntityValue, changes: EntityValue): EntityValue | undefined {
  const entityCodec = codec.entity(entity);
  const before = identityOf(codec, entity, key);
  let moved = false;
  const after: EntityValue = { ...before };
  for (const attribute of entityCodec.identity) {
    const changed = changes[attribute];
    if (changed === undefined) continue;
    const normalize = (value: unknown) => entityCodec.attribute(attribute).normalize(value);
    if (normalize(changed) !== normalize(before[attribute])) moved = true;
    after[attribute] = changed;
  }
  return moved ? after : undefined;
}

/** sha256 (hex) of target, entity and the normalised identity values: what makes two entries one sync. */
export function keyIdOf(codec: Codec, target: StoreName, entity: string, key: EntityValue): string {
  const entityCodec = codec.entity(entity);
  const parts = [target, entity, ...entityCodec.identity.map((a) => entityCodec.attribute(a).normalize(key[a]))];
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

/**
 * A key as JSON text that keeps its types: bigints as {"$bigint": "…"}, bytes as {"$bytes": "<base64>"}; other values
 * (strings, numbers, booleans, null) as they are.
 */
export function encodeKey(key: EntityValue): string {
  return JSON.stringify(key, (_name, value: unknown) => {
    if (typeof value === "bigint") return { $bigint: value.toString() };
    if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString("base64") };
    return value;
  });
}

/** The inverse of encodeKey. */
export function decodeKey(text: string): EntityValue {
  return JSON.parse(text, (_name, value: unknown) => {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const tagged = value as Record<string, unknown>;
      const names = Object.keys(tagged);
      if (names.length === 1 && typeof tagged.$bigint === "string") return BigInt(tagged.$bigint);
      if (names.length === 1 && typeof tagged.$bytes === "string") {
        return new Uint8Array(Buffer.from(tagged.$bytes, "base64"));
      }
    }
    return value;
  }) as EntityValue;
}

/** The delay before the next try after `attempts` failed ones: doubling from `baseMs` up to `capMs`, half of it random. */
export function backoffMs(attempts: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** An error as one line for `lastError` (bounded: it is stored with the entry). */
export function errorText(error: unknown): string {
  const text =
    error instanceof Error ? `${error.name}: ${error.message}` : typeof error === "string" ? error : String(error);
  return text.length > 1000 ? `${text.slice(0, 997)}...` : text;
}

/** Entries by key, in the order of each key's first entry; each key's entries in sequence order. */
export function groupByKey(entries: readonly OutboxEntry[]): Map<string, OutboxEntry[]> {
  const groups = new Map<string, OutboxEntry[]>();
  for (const entry of entries) {
    const group = groups.get(entry.keyId);
    if (group) group.push(entry);
    else groups.set(entry.keyId, [entry]);
  }
  return groups;
}
