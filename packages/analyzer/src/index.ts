/**
 * @ferry/analyzer: live MySQL (schema facts + observed query workload) -> a draft contract.
 * Nothing downstream reads MySQL's schema again; the contract carries what they need.
 */
export const ANALYZER_SOURCES = ["information_schema", "general_log", "performance_schema"] as const;
