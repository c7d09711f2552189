/** What a store operation reports when the data, not the code, says no (DESIGN.md, "Write and read semantics"). */

/** A write would break a UNIQUE key (or the primary key): MySQL errno 1062. */
export class MysqlUniqueViolation extends Error {
  override readonly name = "UniqueViolation";
  constructor(
    readonly entity: string,
    /** The unique key's name as the server reports it ("PRIMARY" for the primary key). */
    readonly key: string,
    /** The entity values of the key's attributes, as the write gave them. */
    readonly values: Record<string, unknown>,
    options: { cause?: unknown } = {},
  ) {
    super(`${entity}: the value breaks unique key '${key}'`, options);
  }
}

/** A conditional write found its row but the condition did not hold. */
export class MysqlConditionFailed extends Error {
  override readonly name = "ConditionFailed";
  constructor(
    readonly entity: string,
    readonly key: Record<string, unknown>,
  ) {
    super(`${entity}: the write's condition does not hold`);
  }
}

/** A write by key found no row. */
export class MysqlNotFound extends Error {
  override readonly name = "NotFound";
  constructor(
    readonly entity: string,
    readonly key: Record<string, unknown>,
  ) {
    super(`${entity}: no row has this key`);
  }
}

/** A listing cursor that does not belong to this listing (another store, entity, filter or order), or is damaged. */
export class MysqlCursorError extends Error {
  override readonly name = "CursorError";
  constructor(reason: string) {
    super(`${reason}: restart the listing`);
  }
}
