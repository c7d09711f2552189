/**
 * @ferry/contract: the migration contract's model: its JSON Schema, loading and validation (yaml + ajv)
 * with file:line:column errors, and a writer that keeps comments and key order. See DESIGN.md, "The contract".
 */

/** The contract format version this package reads and writes. */
export const CONTRACT_VERSION = 1;

/** Where teams keep their contracts, relative to the repository root. */
export const CONTRACT_DIR = "contract";
