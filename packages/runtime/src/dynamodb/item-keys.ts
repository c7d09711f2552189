/**
 * What the DynamoDB store needs to know of an entity's items: their keys and identity, which attributes it may write,
 * and how two items or values compare.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { keyTemplatePlaceholders } from "@ferry/contract";
import type { EntityCodec, EntityValue, Item } from "../codec/index.ts";
import type { Condition } from "../condition.ts";
import { StoreError } from "../errors.ts";

/** The primary-key attributes of an item (StoreError when one is missing). */
export function primaryKey(codec: EntityCodec, item: Item): Item {
  const key: Item = {};
  for (const name of [codec.keyNames.partition, codec.keyNames.sort]) {
    if (name === undefined) continue;
    const value = item[name];
    if (value === undefined) throw new StoreError("dynamodb", codec.name, `the item has no key attribute '${name}'`);
    key[name] = value;
  }
  return key;
}

/** The attributes a key template reads (none for an absent template). */
export function placeholdersOf(template: string | undefined): string[] {
  return template === undefined ? [] : keyTemplatePlaceholders(template);
}

/** The attributes the primary key is made of, with their values (for error messages). */
export function keyValues(codec: EntityCodec, value: EntityValue): EntityValue {
  const key: EntityValue = {};
  for (const name of codec.identity) if (value[name] !== undefined) key[name] = value[name];
  return key;
}

/** False when the key names an identity attribute the key templates leave out (MySQL's id) with another value. */
export function identityMatches(codec: EntityCodec, value: EntityValue, key: EntityValue): boolean {
  return codec.checkedIdentity.every((attribute) => {
    const given = key[attribute];
    if (given === undefined) return true;
    const normalize = (v: unknown) => codec.attribute(attribute).normalize(v);
    return normalize(given) === normalize(value[attribute]);
  });
}

/** The identity attributes the key templates leave out, as conditions on the stored item. */
export function identityConditions(codec: EntityCodec, key: EntityValue): Condition[] {
  return codec.checkedIdentity
    .filter((attribute) => key[attribute] !== undefined && key[attribute] !== null)
    .map((attribute) => ({ attribute, op: "=", value: key[attribute] }));
}

/** Attributes that appear in a key or index key template. */
export function keyedAttributes(codec: EntityCodec): Set<string> {
  const templates = [codec.definition.key, ...Object.values(codec.definition.indexes ?? {})];
  return new Set(templates.flatMap((t) => [t.partition, t.sort].flatMap(placeholdersOf)));
}

/** The item attributes an update may set or remove: attributes, copies and index keys (never the primary key). */
export function writableAttributes(codec: EntityCodec): string[] {
  const names = [...codec.attributes, ...codec.copies].map((attribute) => attribute.name);
  for (const index of Object.keys(codec.definition.indexes ?? {})) {
    const keyNames = codec.indexKeyNames(index);
    names.push(keyNames.partition);
    if (keyNames.sort !== undefined) names.push(keyNames.sort);
  }
  return [...new Set(names)];
}

/** The value restricted to `names` (absent ones as undefined). */
export function pick(value: EntityValue, names: readonly string[]): EntityValue {
  const picked: EntityValue = {};
  for (const name of names) picked[name] = value[name];
  return picked;
}

/** Whether an attribute differs between two values, as the codec normalises it for comparison. */
export function changed(codec: EntityCodec, name: string, before: EntityValue, next: EntityValue): boolean {
  const attribute = codec.attribute(name);
  return attribute.normalize(before[name]) !== attribute.normalize(next[name]);
}

/** Two items with the same attributes and values (what a key or a marker is made of). */
export function sameItem(a: Item, b: Item): boolean {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const name of names) {
    const x = a[name];
    const y = b[name];
    if (x === undefined || y === undefined || !sameValue(x, y)) return false;
  }
  return true;
}

/** Two DynamoDB attribute values that are the same (binary compared by its bytes). */
export function sameValue(a: AttributeValue, b: AttributeValue): boolean {
  return stable(a) === stable(b);
}
function stable(value: AttributeValue): string {
  return JSON.stringify(value, (_key, given: unknown) =>
    given instanceof Uint8Array ? Buffer.from(given).toString("base64") : given,
  );
}
