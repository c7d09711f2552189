/**
 * Unique-value markers: MySQL's UNIQUE keys kept on DynamoDB. Each `unique` rule of an entity has one marker item per
 * value, written, swapped and deleted in the same transaction as the item it belongs to, so a second item with the
 * same value is refused as MySQL refuses the row; except a rule the item's own key enforces (`enforcedByKey`).
 */
import { keyTemplatePlaceholders } from "@ferry/contract";
import type { EntityCodec, EntityValue, Item } from "../codec/index.ts";
import { StoreError } from "../errors.ts";
import type { Expression } from "./expression.ts";

export interface UniqueRule {
  name: string;
  attributes: readonly string[];
}

/** Every unique rule of the entity: MySQL's UNIQUE keys, with a marker or enforced by the item's own key. */
export function allUniqueRules(codec: EntityCodec): UniqueRule[] {
  return Object.entries(codec.definition.unique ?? {}).map(([name, rule]) => ({ name, attributes: rule.attributes }));
}

/**
 * The unique rules that have marker items: all but those the item's own key enforces (`enforcedByKey`). Everything
 * that writes, reads or checks markers goes by this list.
 */
export function uniqueRules(codec: EntityCodec): readonly UniqueRule[] {
  let rules = marked.get(codec);
  if (rules === undefined) {
    rules = allUniqueRules(codec).filter((rule) => !enforcedByKey(codec, rule));
    marked.set(codec, rules);
  }
  return rules;
}

/** uniqueRules by entity codec (every create, update and delete asks). */
const marked = new WeakMap<EntityCodec, readonly UniqueRule[]>();

/**
 * Whether the item's key is itself the rule's marker: the rule's attributes are exactly the key templates'
 * placeholders, and each template holds at most one, so two values tell apart as their keys do (each written as
 * keyText writes it, folded as a `_ci` collation compares, as markers are). Two items with the same values then have
 * the same key, and a create's `attribute_not_exists` refuses the second as the marker's would (cancellation.ts names
 * the rule, as MySQL does). A cart line keyed by its user and product needs no marker for its (user, product) rule.
 */
export function enforcedByKey(codec: EntityCodec, rule: UniqueRule): boolean {
  const templates = [codec.definition.key.partition, codec.definition.key.sort].flatMap((template) =>
    template === undefined ? [] : [keyTemplatePlaceholders(template)],
  );
  if (templates.some((placeholders) => placeholders.length > 1)) return false;
  const keyed = new Set(templates.flat());
  return rule.attributes.length === keyed.size && rule.attributes.every((name) => keyed.has(name));
}

/** The attributes of one of the entity's unique rules. */
export function uniqueRuleAttributes(codec: EntityCodec, rule: string): readonly string[] {
  const attributes = codec.definition.unique?.[rule]?.attributes;
  if (!attributes) throw new StoreError("dynamodb", codec.name, `has no unique rule '${rule}'`);
  return attributes;
}

/**
 * The key of a unique rule's marker item: partition (and sort) `UNIQUE#<Entity>#<rule>#<values>`, each value as
 * it is written in keys (folded as its `_ci` collation compares it: see foldForCollation), with `%` and `#` escaped
 * (%25, %23) so that values of several attributes cannot run together. Undefined when a value is null (NULLs do not
 * collide, as in MySQL).
 */
export function uniqueMarkerKey(codec: EntityCodec, rule: string, value: EntityValue): Item | undefined {
  const attributes = codec.definition.unique?.[rule]?.attributes;
  if (!attributes) throw new StoreError("dynamodb", codec.name, `has no unique rule '${rule}'`);
  const texts: string[] = [];
  for (const name of attributes) {
    const given = value[name];
    if (given === undefined || given === null) return undefined;
    texts.push(codec.attribute(name).keyText(given).replaceAll("%", "%25").replaceAll("#", "%23"));
  }
  const id = `UNIQUE#${codec.name}#${rule}#${texts.join("#")}`;
  const key: Item = { [codec.keyNames.partition]: { S: id } };
  if (codec.keyNames.sort !== undefined) key[codec.keyNames.sort] = { S: id };
  return key;
}

/** The marker item: its key and its owner's key (`owner<PK>`, `owner<SK>`). */
export function uniqueMarker(codec: EntityCodec, rule: string, value: EntityValue, owner: Item): Item | undefined {
  const key = uniqueMarkerKey(codec, rule, value);
  if (!key) return undefined;
  const marker: Item = { ...key };
  for (const [name, attribute] of Object.entries(owner)) marker[`owner${name}`] = attribute;
  return marker;
}

/** The marker is absent or belongs to `owner`. */
export function ownedBy(codec: EntityCodec, expression: Expression, owner: Item): string {
  const checks = Object.entries(owner).map(
    ([name, attribute]) => `${expression.name(`owner${name}`)} = ${expression.value(attribute)}`,
  );
  return `(attribute_not_exists(${expression.name(codec.keyNames.partition)}) OR (${checks.join(" AND ")}))`;
}
