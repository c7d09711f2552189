/**
 * The contract's DynamoDB tables as CreateTable inputs: the one place that turns `tables:` into key schemas,
 * attribute definitions, billing and indexes. `ferry tables apply`, the JSON written next to generated code and
 * the CloudFormation template all start from here.
 */
import type {
  AttributeDefinition,
  BillingMode,
  CreateTableCommandInput,
  GlobalSecondaryIndex,
  KeySchemaElement,
  ProvisionedThroughput,
} from "@aws-sdk/client-dynamodb";
import type { Contract, DynamoIndex, DynamoTable } from "@ferry/contract";
import { generatedNotice } from "../notice.ts";

/** Billing when the contract names none. */
export const DEFAULT_BILLING_MODE = "PAY_PER_REQUEST" satisfies BillingMode;

/**
 * Capacity for PROVISIONED tables and their indexes (the contract has no throughput of its own): the AWS
 * console's default, small enough for a trial and meant to be tuned (or auto-scaled) in AWS afterwards.
 */
export const DEFAULT_PROVISIONED_THROUGHPUT: Readonly<Required<ProvisionedThroughput>> = Object.freeze({
  ReadCapacityUnits: 5,
  WriteCapacityUnits: 5,
});

/** Which attributes an index holds when the contract does not say. */
export const DEFAULT_PROJECTION = "ALL";

export interface TableNaming {
  /** Put before every logical table name (FERRY_TABLE_PREFIX); "" for none. */
  prefix: string;
}

/** The physical name of a contract table: prefix + logical name. */
export function physicalTableName(logicalName: string, prefix: string): string {
  return `${prefix}${logicalName}`;
}

/** The contract's table names, sorted, so everything made from them comes out in the same order. */
export function tableNames(contract: Pick<Contract, "tables">): string[] {
  return Object.keys(contract.tables).sort(compareNames);
}

/** A table's index names, sorted. */
export function indexNames(table: DynamoTable): string[] {
  return Object.keys(table.indexes ?? {}).sort(compareNames);
}

/** Byte-wise order (not locale-dependent), as DynamoDB lists names. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A key schema: the partition key (HASH), then the sort key (RANGE) when there is one. */
export function keySchema(key: Pick<DynamoTable | DynamoIndex, "partitionKey" | "sortKey">): KeySchemaElement[] {
  const schema: KeySchemaElement[] = [{ AttributeName: key.partitionKey, KeyType: "HASH" }];
  if (key.sortKey !== undefined) schema.push({ AttributeName: key.sortKey, KeyType: "RANGE" });
  return schema;
}

/** Key attributes are strings built from key templates, so every definition is type S. */
export function attributeDefinitions(schemas: ReadonlyArray<readonly KeySchemaElement[]>): AttributeDefinition[] {
  const seen = new Set<string>();
  const definitions: AttributeDefinition[] = [];
  for (const element of schemas.flat()) {
    const name = element.AttributeName;
    if (name === undefined || seen.has(name)) continue;
    seen.add(name);
    definitions.push({ AttributeName: name, AttributeType: "S" });
  }
  return definitions;
}

export function billingModeOf(table: DynamoTable): BillingMode {
  return table.billingMode ?? DEFAULT_BILLING_MODE;
}

/** One global secondary index as CreateTable / UpdateTable take it. */
export function globalSecondaryIndex(name: string, index: DynamoIndex, billingMode: BillingMode): GlobalSecondaryIndex {
  const gsi: GlobalSecondaryIndex = {
    IndexName: name,
    KeySchema: keySchema(index),
    Projection: { ProjectionType: index.projection ?? DEFAULT_PROJECTION },
  };
  if (billingMode === "PROVISIONED") gsi.ProvisionedThroughput = { ...DEFAULT_PROVISIONED_THROUGHPUT };
  return gsi;
}

/** The CreateTable input of one contract table. */
export function createTableInput(
  logicalName: string,
  table: DynamoTable,
  naming: TableNaming,
): CreateTableCommandInput {
  const billingMode = billingModeOf(table);
  const key = keySchema(table);
  const indexes = indexNames(table).map((name) => {
    const index = table.indexes?.[name];
    if (!index) throw new Error(`index ${name} vanished from table ${logicalName}`);
    return globalSecondaryIndex(name, index, billingMode);
  });
  const input: CreateTableCommandInput = {
    TableName: physicalTableName(logicalName, naming.prefix),
    KeySchema: key,
    AttributeDefinitions: attributeDefinitions([key, ...indexes.map((gsi) => gsi.KeySchema ?? [])]),
    BillingMode: billingMode,
  };
  if (billingMode === "PROVISIONED") input.ProvisionedThroughput = { ...DEFAULT_PROVISIONED_THROUGHPUT };
  if (indexes.length > 0) input.GlobalSecondaryIndexes = indexes;
  return input;
}

/** Every contract table, sorted by logical name, with its CreateTable input. */
export function contractTables(
  contract: Pick<Contract, "tables">,
  naming: TableNaming,
): Array<{ logicalName: string; input: CreateTableCommandInput }> {
  return tableNames(contract).map((logicalName) => {
    const table = contract.tables[logicalName];
    if (!table) throw new Error(`table ${logicalName} vanished from the contract`);
    return { logicalName, input: createTableInput(logicalName, table, naming) };
  });
}

/** One CreateTable input per contract table, sorted by logical name. */
export function createTableInputs(contract: Pick<Contract, "tables">, naming: TableNaming): CreateTableCommandInput[] {
  return contractTables(contract, naming).map((table) => table.input);
}

/**
 * The table definitions as JSON text, the file written next to generated code: CreateTable inputs under their
 * logical names (`ferry tables apply` puts FERRY_TABLE_PREFIX in front) unless a prefix is given, two-space
 * indented, keys in a fixed order, a final newline, so regenerating an unchanged contract gives the same bytes.
 */
export function tableDefinitionsJson(
  contract: Pick<Contract, "name" | "tables">,
  naming: TableNaming = { prefix: "" },
  options: { source?: string } = {},
): string {
  const names =
    naming.prefix === ""
      ? "the physical table name is FERRY_TABLE_PREFIX + TableName"
      : `table names include the prefix '${naming.prefix}'`;
  const document = {
    $comment: [
      generatedNotice(options.source ?? `contract '${contract.name}'`),
      `CreateTable inputs for DynamoDB; ${names}.`,
    ],
    contract: contract.name,
    tables: createTableInputs(contract, naming),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
