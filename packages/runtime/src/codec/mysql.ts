/**
 * How mysql2 should hand rows to the codec. Its defaults parse JSON columns (losing integers beyond 2^53 and
 * making a top-level JSON string look like JSON text) and GEOMETRY columns (into {x, y} objects, dropping the
 * SRID); with this typeCast both arrive as they are stored, which is what fromRow reads exactly.
 */

/** The part of mysql2's typeCast field the codec uses (structurally compatible with mysql2's `TypeCast`). */
export interface TypeCastField {
  readonly type: string;
  /** MariaDB 10.5+ marks its JSON (LONGTEXT) columns "json" here. */
  readonly extendedFormat?: string | undefined;
  string(encoding?: string): string | null;
  buffer(): Buffer | null;
}

/**
 * mysql2 `typeCast` for queries whose rows go through `fromRow`: JSON as text, GEOMETRY as its stored bytes (SRID +
 * WKB), everything else as the connection's settings say. Pass it as `typeCast` on the connection or the query.
 */
export function mysqlTypeCast(field: TypeCastField, next: () => unknown): unknown {
  if (field.type === "JSON" || field.extendedFormat === "json") return field.string("utf8");
  if (field.type === "GEOMETRY") return field.buffer();
  return next();
}
