/** The contract's tables as CreateTable inputs, and what apply would do to a table as DynamoDB describes it. */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TableDescription } from "@aws-sdk/client-dynamodb";
import { type Contract, loadValidContract } from "@ferry/contract";
import { beforeAll, describe, expect, it } from "vitest";
import { createTableInputs, planTable } from "../src/tables/index.ts";

const root = fileURLToPath(new URL("../../../", import.meta.url));

let store: Contract;
beforeAll(async () => {
  store = await loadValidContract(join(root, "contract/store.yaml"));
});

const key = (partition: string, sort?: string) => [
  { AttributeName: partition, KeyType: "HASH" as const },
  ...(sort ? [{ AttributeName: sort, KeyType: "RANGE" as const }] : []),
];
const strings = (...names: string[]) => names.map((name) => ({ AttributeName: name, AttributeType: "S" as const }));

/** A contract with only tables (all these functions read). */
function tablesOnly(tables: Contract["tables"]): Pick<Contract, "name" | "tables"> {
  return { name: "shop", tables };
}

describe("createTableInputs", () => {
  it("turns contract/store.yaml into exactly this CreateTable input", () => {
    expect(createTableInputs(store, { prefix: "dev_" })).toStrictEqual([
      {
        TableName: "dev_main",
        KeySchema: key("PK", "SK"),
        AttributeDefinitions: strings("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK"),
        BillingMode: "PAY_PER_REQUEST",
        GlobalSecondaryIndexes: [
          { IndexName: "GSI1", KeySchema: key("GSI1PK", "GSI1SK"), Projection: { ProjectionType: "ALL" } },
          { IndexName: "GSI2", KeySchema: key("GSI2PK", "GSI2SK"), Projection: { ProjectionType: "ALL" } },
          { IndexName: "GSI3", KeySchema: key("GSI3PK", "GSI3SK"), Projection: { ProjectionType: "ALL" } },
        ],
      },
    ]);
  });

  it("sorts tables and indexes by name, defines each key attribute once, defaults what the contract leaves out", () => {
    const contract = tablesOnly({
      orders: {
        partitionKey: "PK",
        indexes: {
          ByStatus: { partitionKey: "status", sortKey: "PK", projection: "KEYS_ONLY" },
          ByCustomer: { partitionKey: "customer" },
        },
      },
      audit: {
        partitionKey: "id",
        sortKey: "at",
        billingMode: "PROVISIONED",
        indexes: { ByAt: { partitionKey: "at" } },
      },
    });
    expect(createTableInputs(contract, { prefix: "" })).toStrictEqual([
      {
        TableName: "audit",
        KeySchema: key("id", "at"),
        AttributeDefinitions: strings("id", "at"),
        BillingMode: "PROVISIONED",
        ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
        GlobalSecondaryIndexes: [
          {
            IndexName: "ByAt",
            KeySchema: key("at"),
            Projection: { ProjectionType: "ALL" },
            ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
          },
        ],
      },
      {
        TableName: "orders",
        KeySchema: key("PK"),
        AttributeDefinitions: strings("PK", "customer", "status"),
        BillingMode: "PAY_PER_REQUEST",
        GlobalSecondaryIndexes: [
          { IndexName: "ByCustomer", KeySchema: key("customer"), Projection: { ProjectionType: "ALL" } },
          { IndexName: "ByStatus", KeySchema: key("status", "PK"), Projection: { ProjectionType: "KEYS_ONLY" } },
        ],
      },
    ]);
  });

  it("leaves GlobalSecondaryIndexes out for a table without indexes", () => {
    const [input] = createTableInputs(tablesOnly({ plain: { partitionKey: "id" } }), { prefix: "p_" });
    expect(input).toStrictEqual({
      TableName: "p_plain",
      KeySchema: key("id"),
      AttributeDefinitions: strings("id"),
      BillingMode: "PAY_PER_REQUEST",
    });
  });
});

describe("planTable", () => {
  const definition = () => {
    const [input] = createTableInputs(store, { prefix: "" });
    if (!input) throw new Error("no input");
    return input;
  };
  const described = (changes: Partial<TableDescription> = {}): TableDescription => {
    const input = definition();
    return {
      TableName: "main",
      TableStatus: "ACTIVE",
      KeySchema: input.KeySchema,
      AttributeDefinitions: input.AttributeDefinitions,
      BillingModeSummary: { BillingMode: "PAY_PER_REQUEST" },
      GlobalSecondaryIndexes: input.GlobalSecondaryIndexes?.map((gsi) => ({ ...gsi, IndexStatus: "ACTIVE" })),
      ...changes,
    };
  };

  it("creates a missing table with its indexes", () => {
    const plan = planTable("main", definition(), undefined);
    expect([plan.action, plan.indexes, plan.drift]).toEqual(["create", ["GSI1", "GSI2", "GSI3"], []]);
  });

  it("does nothing to a table that matches", () => {
    expect(planTable("main", definition(), described())).toMatchObject({ action: "none", indexes: [], drift: [] });
  });

  it("adds missing indexes; a table without a billing summary is PROVISIONED", () => {
    const plan = planTable(
      "main",
      definition(),
      described({ GlobalSecondaryIndexes: [], BillingModeSummary: undefined }),
    );
    expect(plan).toMatchObject({
      action: "add-indexes",
      indexes: ["GSI1", "GSI2", "GSI3"],
      billingMode: "PROVISIONED",
    });
    expect(plan.drift).toEqual([
      "main: billing mode is PROVISIONED in DynamoDB but PAY_PER_REQUEST in the contract; ferry leaves billing alone (aws dynamodb update-table --table-name main --billing-mode PAY_PER_REQUEST)",
    ]);
  });

  it("does not add an index whose key attribute DynamoDB already types otherwise", () => {
    const plan = planTable(
      "main",
      definition(),
      described({
        AttributeDefinitions: [...strings("PK", "SK"), { AttributeName: "GSI2PK", AttributeType: "N" }],
        GlobalSecondaryIndexes: [],
        LocalSecondaryIndexes: [{ IndexName: "ByOther" }],
      }),
    );
    expect(plan.action).toBe("add-indexes");
    expect(plan.indexes).toEqual(["GSI1", "GSI3"]);
    expect(plan.drift).toEqual([
      "main: index GSI2 is missing and cannot be added: GSI2PK is N in DynamoDB, but key attributes are strings (S) in the contract",
      "main: local secondary index ByOther is not in the contract (the contract declares global secondary indexes only)",
    ]);
  });
});
