/**
 * The contract's DynamoDB tables as files written next to generated code: the CreateTable inputs as JSON and a
 * CloudFormation template. Both start from the runtime's table definitions, which `ferry tables apply` creates.
 */
export {
  type CloudFormationOptions,
  type CloudFormationTemplate,
  cloudFormationTemplate,
  cloudFormationTemplateJson,
  logicalResourceIds,
  TABLE_PREFIX_PARAMETER,
} from "./cloudformation.ts";
export { tableDefinitionsJson } from "./json.ts";
