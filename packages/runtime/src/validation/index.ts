/** Validation and repair: both stores compared row by row and item by item, and the differences made to go away. */
export { EntityComparison } from "./compare.ts";
export {
  attributeJson,
  InspectError,
  type InspectedItem,
  type InspectedJson,
  type InspectedKeyAttribute,
  inspectRecord,
  type MarkerInspection,
  type Presence,
  type RecordInspection,
} from "./inspect.ts";
export { type RepairOptions, type RepairOutcome, repair, repairTarget } from "./repair.ts";
export {
  type Difference,
  type DifferenceKind,
  type EntityReport,
  type FieldDifference,
  getValidationReport,
  listValidationReports,
  type RepairSummary,
  shownReport,
  storeValidationReport,
  type Unclaimed,
  VALIDATION_REPORTS,
  type ValidationReport,
} from "./report.ts";
export {
  checkValidateOptions,
  DEFAULT_PARALLEL,
  DEFAULT_RECHECK_MS,
  scanSegments,
  type ValidateOptions,
  ValidationError,
  type ValidationOutcome,
  type ValidationProgress,
  type ValidationServices,
  validate,
  validateKeys,
} from "./validate.ts";
