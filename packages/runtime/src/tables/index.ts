/**
 * The contract's DynamoDB tables: their CreateTable inputs (the one definition), what apply would change, and
 * applyTables, which makes DynamoDB match (additively) and reports drift.
 */
export {
  type ApplyOptions,
  type ApplyProgress,
  type ApplyReport,
  applyTables,
  planTables,
  type TableOptions,
} from "./apply.ts";
export {
  contractTables,
  createTableInput,
  createTableInputs,
  DEFAULT_BILLING_MODE,
  DEFAULT_PROJECTION,
  DEFAULT_PROVISIONED_THROUGHPUT,
  physicalTableName,
  type TableNaming,
  tableNames,
} from "./definitions.ts";
export { describedBillingMode, describeKeySchema, planTable, type TablePlan } from "./plan.ts";
export { DynamoDbProblem, dynamoDbLocation, dynamoDbProblem } from "./problems.ts";
