/**
 * @ferry/contract: the migration contract's model: its JSON Schema, loading and validation (yaml + ajv)
 * with file:line:column errors, and a writer that keeps comments and key order. See docs/architecture.md, "The contract".
 */

export { identityAttributes, primaryKeyAttributes } from "./entity-keys.ts";
export {
  ContractError,
  ContractFileError,
  type ContractIssue,
  type ContractPath,
  type ContractProblem,
  formatContractErrors,
  formatPath,
} from "./issues.ts";
export {
  formatKeyTemplate,
  KeyTemplateError,
  type KeyTemplatePart,
  keyTemplatePlaceholders,
  parseKeyTemplate,
  templatesCanCollide,
} from "./key-template.ts";
export {
  type ContractLoadResult,
  loadContract,
  loadValidContract,
  parseContract,
  validateContract,
} from "./load.ts";
export type { Loose } from "./loose.ts";
export * from "./model.ts";
export { contractReference } from "./reference.ts";
export { checkContractRules } from "./rules.ts";
export { CONTRACT_SCHEMA_PATH, checkSchema, contractSchema, type JsonSchema, type SchemaCheck } from "./schema.ts";
export {
  allowedAttributeTypes,
  BINARY_TYPES,
  defaultAttributeType,
  FRACTIONAL_SECOND_TYPES,
  GEOMETRY_TYPES,
  INTEGER_TYPES,
  isKnownSqlType,
  parseSqlType,
  type SqlType,
  TEXT_TYPES,
} from "./sql-types.ts";
export { closestName, didYouMean, editDistance } from "./suggest.ts";
export {
  CONDITION_OPERATORS,
  type ConditionOperator,
  isConditionOperator,
  parseCondition,
  parseStepValue,
  STEP_OPERATIONS,
  type StepCondition,
  type StepOperand,
  type StepOperation,
  StepSyntaxError,
  stepOperation,
} from "./transaction-steps.ts";
export {
  applyToDocument,
  type ContractComment,
  type CreateContractOptions,
  createContractDocument,
  stringifyContract,
} from "./writer.ts";

/** Where teams keep their contracts, relative to the repository root. */
export const CONTRACT_DIR = "contract";
