/**
 * @ferry/contract: the migration contract's model: its JSON Schema, loading and validation (yaml + ajv)
 * with file:line:column errors, and a writer that keeps comments and key order. See DESIGN.md, "The contract".
 */

export * from "./model.ts";

/** Where teams keep their contracts, relative to the repository root. */
export const CONTRACT_DIR = "contract";
