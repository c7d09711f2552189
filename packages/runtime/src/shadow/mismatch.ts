/**
 * What a shadow comparison found, as a field-level diff in the codec's normalised form (docs/architecture.md,
 * "Reads and shadow reads"), and where it goes (a MismatchSink, e.g. the MismatchLog in the control table).
 */
import { type Codec, concealKept, type EntityCodec, HIDDEN } from "../codec/index.ts";
import type { StoreName } from "../phases.ts";

/** One field whose normalised values differ between the served and the shadow read. */
export interface MismatchField {
  /** An attribute (or denormalised copy) name, or ITEM_FIELD when the item exists on one side only. */
  field: string;
  /** The served value, normalised (null: SQL NULL, or the item is absent). */
  served: string | null;
  /** The shadow value, normalised. */
  shadow: string | null;
}

/** One read whose served and shadow results differ. */
export interface Mismatch {
  /** A random UUID. */
  id: string;
  /** ISO-8601, when the comparison was made. */
  at: string;
  entity: string;
  /** The item's identity (or, for a read by key that found nothing on one side, the key read), normalised. */
  key: Record<string, string | null>;
  /** The store whose result was served (the authoritative one). */
  servedBy: StoreName;
  /** The store read in the shadow. */
  shadowFrom: StoreName;
  /** The request's correlation id. */
  correlationId: string;
  /** The fields that differ, in contract order. */
  fields: MismatchField[];
}

/** Receives mismatches. record() must return at once and never throw; flush() writes out what it holds. */
export interface MismatchSink {
  record(mismatch: Mismatch): void;
  flush?(): Promise<void>;
}

/** The `field` of a mismatch where one side has the item and the other has not; the present side shows it whole. */
export const ITEM_FIELD = "(item)";

/** Longest normalised value kept in a mismatch; longer ones are cut, saying how much was left out. */
export const MAX_VALUE_CHARS = 1024;

/** The fields that differ between a served and a shadow value (absent: undefined or null); empty when they agree. */
export function diffValues(
  codec: EntityCodec<object>,
  served: object | null | undefined,
  shadow: object | null | undefined,
): MismatchField[] {
  if (served == null && shadow == null) return [];
  if (served == null || shadow == null) {
    return [
      {
        field: ITEM_FIELD,
        served: served == null ? null : clip(JSON.stringify(codec.shownNormalized(codec.normalize(served)))),
        shadow: shadow == null ? null : clip(JSON.stringify(codec.shownNormalized(codec.normalize(shadow)))),
      },
    ];
  }
  // The codec compares denormalised copies only when both sides have them (MySQL rows have none). Sensitive
  // attributes' values are kept only as tags (the mismatch log is shown in the console).
  return codec
    .shownDiff(codec.diff(served, shadow))
    .map(({ field, left, right }) => ({ field, served: clip(left), shadow: clip(right) }));
}

/** An item's identity attributes, normalised (how the two sides' items of a listing are matched). */
export function identityOf(codec: EntityCodec<object>, value: object): Record<string, string | null> {
  const values = value as Record<string, unknown>;
  return Object.fromEntries(
    codec.identity.map((attribute) => [attribute, codec.attribute(attribute).normalize(values[attribute])]),
  );
}

/** A key as given to a read, normalised attribute by attribute (names the codec does not know: as text). */
export function normalizeKey(codec: EntityCodec<object>, key: object): Record<string, string | null> {
  const normalized: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(key)) {
    if (value === undefined) continue;
    let text: string | null;
    try {
      text = codec.attribute(name).normalize(value);
    } catch {
      text = value === null ? null : String(value);
    }
    normalized[name] = text === null ? null : clip(text);
  }
  return normalized;
}

function clip(value: string | null): string | null {
  if (value === null || value.length <= MAX_VALUE_CHARS) return value;
  return `${value.slice(0, MAX_VALUE_CHARS)}… (${value.length - MAX_VALUE_CHARS} more characters)`;
}

/**
 * A mismatch as it may be shown by the current contract: kept before an attribute was marked sensitive, its values
 * show as tags now too (a whole item's JSON too; one cut short, which cannot be read back, as `hidden` whole).
 */
export function shownMismatch(codec: Codec, mismatch: Mismatch): Mismatch {
  if (!codec.entities.includes(mismatch.entity)) return mismatch;
  const entity = codec.entity(mismatch.entity);
  const sensitive = entity.attributes.filter((attribute) => attribute.sensitive).map((attribute) => attribute.name);
  if (sensitive.length === 0) return mismatch;
  const scope = (field: string) => `${mismatch.entity}.${field}`;
  const item = (text: string | null): string | null => {
    if (text === null) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return HIDDEN;
    }
    if (parsed === null || typeof parsed !== "object") return HIDDEN;
    const values = parsed as Record<string, unknown>;
    for (const field of sensitive) {
      const value = values[field];
      if (typeof value === "string") values[field] = concealKept(value, scope(field));
    }
    return JSON.stringify(values);
  };
  return {
    ...mismatch,
    fields: mismatch.fields.map((field) =>
      field.field === ITEM_FIELD
        ? { ...field, served: item(field.served), shadow: item(field.shadow) }
        : sensitive.includes(field.field)
          ? {
              ...field,
              served: concealKept(field.served, scope(field.field)),
              shadow: concealKept(field.shadow, scope(field.field)),
            }
          : field,
    ),
  };
}
