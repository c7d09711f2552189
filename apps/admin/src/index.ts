/**
 * @ferry/admin: the operator console (phases, audit log, backfill, validation, diffs, metrics).
 * Operator access never depends on the data being migrated.
 */
export const ADMIN_APP = "ferry-admin";
