/**
 * Orphan unique markers: a marker item (`UNIQUE#<Entity>#<rule>#...`) whose owner item is not there, or whose owner
 * no longer holds the marker's value. The live path never leaves one (a marker is written, swapped and deleted in the
 * transaction of its item), but a crash of a process that wrote outside it, an operator's hand or an older ferry may.
 * An orphan refuses a value nobody holds, so validation reports it and repair and KeySync free it.
 *
 * Freeing is safe under live writes: one TransactWriteItems checks the owner item as it was read (absent, or at the
 * version read) and deletes the marker on condition that it still names that owner. A live write that gave the owner
 * the value since (its version moved), or moved the marker to another item (it names someone else), cancels the
 * transaction, and the caller looks again.
 */
import {
  type DynamoDBClient,
  GetItemCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import { ENTITY_ATTRIBUTE, type EntityCodec, type EntityValue, type Item } from "../codec/index.ts";
import { Expression, versionCondition } from "./expression.ts";
import { primaryKey } from "./item-keys.ts";
import {
  allUniqueRules,
  enforcedByKey,
  ownedBy,
  uniqueMarker,
  uniqueMarkerKey,
  uniqueRuleAttributes,
  uniqueRules,
} from "./unique-markers.ts";

/** A marker's key prefix for one entity: every marker of the entity's unique rules starts with it. */
export function markerPrefix(codec: EntityCodec): string {
  return `UNIQUE#${codec.name}#`;
}

/** The unique rule a marker stands for (from its key), or undefined for a key that is not one of the entity's markers. */
export function markerRule(codec: EntityCodec, marker: Item): string | undefined {
  const id = marker[codec.keyNames.partition]?.S;
  if (id === undefined || !id.startsWith(markerPrefix(codec))) return undefined;
  const rest = id.slice(markerPrefix(codec).length);
  // Every rule: a rule the item's key enforces has no marker now, but an earlier ferry wrote them (markerState).
  return allUniqueRules(codec)
    .map((rule) => rule.name)
    .find((name) => rest.startsWith(`${name}#`));
}

/** The key of the item a marker names (`owner<PK>`, `owner<SK>`), or undefined when it names none. */
export function markerOwnerKey(codec: EntityCodec, marker: Item): Item | undefined {
  const key: Item = {};
  for (const name of [codec.keyNames.partition, codec.keyNames.sort]) {
    if (name === undefined) continue;
    const attribute = marker[`owner${name}`];
    if (attribute === undefined) return undefined;
    key[name] = attribute;
  }
  return key;
}

/** What a marker is, seen with its owner item (both as read). */
export type MarkerState =
  | { kind: "held"; owner: EntityValue }
  | {
      kind: "orphan";
      why:
        | "no owner"
        | "owner missing"
        | "owner does not hold the value"
        | "not needed: the item's key enforces the rule";
      owner?: EntityValue;
    };

/** Whether `marker`, whose owner item is `ownerItem` (undefined: not there), is held by its owner or an orphan. */
export function markerState(codec: EntityCodec, marker: Item, ownerItem: Item | undefined): MarkerState {
  const rule = markerRule(codec, marker);
  if (markerOwnerKey(codec, marker) === undefined || rule === undefined) return { kind: "orphan", why: "no owner" };
  // A marker of a rule the item's key enforces (left by an earlier ferry, which kept one for every rule): nothing needs
  // it, and freeing it is safe whoever it names.
  if (enforcedByKey(codec, { name: rule, attributes: uniqueRuleAttributes(codec, rule) })) {
    return { kind: "orphan", why: "not needed: the item's key enforces the rule" };
  }
  if (ownerItem === undefined || ownerItem[ENTITY_ATTRIBUTE]?.S !== codec.name) {
    return { kind: "orphan", why: "owner missing" };
  }
  const owner = codec.fromItem(ownerItem);
  const held = uniqueMarkerKey(codec, rule, owner);
  const mine = primaryKey(codec, marker);
  if (held === undefined || JSON.stringify(held) !== JSON.stringify(mine)) {
    return { kind: "orphan", why: "owner does not hold the value", owner };
  }
  return { kind: "held", owner };
}

/**
 * Frees the marker under `markerKey` when it is an orphan: "freed"; "held" when its owner holds its value; "absent"
 * when there is no marker; "changed" when the owner or the marker changed between the read and the delete (nothing
 * was deleted; look again).
 */
export async function freeOrphanMarker(
  client: DynamoDBClient,
  table: string,
  codec: EntityCodec,
  markerKey: Item,
): Promise<"freed" | "held" | "absent" | "changed"> {
  const read = async (key: Item) =>
    (await client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
  const marker = await read(markerKey);
  if (marker === undefined) return "absent";
  const ownerKey = markerOwnerKey(codec, marker);
  const ownerItem = ownerKey === undefined ? undefined : await read(ownerKey);
  if (markerState(codec, marker, ownerItem).kind === "held") return "held";
  try {
    await client.send(new TransactWriteItemsCommand({ TransactItems: orphanDelete(table, codec, marker, ownerItem) }));
    return "freed";
  } catch (error) {
    if (error instanceof TransactionCanceledException) return "changed";
    throw error;
  }
}

/** The transaction that deletes an orphan marker, on condition that its owner is as read and it still names it. */
function orphanDelete(
  table: string,
  codec: EntityCodec,
  marker: Item,
  ownerItem: Item | undefined,
): TransactWriteItem[] {
  const ownerKey = markerOwnerKey(codec, marker);
  const deleting = new Expression();
  const partition = deleting.name(codec.keyNames.partition);
  const names =
    ownerKey === undefined
      ? // A marker that names no owner: delete it as it is (it still names none).
        [codec.keyNames.partition, codec.keyNames.sort]
          .filter((name): name is string => name !== undefined)
          .map((name) => `attribute_not_exists(${deleting.name(`owner${name}`)})`)
      : Object.entries(ownerKey).map(
          ([name, attribute]) => `${deleting.name(`owner${name}`)} = ${deleting.value(attribute)}`,
        );
  const items: TransactWriteItem[] = [
    {
      Delete: {
        TableName: table,
        Key: primaryKey(codec, marker),
        ConditionExpression: [`attribute_exists(${partition})`, ...names].join(" AND "),
        ...deleting.attributes,
      },
    },
  ];
  if (ownerKey !== undefined) {
    const checking = new Expression();
    const exists = checking.name(codec.keyNames.partition);
    items.push({
      ConditionCheck: {
        TableName: table,
        Key: ownerKey,
        ConditionExpression:
          ownerItem === undefined
            ? `attribute_not_exists(${exists})`
            : `attribute_exists(${exists}) AND ${versionCondition(checking, ownerItem)}`,
        ...checking.attributes,
      },
    });
  }
  return items;
}

/** What restoring an item's markers did: markers put, and the rules whose value another item holds. */
export interface MarkersRestored {
  restored: number;
  held: string[];
}

/**
 * Puts back the markers an item's values should have and has not (a marker lost by a crash, or freed as an orphan
 * while a backfill's marker had landed ahead of its item): each in a transaction with a check that the item is still
 * at the version read, on condition that the marker is absent or the item's already. A marker another item holds is
 * freed first when it is an orphan; when its holder holds the value, the rule is returned in `held`.
 */
export async function restoreMarkers(
  client: DynamoDBClient,
  table: string,
  codec: EntityCodec,
  key: Item,
  attempts = 3,
): Promise<MarkersRestored> {
  const result: MarkersRestored = { restored: 0, held: [] };
  const read = async (itemKey: Item) =>
    (await client.send(new GetItemCommand({ TableName: table, Key: itemKey, ConsistentRead: true }))).Item;
  for (const rule of uniqueRules(codec)) {
    for (let attempt = 1; ; attempt++) {
      const item = await read(key);
      if (item === undefined || item[ENTITY_ATTRIBUTE]?.S !== codec.name) return result;
      const owner = primaryKey(codec, item);
      const marker = uniqueMarker(codec, rule.name, codec.fromItem(item), owner);
      if (marker === undefined) break;
      const there = await read(primaryKey(codec, marker));
      const named = there === undefined ? undefined : markerOwnerKey(codec, there);
      if (named !== undefined && JSON.stringify(named) === JSON.stringify(owner)) break;
      if (there !== undefined) {
        const freed = await freeOrphanMarker(client, table, codec, primaryKey(codec, marker));
        if (freed === "held") {
          result.held.push(rule.name);
          break;
        }
      }
      const putting = new Expression();
      const checking = new Expression();
      const writes: TransactWriteItem[] = [
        {
          Put: {
            TableName: table,
            Item: marker,
            ConditionExpression: ownedBy(codec, putting, owner),
            ...putting.attributes,
          },
        },
        {
          ConditionCheck: {
            TableName: table,
            Key: owner,
            ConditionExpression: `attribute_exists(${checking.name(codec.keyNames.partition)}) AND ${versionCondition(checking, item)}`,
            ...checking.attributes,
          },
        },
      ];
      try {
        await client.send(new TransactWriteItemsCommand({ TransactItems: writes }));
        result.restored++;
        break;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException) || attempt >= attempts) throw error;
      }
    }
  }
  return result;
}
