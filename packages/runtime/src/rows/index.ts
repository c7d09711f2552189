/** Rows read from MySQL in bulk (backfill, validation). */
export { keyId, type RowRead, SourceRows } from "./source-rows.ts";
