/**
 * The errors both entity stores report when the data, not the code, says no (docs/architecture.md, "Errors"):
 * one class per failure whichever store raised it, so repositories and dual write catch one type. `store` says which.
 */

import type { StoreName } from "./phases.ts";

/**
 * An error meant for a person: a message, and a hint saying what to do about it (the CLI prints both, never a stack
 * trace). The phase store's and the tables' errors are ones.
 */
export class ErrorWithHint extends Error {
  /** What to do about it, shown under the message. */
  readonly hint: string | undefined;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
  }
}

/** Key or attribute values as an error carries them (entity values). */
export type ErrorValues = Readonly<Record<string, unknown>>;

/** The base of every store error: which store, which entity, and a message that says what happened. */
export class StoreError extends Error {
  override readonly name: string = "StoreError";
  constructor(
    readonly store: StoreName,
    readonly entity: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${entity}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** A create whose primary key is taken by an existing item or row. */
export class AlreadyExists extends StoreError {
  override readonly name = "AlreadyExists";
  constructor(
    store: StoreName,
    entity: string,
    readonly key: ErrorValues,
    options: { cause?: unknown } = {},
  ) {
    super(store, entity, `an item with key ${show(key)} already exists`, options);
  }
}

/** A write that would give two items the same values of a `unique` rule (on MySQL: a UNIQUE key of that name). */
export class UniqueViolation extends StoreError {
  override readonly name = "UniqueViolation";
  constructor(
    store: StoreName,
    entity: string,
    /** The unique rule's name (the MySQL unique key's name). */
    readonly rule: string,
    /** The entity values of the rule's attributes, as the write gave them. */
    readonly values: ErrorValues,
    options: { cause?: unknown } = {},
  ) {
    super(store, entity, `unique rule '${rule}' is violated: ${show(values)} is taken by another item`, options);
  }
}

/** A conditional write found its item but the condition (or the item's expected state) did not hold; nothing was written. */
export class ConditionFailed extends StoreError {
  override readonly name = "ConditionFailed";
  constructor(
    store: StoreName,
    entity: string,
    readonly key: ErrorValues,
    options: { cause?: unknown } = {},
  ) {
    super(store, entity, `the condition on the item with key ${show(key)} does not hold; nothing was written`, options);
  }
}

/** A write by key found no item. */
export class NotFound extends StoreError {
  override readonly name = "NotFound";
  constructor(
    store: StoreName,
    entity: string,
    readonly key: ErrorValues,
  ) {
    super(store, entity, `there is no item with key ${show(key)}`);
  }
}

/** A listing cursor that is malformed or belongs to another listing (store, entity, index, filter or order). */
export class CursorError extends StoreError {
  override readonly name = "CursorError";
  constructor(store: StoreName, entity: string, problem: string) {
    super(store, entity, `the cursor ${problem}; restart the listing`);
  }
}

/** A write that changed under it more often than the store retries. */
export class WriteConflict extends StoreError {
  override readonly name = "WriteConflict";
  constructor(
    store: StoreName,
    entity: string,
    readonly key: ErrorValues,
    options: { cause?: unknown } = {},
  ) {
    super(store, entity, `the item with key ${show(key)} kept changing during the write; try again`, options);
  }
}

/**
 * A contract transaction that wrote nothing because one of its steps failed: `step` (1-based, as the contract lists
 * them) and, for a forEach step, `element` (0-based index into the input list) say which write, `reason` why
 * (ConditionFailed, NotFound, AlreadyExists, UniqueViolation). The same on both stores.
 */
export class TransactionFailed extends StoreError {
  override readonly name = "TransactionFailed";
  constructor(
    store: StoreName,
    readonly transaction: string,
    readonly step: number,
    readonly element: number | undefined,
    readonly reason: StoreError,
  ) {
    super(
      store,
      reason.entity,
      `transaction '${transaction}' wrote nothing: step ${step}${element === undefined ? "" : ` (element ${element})`} failed: ${reason.message.slice(reason.entity.length + 2)}`,
      { cause: reason },
    );
  }
}

/** A transaction refused before anything was written on either store: malformed input, or too big for DynamoDB. */
export class TransactionRefused extends Error {
  override readonly name = "TransactionRefused";
  constructor(
    readonly transaction: string,
    message: string,
  ) {
    super(`transaction '${transaction}' refused, nothing was written: ${message}`);
  }
}

function show(value: ErrorValues): string {
  const parts = Object.entries(value).map(([name, given]) => `${name}=${String(given)}`);
  return `{ ${parts.join(", ")} }`;
}

/**
 * A write refused by its phase source (CachedPhase.beginWrite): the process lost touch with the control table (it has
 * not read the phase or written its heartbeat for longer than the fleet's stale limit, so a move may have passed it
 * by), or it was stopped. Reads go on; writes resume once a refresh and a heartbeat succeed again.
 */
export class WritesSuspended extends ErrorWithHint {
  override readonly name = "WritesSuspended";
  constructor(
    message: string,
    /** ISO-8601: since when the process has been out of touch (the last time its phase read and heartbeat succeeded). */
    readonly since: string | undefined,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(message, options);
  }
}
