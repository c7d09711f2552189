/**
 * The contract's DynamoDB tables: their CreateTable inputs, the JSON written next to generated code, a
 * CloudFormation template, and `applyTables`, which makes DynamoDB match (additively) and reports drift.
 */
export {
  type ApplyOptions,
  type ApplyProgress,
  type ApplyReport,
  applyTables,
  planTables,
  type TableOptions,
} from "./apply.ts";
export { tablesClient } from "./client.ts";
export {
  type CloudFormationOptions,
  type CloudFormationTemplate,
  cloudFormationTemplate,
  cloudFormationTemplateJson,
  logicalResourceIds,
  TABLE_PREFIX_PARAMETER,
} from "./cloudformation.ts";
export {
  contractTables,
  createTableInput,
  createTableInputs,
  DEFAULT_BILLING_MODE,
  DEFAULT_PROJECTION,
  DEFAULT_PROVISIONED_THROUGHPUT,
  physicalTableName,
  type TableNaming,
  tableDefinitionsJson,
} from "./definitions.ts";
export { describedBillingMode, describeKeySchema, planTable, type TablePlan } from "./plan.ts";
export { dynamoDbLocation, dynamoDbProblem } from "./problems.ts";
