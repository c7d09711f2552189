/**
 * Checks of the errors the stores raise (src/errors.ts), whole: their class and every field, the message included.
 */
import { expect } from "vitest";
import type { EntityValue } from "../src/codec/index.ts";
import type { StoreName } from "../src/phases.ts";

/** The error `promise` rejects with (failing the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected the call to fail, and it succeeded");
    },
    (error: unknown) => error,
  );
}

/** `error` is a `type` and has exactly these values in these fields. */
export function expectError(
  error: unknown,
  type: abstract new (...args: never[]) => Error,
  fields: object,
  what?: string,
): void {
  expect(error, what).toBeInstanceOf(type);
  expect(error, what).toMatchObject(fields);
}

/** How an error shows key or attribute values: `{ id=7, userId=3 }`. */
function shown(values: EntityValue): string {
  return `{ ${Object.entries(values)
    .map(([name, value]) => `${name}=${String(value)}`)
    .join(", ")} }`;
}

/** The fields of a UniqueViolation of `entity`'s `rule`, for the `values` the write gave. */
export function uniqueViolation(store: StoreName, entity: string, rule: string, values: EntityValue) {
  return {
    store,
    entity,
    rule,
    values,
    message: `${entity}: unique rule '${rule}' is violated: ${shown(values)} is taken by another item`,
  };
}

/** The fields of an AlreadyExists, NotFound or ConditionFailed of the item with `key`. */
export function keyed(kind: "exists" | "missing" | "condition", store: StoreName, entity: string, key: EntityValue) {
  const problem = {
    exists: `an item with key ${shown(key)} already exists`,
    missing: `there is no item with key ${shown(key)}`,
    condition: `the condition on the item with key ${shown(key)} does not hold; nothing was written`,
  }[kind];
  return { store, entity, key, message: `${entity}: ${problem}` };
}
