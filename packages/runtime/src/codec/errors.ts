/** The codec's one error type: which entity and attribute, which value, and what is wrong with it. */

/** A value that does not fit its attribute (or a key, an index, an entity that does not exist). */
export class CodecError extends Error {
  override readonly name = "CodecError";
  /** The entity the value belongs to. */
  readonly entity: string;
  /** The attribute (or key template, or index) at fault, when there is one. */
  readonly attribute: string | undefined;
  /** The offending value, as it was given. */
  readonly value: unknown;

  constructor(
    entity: string,
    attribute: string | undefined,
    message: string,
    options: { value?: unknown; cause?: unknown } = {},
  ) {
    const where = attribute === undefined ? entity : `${entity}.${attribute}`;
    const got = "value" in options ? `, got ${describeValue(options.value)}` : "";
    super(`${where}: ${message}${got}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.entity = entity;
    this.attribute = attribute;
    this.value = options.value;
  }
}

/** What a CodecError holds, and says, instead of a sensitive attribute's value (the contract's `sensitive`). */
export const HIDDEN_VALUE: unique symbol = Symbol("a hidden value");

/** A short, unambiguous rendering of any value for an error message: `"10.5" (string)`, `10.5 (number)`, `7n`. */
export function describeValue(value: unknown): string {
  if (value === HIDDEN_VALUE) return "a hidden value (the attribute is sensitive)";
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  switch (typeof value) {
    case "string": {
      const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
      return `${JSON.stringify(shown)} (string)`;
    }
    case "number":
      return `${String(value)} (number)`;
    case "bigint":
      return `${value}n (bigint)`;
    case "boolean":
      return `${value} (boolean)`;
    case "object": {
      if (value instanceof Uint8Array) return `${value.constructor.name}(${value.byteLength} bytes)`;
      if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? "invalid" : value.toISOString()})`;
      if (Array.isArray(value)) return `an array of ${value.length}`;
      const name = Object.getPrototypeOf(value)?.constructor?.name;
      return name && name !== "Object" ? `a ${name}` : "an object";
    }
    default:
      return `a ${typeof value}`;
  }
}
