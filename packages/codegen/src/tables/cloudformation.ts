/**
 * The contract's tables as a CloudFormation template (JSON), for teams that deploy with
 * `aws cloudformation deploy --template-file tables.json --stack-name ... --parameter-overrides TablePrefix=prod_`
 * instead of `ferry tables apply`. Built from the same CreateTable inputs, so both make the same tables.
 */
import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import type { Contract } from "@ferry/contract";
import { createTableInputs, tableNames } from "@ferry/runtime";
import { generatedNotice } from "../notice.ts";

export const TABLE_PREFIX_PARAMETER = "TablePrefix";

/** `{"Fn::Sub": "..."}`, `{"Ref": "..."}`, `{"Fn::GetAtt": [...]}`: CloudFormation's intrinsic functions we use. */
export type Intrinsic = { "Fn::Sub": string } | { Ref: string } | { "Fn::GetAtt": [string, string] };

export interface CloudFormationKeySchemaElement {
  AttributeName: string;
  KeyType: "HASH" | "RANGE";
}

export interface CloudFormationThroughput {
  ReadCapacityUnits: number;
  WriteCapacityUnits: number;
}

export interface CloudFormationGlobalSecondaryIndex {
  IndexName: string;
  KeySchema: CloudFormationKeySchemaElement[];
  Projection: { ProjectionType: "ALL" | "KEYS_ONLY" };
  ProvisionedThroughput?: CloudFormationThroughput;
}

/** The AWS::DynamoDB::Table properties ferry sets (names as documented for the resource). */
export interface CloudFormationTableProperties {
  TableName: Intrinsic;
  AttributeDefinitions: Array<{ AttributeName: string; AttributeType: "S" }>;
  KeySchema: CloudFormationKeySchemaElement[];
  BillingMode: "PAY_PER_REQUEST" | "PROVISIONED";
  ProvisionedThroughput?: CloudFormationThroughput;
  GlobalSecondaryIndexes?: CloudFormationGlobalSecondaryIndex[];
  PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true };
}

export interface CloudFormationTableResource {
  Type: "AWS::DynamoDB::Table";
  /** Tables hold the migrated data: deleting the stack or replacing a table keeps them. */
  DeletionPolicy: "Retain";
  UpdateReplacePolicy: "Retain";
  /** The previous table: DynamoDB limits how many tables with indexes may be CREATING at once. */
  DependsOn?: string;
  Properties: CloudFormationTableProperties;
}

export interface CloudFormationOutput {
  Description: string;
  Value: Intrinsic;
  Export: { Name: Intrinsic };
}

export interface CloudFormationTemplate {
  AWSTemplateFormatVersion: "2010-09-09";
  Description: string;
  Parameters: {
    TablePrefix: { Type: "String"; Default: string; Description: string; AllowedPattern: string };
  };
  Resources: Record<string, CloudFormationTableResource>;
  Outputs: Record<string, CloudFormationOutput>;
}

/**
 * The template: a `TablePrefix` parameter (default `prefix`, else ""), one AWS::DynamoDB::Table per contract
 * table named `${TablePrefix}<logical name>`, with point-in-time recovery on, and the tables' names and ARNs as
 * outputs (exported as `<stack>-<Resource>Name` / `-Arn`).
 */
export interface CloudFormationOptions {
  /** The default of the TablePrefix parameter. */
  prefix?: string;
  /** The contract file, as the notice in the description names it (default: the contract's name). */
  source?: string;
}

export function cloudFormationTemplate(
  contract: Pick<Contract, "name" | "tables">,
  options: CloudFormationOptions = {},
): CloudFormationTemplate {
  const names = tableNames(contract);
  const inputs = createTableInputs(contract, { prefix: "" });
  const resourceIds = logicalResourceIds(names);
  const resources: Record<string, CloudFormationTableResource> = {};
  const outputs: Record<string, CloudFormationOutput> = {};
  let previous: string | undefined;
  for (const [i, name] of names.entries()) {
    const input = inputs[i];
    const id = resourceIds[i];
    if (!input || !id) throw new Error(`table ${name} has no definition`);
    const resource: CloudFormationTableResource = {
      Type: "AWS::DynamoDB::Table",
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
      Properties: tableProperties(name, input),
    };
    if (previous !== undefined) resource.DependsOn = previous;
    resources[id] = resource;
    outputs[`${id}Name`] = {
      Description: `physical name of the contract table '${name}'`,
      Value: { Ref: id },
      Export: { Name: { "Fn::Sub": `\${AWS::StackName}-${id}Name` } },
    };
    outputs[`${id}Arn`] = {
      Description: `ARN of the contract table '${name}'`,
      Value: { "Fn::GetAtt": [id, "Arn"] },
      Export: { Name: { "Fn::Sub": `\${AWS::StackName}-${id}Arn` } },
    };
    previous = id;
  }
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: generatedNotice(options.source ?? `contract '${contract.name}'`),
    Parameters: {
      [TABLE_PREFIX_PARAMETER]: {
        Type: "String",
        Default: options.prefix ?? "",
        Description: "put before every table name (FERRY_TABLE_PREFIX), e.g. prod_",
        AllowedPattern: "[a-zA-Z0-9_.-]*",
      },
    },
    Resources: resources,
    Outputs: outputs,
  };
}

/** The template as JSON text: two-space indented with a final newline. */
export function cloudFormationTemplateJson(
  contract: Pick<Contract, "name" | "tables">,
  options: CloudFormationOptions = {},
): string {
  return `${JSON.stringify(cloudFormationTemplate(contract, options), null, 2)}\n`;
}

function tableProperties(logicalName: string, input: CreateTableCommandInput): CloudFormationTableProperties {
  const throughput = throughputOf(input.ProvisionedThroughput);
  const indexes = (input.GlobalSecondaryIndexes ?? []).map((gsi) => {
    const indexThroughput = throughputOf(gsi.ProvisionedThroughput);
    const index: CloudFormationGlobalSecondaryIndex = {
      IndexName: required(gsi.IndexName),
      KeySchema: keySchemaOf(gsi.KeySchema),
      Projection: { ProjectionType: gsi.Projection?.ProjectionType === "KEYS_ONLY" ? "KEYS_ONLY" : "ALL" },
      ...(indexThroughput ? { ProvisionedThroughput: indexThroughput } : {}),
    };
    return index;
  });
  return {
    TableName: { "Fn::Sub": `\${${TABLE_PREFIX_PARAMETER}}${logicalName}` },
    AttributeDefinitions: (input.AttributeDefinitions ?? []).map((definition) => ({
      AttributeName: required(definition.AttributeName),
      AttributeType: "S",
    })),
    KeySchema: keySchemaOf(input.KeySchema),
    BillingMode: input.BillingMode === "PROVISIONED" ? "PROVISIONED" : "PAY_PER_REQUEST",
    ...(throughput ? { ProvisionedThroughput: throughput } : {}),
    ...(indexes.length > 0 ? { GlobalSecondaryIndexes: indexes } : {}),
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
  };
}

function keySchemaOf(
  schema: ReadonlyArray<{ AttributeName?: string | undefined; KeyType?: string | undefined }> | undefined,
): CloudFormationKeySchemaElement[] {
  return (schema ?? []).map((element) => ({
    AttributeName: required(element.AttributeName),
    KeyType: element.KeyType === "RANGE" ? "RANGE" : "HASH",
  }));
}

function throughputOf(
  throughput: { ReadCapacityUnits?: number | undefined; WriteCapacityUnits?: number | undefined } | undefined,
): CloudFormationThroughput | undefined {
  if (throughput?.ReadCapacityUnits === undefined || throughput.WriteCapacityUnits === undefined) return undefined;
  return { ReadCapacityUnits: throughput.ReadCapacityUnits, WriteCapacityUnits: throughput.WriteCapacityUnits };
}

function required(value: string | undefined): string {
  if (value === undefined) throw new Error("a table definition lacks a name");
  return value;
}

/**
 * CloudFormation resource ids (alphanumeric) for logical table names: `main` -> `MainTable`,
 * `order-events` -> `OrderEventsTable`; names that would clash get a number.
 */
export function logicalResourceIds(names: readonly string[]): string[] {
  const used = new Set<string>();
  return names.map((name) => {
    const words = name.split(/[^a-zA-Z0-9]+/).filter(Boolean);
    const pascal = `${words.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join("")}Table`;
    const base = /^[a-zA-Z]/.test(pascal) ? pascal : `T${pascal}`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}${n}`;
    used.add(id);
    return id;
  });
}
