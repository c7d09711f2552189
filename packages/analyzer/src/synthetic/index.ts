/**
 * @ferry/analyzer/synthetic: made-up inputs for the analyzer at any size, deterministic from a seed: a MySQL schema
 * and a MariaDB general query log. The benchmarks (bench/analyze.ts, bench/codegen.ts) and the analyzer's tests use
 * them; nothing in the analyzer itself does.
 */

export { type SyntheticLogOptions, writeSyntheticGeneralLog } from "./general-log.ts";
export { createSyntheticSchema, type SyntheticSchema } from "./schema.ts";
