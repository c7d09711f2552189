/**
 * Cancelled transactions: DynamoDB says only which of a TransactWriteItems' writes failed and why (a code per write).
 * What each write stood for (its meaning) turns that into the error MySQL would report for the same request.
 */
import type { Codec, EntityCodec, EntityValue, Item } from "../codec/index.ts";
import { AlreadyExists, ConditionFailed, type StoreError, UniqueViolation } from "../errors.ts";
import { identityMatches, pick, placeholdersOf } from "./item-keys.ts";
import { allUniqueRules } from "./unique-markers.ts";

/** What a transaction's write stands for, so a cancellation reason can be told to the caller. */
export type Meaning = (
  | {
      kind: "new-item";
      key: EntityValue;
      /** create or key move: the new value and its item's key, to tell a taken key from a unique key MySQL would name. */
      created?: { value: EntityValue; itemKey: Item };
    }
  | { kind: "current" }
  | { kind: "unique"; rule: string; values: EntityValue }
  | { kind: "marker" }
  | { kind: "condition"; key: EntityValue }
) & {
  entity?: string;
  /** The index of the DynamoTransactWrite it belongs to (transact). */
  write?: number;
};

/**
 * A write whose expectation about the stored state did not hold (its condition failed), or that collided with another
 * transaction on the same item (nothing was written): read again.
 */
export class Stale extends Error {
  constructor(
    readonly reason: "condition failed" | "transaction conflict",
    options?: ErrorOptions,
  ) {
    super(reason, options);
  }
}

/** Reads the stored item of an entity by its key (to tell which of two errors a failed create stands for). */
export type ItemRead = (codec: EntityCodec, key: Item) => Promise<Item | undefined>;

/**
 * The error a cancelled transaction stands for: its first failed write's, as the caller knows it (UniqueViolation,
 * AlreadyExists, ConditionFailed, located at the transact() write it belongs to), or Stale when it was the item's own
 * version or marker that changed since it was read (read again and retry). Anything else stays as it was.
 */
export async function cancellationError(
  error: unknown,
  codes: readonly string[],
  meanings: readonly Meaning[],
  entity: string,
  codec: Codec,
  read: ItemRead,
): Promise<unknown> {
  if (codes.includes("TransactionConflict")) return new Stale("transaction conflict", { cause: error });
  const failed = codes.indexOf("ConditionalCheckFailed");
  const meaning = failed >= 0 ? meanings[failed] : undefined;
  const located = <T extends StoreError>(failure: T): T =>
    meaning?.write === undefined ? failure : Object.assign(failure, { write: meaning.write });
  switch (meaning?.kind) {
    case "new-item": {
      const rule = await uniqueKeyTaken(meaning, codes, meanings, codec, read);
      if (rule) {
        return located(
          new UniqueViolation("dynamodb", meaning.entity ?? entity, rule.name, rule.values, { cause: error }),
        );
      }
      return located(new AlreadyExists("dynamodb", meaning.entity ?? entity, meaning.key, { cause: error }));
    }
    case "unique":
      return located(
        new UniqueViolation("dynamodb", meaning.entity ?? entity, meaning.rule, meaning.values, { cause: error }),
      );
    case "condition":
      return located(new ConditionFailed("dynamodb", meaning.entity ?? entity, meaning.key, { cause: error }));
    case "current":
    case "marker":
      return new Stale("condition failed", { cause: error });
    default:
      return error;
  }
}

/**
 * When a new item's DynamoDB key is taken by another item (another MySQL primary key, e.g. a second cart line for
 * the same user and product), MySQL refuses the row by the unique key over those values, not by its primary key:
 * the rule to name then (one whose marker failed too, else one over exactly the key's placeholders).
 */
async function uniqueKeyTaken(
  meaning: Meaning & { kind: "new-item" },
  codes: readonly string[],
  meanings: readonly Meaning[],
  codecs: Codec,
  read: ItemRead,
): Promise<{ name: string; values: EntityValue } | undefined> {
  const created = meaning.created;
  if (!created || meaning.entity === undefined) return undefined;
  const codec = codecs.entity(meaning.entity);
  if (codec.checkedIdentity.length === 0) return undefined;
  const current = await read(codec, created.itemKey).catch(() => undefined);
  if (current === undefined || identityMatches(codec, codec.fromItem(current), created.value)) return undefined;
  const own = meanings.indexOf(meaning);
  for (const [i, other] of meanings.entries()) {
    if (i <= own || other.kind === "new-item") continue;
    if (other.kind !== "unique" || other.entity !== meaning.entity || other.write !== meaning.write) break;
    if (codes[i] === "ConditionalCheckFailed") return { name: other.rule, values: other.values };
  }
  const keyed = new Set([codec.definition.key.partition, codec.definition.key.sort].flatMap(placeholdersOf));
  // Every rule, those without a marker included: a rule the key enforces is named by the key's own failure.
  const rule = allUniqueRules(codec).find(
    (candidate) => candidate.attributes.length === keyed.size && candidate.attributes.every((a) => keyed.has(a)),
  );
  return rule ? { name: rule.name, values: pick(created.value, rule.attributes) } : undefined;
}
