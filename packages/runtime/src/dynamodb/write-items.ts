/**
 * The writes of DynamoDB transactions, each with the condition that makes it safe: a new item only where none is, a
 * stored item only at the version it was read at, a marker only while it is its owner's, an in-place update only of
 * an existing item, and the caller's conditions on top.
 */
import type { AttributeValue, TransactWriteItem } from "@aws-sdk/client-dynamodb";
import { ENTITY_ATTRIBUTE, type EntityCodec, type EntityValue, type Item } from "../codec/index.ts";
import type { Condition } from "../condition.ts";
import { StoreError } from "../errors.ts";
import {
  conditionExpressions,
  Expression,
  existsAnd,
  incrementAmount,
  updateExpressions,
  VERSION_ATTRIBUTE,
  versionCondition,
} from "./expression.ts";
import { keyedAttributes, primaryKey } from "./item-keys.ts";
import { ownedBy, uniqueRules } from "./unique-markers.ts";
import { wordIndexedAttributes } from "./word-items.ts";

/** DynamoDB's limit on the items of one transaction. */
export const MAX_TRANSACTION_ITEMS = 100;

/** The attribute types that can be incremented. */
export const NUMERIC_TYPES: ReadonlySet<string> = new Set(["integer", "bigint", "decimal", "float"]);

/** Puts an item where there is none (a new item, or a marker of a value nobody holds). */
export function putNew(table: string, codec: EntityCodec, item: Item): TransactWriteItem {
  const expression = new Expression();
  return {
    Put: {
      TableName: table,
      Item: item,
      ConditionExpression: `attribute_not_exists(${expression.name(codec.keyNames.partition)})`,
      ...expression.attributes,
    },
  };
}

/** Replaces a stored item whole, if it is still at the version it was read at and the conditions hold. */
export function putCurrent(
  table: string,
  codec: EntityCodec,
  item: Item,
  current: Item,
  condition: readonly Condition[],
): TransactWriteItem {
  const expression = new Expression();
  return {
    Put: {
      TableName: table,
      Item: item,
      ConditionExpression: [
        versionCondition(expression, current),
        ...conditionExpressions(codec, expression, condition),
      ].join(" AND "),
      ...expression.attributes,
    },
  };
}

/** Deletes a stored item, if it is still at the version it was read at and the conditions hold. */
export function deleteCurrent(
  table: string,
  codec: EntityCodec,
  current: Item,
  condition: readonly Condition[],
): TransactWriteItem {
  const expression = new Expression();
  return {
    Delete: {
      TableName: table,
      Key: primaryKey(codec, current),
      ConditionExpression: [
        versionCondition(expression, current),
        ...conditionExpressions(codec, expression, condition),
      ].join(" AND "),
      ...expression.attributes,
    },
  };
}

/**
 * Deletes the entity's item under `key` without reading it first: only if it is there, is the entity's, has the key's
 * identity, is at `version` when one is given ("0": never versioned) and the conditions hold. For items that have no
 * marker or word item to be deleted with them (which the item's values, read first, would name).
 */
export function deleteUnread(
  table: string,
  codec: EntityCodec,
  key: EntityValue,
  condition: readonly Condition[],
  version?: string,
): TransactWriteItem {
  const expression = new Expression();
  const checks = [
    `${expression.name(ENTITY_ATTRIBUTE)} = ${expression.value({ S: codec.name })}`,
    ...conditionExpressions(codec, expression, condition),
  ];
  if (version !== undefined) {
    checks.push(versionCondition(expression, version === "0" ? {} : { [VERSION_ATTRIBUTE]: { N: version } }));
  }
  return {
    Delete: {
      TableName: table,
      Key: codec.key(key),
      ConditionExpression: checks.join(" AND "),
      ...expression.attributes,
    },
  };
}

/** Puts a marker that is absent or still `owner`'s (the same values passing to the item's new key). */
export function putOwnedMarker(table: string, codec: EntityCodec, marker: Item, owner: Item): TransactWriteItem {
  const expression = new Expression();
  return {
    Put: {
      TableName: table,
      Item: marker,
      ConditionExpression: ownedBy(codec, expression, owner),
      ...expression.attributes,
    },
  };
}

/** Deletes a marker that is absent or still `owner`'s. */
export function deleteMarker(table: string, codec: EntityCodec, marker: Item, owner: Item): TransactWriteItem {
  const expression = new Expression();
  return {
    Delete: {
      TableName: table,
      Key: primaryKey(codec, marker),
      ConditionExpression: ownedBy(codec, expression, owner),
      ...expression.attributes,
    },
  };
}

/** Puts a word item (./word-items.ts): it is its owner's alone, so no condition; the owner's write guards it. */
export function putWord(table: string, word: Item): TransactWriteItem {
  return { Put: { TableName: table, Item: word } };
}

/** Deletes a word item by its key, there or not. */
export function deleteWord(table: string, key: Item): TransactWriteItem {
  return { Delete: { TableName: table, Key: key } };
}

/** Checks that an item exists and the conditions hold on it, writing nothing. */
export function conditionCheck(
  table: string,
  codec: EntityCodec,
  key: EntityValue,
  condition: readonly Condition[],
): TransactWriteItem {
  const expression = new Expression();
  return {
    ConditionCheck: {
      TableName: table,
      Key: codec.key(key),
      ConditionExpression: existsAnd(codec, expression, condition),
      ...expression.attributes,
    },
  };
}

/** An in-place Update for a transaction: only plain attributes change, so no index key or marker follows. */
export function inPlaceUpdate(
  table: string,
  codec: EntityCodec,
  key: EntityValue,
  changes: EntityValue,
  add: Record<string, number | bigint | string>,
  condition: readonly Condition[],
): TransactWriteItem {
  const keyed = keyedAttributes(codec);
  for (const rule of uniqueRules(codec)) for (const name of rule.attributes) keyed.add(name);
  for (const name of wordIndexedAttributes(codec)) keyed.add(name);
  const set: Array<[string, AttributeValue]> = [];
  const remove: string[] = [];
  for (const [name, value] of Object.entries(changes)) {
    if (keyed.has(name)) {
      throw new StoreError(
        "dynamodb",
        codec.name,
        `'${name}' is in a key, an index key, a unique rule or a word index: change it with update(), not in a transaction`,
      );
    }
    const converted = codec.attribute(name).toAttribute(value);
    if (converted === undefined) remove.push(name);
    else set.push([name, converted]);
  }
  const adds: Array<[string, string]> = [];
  for (const [name, delta] of Object.entries(add)) {
    const amount = incrementAmount(delta);
    if (!NUMERIC_TYPES.has(codec.attribute(name).type) || keyed.has(name) || amount === undefined) {
      throw new StoreError("dynamodb", codec.name, `'${name}' cannot be incremented in a transaction`);
    }
    adds.push([name, amount]);
  }
  return {
    Update: {
      TableName: table,
      Key: codec.key(key),
      ...updateExpressions(codec, { set, remove, add: adds }, condition),
    },
  };
}
