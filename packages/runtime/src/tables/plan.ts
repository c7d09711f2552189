/**
 * What `ferry tables apply` would do to one table, from its contract definition and what DescribeTable says:
 * create it, add the indexes it lacks, or nothing; and the differences ferry reports but never fixes (it only
 * ever adds: a changed key, an index to drop or a billing switch are decisions for a person).
 */
import type {
  AttributeDefinition,
  BillingMode,
  CreateTableCommandInput,
  KeySchemaElement,
  TableDescription,
} from "@aws-sdk/client-dynamodb";
import { compareNames } from "./definitions.ts";

export interface TablePlan {
  /** The contract's name for the table. */
  logicalName: string;
  /** The table's name in DynamoDB (prefix + logical name). */
  table: string;
  /** `create`: the table is missing; `add-indexes`: it lacks some of the contract's indexes; `none`: up to date. */
  action: "create" | "add-indexes" | "none";
  /** For `create`, the indexes made with the table; for `add-indexes`, those to add, one UpdateTable each. */
  indexes: string[];
  /** Differences from the contract that apply reports and leaves alone, one sentence each, starting with the table. */
  drift: string[];
  /** The table as the contract defines it. */
  definition: CreateTableCommandInput;
  /** The table's billing mode in DynamoDB (the contract's when it is to be created). */
  billingMode: BillingMode;
}

/** A table's billing mode as DescribeTable reports it: no summary means PROVISIONED. */
export function describedBillingMode(description: TableDescription): BillingMode {
  return description.BillingModeSummary?.BillingMode ?? "PROVISIONED";
}

/** "partition key PK, sort key SK" or "partition key PK, no sort key". */
export function describeKeySchema(schema: readonly KeySchemaElement[] | undefined): string {
  const partition = schema?.find((element) => element.KeyType === "HASH")?.AttributeName;
  const sort = schema?.find((element) => element.KeyType === "RANGE")?.AttributeName;
  return `partition key ${partition ?? "(none)"}, ${sort === undefined ? "no sort key" : `sort key ${sort}`}`;
}

function sameKeySchema(
  a: readonly KeySchemaElement[] | undefined,
  b: readonly KeySchemaElement[] | undefined,
): boolean {
  return describeKeySchema(a) === describeKeySchema(b);
}

/**
 * The plan for one table. `existing` is DescribeTable's answer, undefined when there is no such table.
 * Pure: the same inputs give the same plan, so a dry run shows exactly what apply does.
 */
export function planTable(
  logicalName: string,
  definition: CreateTableCommandInput,
  existing: TableDescription | undefined,
): TablePlan {
  const table = definition.TableName ?? logicalName;
  const wanted = definition.GlobalSecondaryIndexes ?? [];
  if (!existing) {
    return {
      logicalName,
      table,
      action: "create",
      indexes: wanted.map((gsi) => gsi.IndexName ?? ""),
      drift: [],
      definition,
      billingMode: definition.BillingMode ?? "PAY_PER_REQUEST",
    };
  }

  const drift: string[] = [];
  if (!sameKeySchema(existing.KeySchema, definition.KeySchema)) {
    drift.push(
      `${table}: the key is ${describeKeySchema(existing.KeySchema)} in DynamoDB but ${describeKeySchema(definition.KeySchema)} in the contract; a table's key cannot change (make a new table and backfill it)`,
    );
  }

  const billingMode = describedBillingMode(existing);
  const wantedBilling = definition.BillingMode ?? "PAY_PER_REQUEST";
  if (billingMode !== wantedBilling) {
    drift.push(
      `${table}: billing mode is ${billingMode} in DynamoDB but ${wantedBilling} in the contract; ferry leaves billing alone (aws dynamodb update-table --table-name ${table} --billing-mode ${wantedBilling})`,
    );
  }

  const definedTypes = new Map(
    (existing.AttributeDefinitions ?? []).map((d: AttributeDefinition) => [d.AttributeName, d.AttributeType]),
  );
  /** Key attributes DynamoDB already defines with another type than S: an index on them cannot be added. */
  const mistyped = (schema: readonly KeySchemaElement[] | undefined) =>
    (schema ?? []).filter((element) => {
      const type = definedTypes.get(element.AttributeName);
      return type !== undefined && type !== "S";
    });

  const present = new Map((existing.GlobalSecondaryIndexes ?? []).map((gsi) => [gsi.IndexName ?? "", gsi]));
  const toAdd: string[] = [];
  for (const gsi of wanted) {
    const name = gsi.IndexName ?? "";
    const current = present.get(name);
    if (!current) {
      const bad = mistyped(gsi.KeySchema);
      if (bad.length > 0) {
        const which = bad.map((e) => `${e.AttributeName} is ${definedTypes.get(e.AttributeName)}`).join(", ");
        drift.push(
          `${table}: index ${name} is missing and cannot be added: ${which} in DynamoDB, but key attributes are strings (S) in the contract`,
        );
      } else {
        toAdd.push(name);
      }
      continue;
    }
    if (!sameKeySchema(current.KeySchema, gsi.KeySchema)) {
      drift.push(
        `${table}: index ${name} has ${describeKeySchema(current.KeySchema)} in DynamoDB but ${describeKeySchema(gsi.KeySchema)} in the contract; an index's key cannot change (add one under a new name, move readers to it, then drop the old one by hand)`,
      );
    }
    const projection = current.Projection?.ProjectionType ?? "ALL";
    const wantedProjection = gsi.Projection?.ProjectionType ?? "ALL";
    if (projection !== wantedProjection) {
      drift.push(
        `${table}: index ${name} projects ${projection} in DynamoDB but ${wantedProjection} in the contract; an index's projection cannot change (add one under a new name)`,
      );
    }
  }

  const wantedNames = new Set(wanted.map((gsi) => gsi.IndexName));
  const extra = [...present.keys()].filter((name) => !wantedNames.has(name)).sort(compareNames);
  for (const name of extra) {
    drift.push(
      `${table}: index ${name} is not in the contract; ferry never deletes an index (drop it by hand once nothing reads it)`,
    );
  }
  for (const lsi of existing.LocalSecondaryIndexes ?? []) {
    drift.push(
      `${table}: local secondary index ${lsi.IndexName ?? "(unnamed)"} is not in the contract (the contract declares global secondary indexes only)`,
    );
  }

  return {
    logicalName,
    table,
    action: toAdd.length > 0 ? "add-indexes" : "none",
    indexes: toAdd,
    drift,
    definition,
    billingMode,
  };
}
