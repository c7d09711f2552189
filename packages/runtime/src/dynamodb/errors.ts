/** What DynamoEntityStore reports when a write or a listing cannot go ahead: values with a clear message. */

import type { EntityValue } from "../codec/index.ts";

/** The base of every store error: which entity, and a message that says what happened. */
export class DynamoStoreError extends Error {
  override readonly name: string = "DynamoStoreError";
  constructor(
    readonly entity: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${entity}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** A create whose primary key is taken by an existing item. */
export class DynamoAlreadyExists extends DynamoStoreError {
  override readonly name = "DynamoAlreadyExists";
  constructor(
    entity: string,
    readonly key: EntityValue,
    options: { cause?: unknown } = {},
  ) {
    super(entity, `an item with key ${show(key)} already exists`, options);
  }
}

/** A write that would give two items the same values of a `unique` rule. */
export class DynamoUniqueViolation extends DynamoStoreError {
  override readonly name = "DynamoUniqueViolation";
  constructor(
    entity: string,
    readonly rule: string,
    readonly values: EntityValue,
    options: { cause?: unknown } = {},
  ) {
    super(entity, `unique rule '${rule}' is violated: ${show(values)} is taken by another item`, options);
  }
}

/** An update whose condition (or the item's expected state) did not hold; nothing was written. */
export class DynamoConditionFailed extends DynamoStoreError {
  override readonly name = "DynamoConditionFailed";
  constructor(
    entity: string,
    readonly key: EntityValue,
    options: { cause?: unknown } = {},
  ) {
    super(entity, `the condition on the item with key ${show(key)} does not hold; nothing was written`, options);
  }
}

/** An update of an item that does not exist. */
export class DynamoItemNotFound extends DynamoStoreError {
  override readonly name = "DynamoItemNotFound";
  constructor(
    entity: string,
    readonly key: EntityValue,
  ) {
    super(entity, `there is no item with key ${show(key)}`);
  }
}

/** A listing cursor that is malformed or belongs to another listing. */
export class DynamoCursorError extends DynamoStoreError {
  override readonly name = "DynamoCursorError";
  constructor(entity: string, problem: string) {
    super(entity, `the cursor ${problem}; restart the listing`);
  }
}

/** A write that changed under it more often than the store retries. */
export class DynamoWriteConflict extends DynamoStoreError {
  override readonly name = "DynamoWriteConflict";
  constructor(
    entity: string,
    readonly key: EntityValue,
    options: { cause?: unknown } = {},
  ) {
    super(entity, `the item with key ${show(key)} kept changing during the write; try again`, options);
  }
}

function show(value: EntityValue): string {
  const parts = Object.entries(value).map(([name, given]) => `${name}=${String(given)}`);
  return `{ ${parts.join(", ")} }`;
}
