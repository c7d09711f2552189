/**
 * Building DynamoDB expressions: placeholders for attribute names and values, the caller's conditions, and the
 * version check every conditional write of a stored item carries.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { isConditionOperator } from "@ferry/contract";
import type { EntityCodec, Item } from "../codec/index.ts";
import { numberText, parseDecimal, plainDecimal } from "../codec/numbers.ts";
import type { Condition } from "../condition.ts";
import { StoreError } from "../errors.ts";

/** The numeric attribute every write increments, which conditional writes rely on. */
export const VERSION_ATTRIBUTE = "__version";

/** Expression attribute names and values for one request: only those it uses (DynamoDB rejects the others). */
export class Expression {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttributeValue> = {};
  private count = 0;
  private readonly byName = new Map<string, string>();

  name(attribute: string): string {
    let placeholder = this.byName.get(attribute);
    if (!placeholder) {
      placeholder = `#n${this.byName.size}`;
      this.byName.set(attribute, placeholder);
      this.names[placeholder] = attribute;
    }
    return placeholder;
  }

  value(value: AttributeValue): string {
    const placeholder = `:v${this.count++}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  /** The names and values, for a request (an empty values map is left out: DynamoDB rejects it). */
  get attributes(): {
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, AttributeValue>;
  } {
    const out: {
      ExpressionAttributeNames?: Record<string, string>;
      ExpressionAttributeValues?: Record<string, AttributeValue>;
    } = {};
    if (this.byName.size > 0) out.ExpressionAttributeNames = this.names;
    if (this.count > 0) out.ExpressionAttributeValues = this.values;
    return out;
  }
}

/** The item is still at the version it was read at (or, never versioned, still unversioned). */
export function versionCondition(expression: Expression, current: Item): string {
  const stored = current[VERSION_ATTRIBUTE]?.N;
  const name = expression.name(VERSION_ATTRIBUTE);
  return stored === undefined ? `attribute_not_exists(${name})` : `${name} = ${expression.value({ N: stored })}`;
}

/** The caller's conditions on the stored item, each as `#name op :value`. */
export function conditionExpressions(
  codec: EntityCodec,
  expression: Expression,
  conditions: readonly Condition[],
): string[] {
  return conditions.map(({ attribute, op, value }) => {
    if (!isConditionOperator(op))
      throw new StoreError("dynamodb", codec.name, `'${String(op)}' is not a condition operator`);
    const converted = codec.attribute(attribute).toAttribute(value);
    if (converted === undefined) {
      throw new StoreError(
        "dynamodb",
        codec.name,
        `a condition on '${attribute}' needs a value (null is not comparable)`,
      );
    }
    return `${expression.name(attribute)} ${op} ${expression.value(converted)}`;
  });
}

/** The item exists and every condition holds on it. */
export function existsAnd(codec: EntityCodec, expression: Expression, conditions: readonly Condition[]): string {
  const checks = [`attribute_exists(${expression.name(codec.keyNames.partition)})`];
  checks.push(...conditionExpressions(codec, expression, conditions));
  return checks.join(" AND ");
}

/**
 * An amount to ADD as DynamoDB number text (plain digits, exact): a finite number, a bigint or a decimal string;
 * undefined for anything else.
 */
export function incrementAmount(delta: number | bigint | string): string | undefined {
  if (typeof delta === "bigint") return String(delta);
  if (typeof delta === "number") return Number.isFinite(delta) ? numberText(delta) : undefined;
  const parts = parseDecimal(delta);
  return parts === undefined ? undefined : plainDecimal(parts);
}

/** `SET <version> = <version or 0> + 1`, the part of an update expression every write carries. */
export function bumpVersion(expression: Expression): string {
  const version = expression.name(VERSION_ATTRIBUTE);
  return `${version} = if_not_exists(${version}, ${expression.value({ N: "0" })}) + ${expression.value({ N: "1" })}`;
}

/** What an update of a stored item changes: attributes set (to converted values), removed, and amounts added. */
export interface ItemChanges {
  set: ReadonlyArray<readonly [string, AttributeValue]>;
  remove: readonly string[];
  add: ReadonlyArray<readonly [string, string]>;
}

/**
 * The expressions of an update of a stored item: the changes plus the version bump, on condition that the item
 * exists and the caller's conditions hold on it.
 */
export function updateExpressions(
  codec: EntityCodec,
  changes: ItemChanges,
  conditions: readonly Condition[],
): {
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
} {
  const expression = new Expression();
  const sets = changes.set.map(([name, value]) => `${expression.name(name)} = ${expression.value(value)}`);
  sets.push(bumpVersion(expression));
  let update = `SET ${sets.join(", ")}`;
  if (changes.remove.length > 0) update += ` REMOVE ${changes.remove.map((name) => expression.name(name)).join(", ")}`;
  if (changes.add.length > 0) {
    const adds = changes.add.map(([name, amount]) => `${expression.name(name)} ${expression.value({ N: amount })}`);
    update += ` ADD ${adds.join(", ")}`;
  }
  return {
    UpdateExpression: update,
    ConditionExpression: existsAnd(codec, expression, conditions),
    ...expression.attributes,
  };
}
