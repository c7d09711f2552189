import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DescribeTableCommandOutput,
  ResourceNotFoundException,
  type TableDescription,
  UpdateTableCommand,
} from "@aws-sdk/client-dynamodb";
import { type Contract, loadValidContract } from "@ferry/contract";
import { dynamoDbClient } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { beforeAll, describe, expect, it, vi } from "vitest";
import {
  type ApplyProgress,
  applyTables,
  createTableInputs,
  DynamoDbProblem,
  planTables,
} from "../src/tables/index.ts";

const stack = useTestStack();
const root = fileURLToPath(new URL("../../../", import.meta.url));

let store: Contract;
beforeAll(async () => {
  store = await loadValidContract(join(root, "contract/store.yaml"));
});

/** A copy of the store contract whose table `main` has one more index. */
function withGsi3(contract: Contract): Contract {
  const copy = structuredClone(contract);
  const main = copy.tables.main;
  if (!main) throw new Error("the store contract has no table main");
  main.indexes = { ...main.indexes, GSI4: { partitionKey: "GSI4PK", sortKey: "GSI4SK", projection: "KEYS_ONLY" } };
  return copy;
}

async function describeTable(name: string): Promise<TableDescription> {
  const answer = await stack.dynamodb().send(new DescribeTableCommand({ TableName: name }));
  if (!answer.Table) throw new Error(`no table ${name}`);
  return answer.Table;
}

/** The parts of a description the contract decides, in a fixed order. */
function shape(table: TableDescription) {
  return {
    name: table.TableName,
    status: table.TableStatus,
    keySchema: table.KeySchema,
    attributes: [...(table.AttributeDefinitions ?? [])].sort((a, b) =>
      String(a.AttributeName).localeCompare(String(b.AttributeName)),
    ),
    billingMode: table.BillingModeSummary?.BillingMode ?? "PROVISIONED",
    indexes: [...(table.GlobalSecondaryIndexes ?? [])]
      .map((gsi) => ({
        name: gsi.IndexName,
        status: gsi.IndexStatus,
        keySchema: gsi.KeySchema,
        projection: gsi.Projection?.ProjectionType,
      }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name))),
  };
}

const s = (name: string) => ({ AttributeName: name, AttributeType: "S" as const });
const hash = (name: string) => ({ AttributeName: name, KeyType: "HASH" as const });
const range = (name: string) => ({ AttributeName: name, KeyType: "RANGE" as const });

describe("applyTables on DynamoDB Local", () => {
  it("creates the store's table with its indexes, then finds nothing to do", async () => {
    const prefix = `${stack.tablePrefix}store_`;
    const events: ApplyProgress[] = [];
    const report = await applyTables(stack.dynamodb(), store, { prefix, onProgress: (e) => events.push(e) });
    expect(report).toEqual({ created: [`${prefix}main`], indexesAdded: [], unchanged: [], drift: [] });
    expect(events[0]).toEqual({ kind: "create-table", table: `${prefix}main`, indexes: ["GSI1", "GSI2", "GSI3"] });

    expect(shape(await describeTable(`${prefix}main`))).toEqual({
      name: `${prefix}main`,
      status: "ACTIVE",
      keySchema: [hash("PK"), range("SK")],
      attributes: [s("GSI1PK"), s("GSI1SK"), s("GSI2PK"), s("GSI2SK"), s("GSI3PK"), s("GSI3SK"), s("PK"), s("SK")],
      billingMode: "PAY_PER_REQUEST",
      indexes: [
        { name: "GSI1", status: "ACTIVE", keySchema: [hash("GSI1PK"), range("GSI1SK")], projection: "ALL" },
        { name: "GSI2", status: "ACTIVE", keySchema: [hash("GSI2PK"), range("GSI2SK")], projection: "ALL" },
        { name: "GSI3", status: "ACTIVE", keySchema: [hash("GSI3PK"), range("GSI3SK")], projection: "ALL" },
      ],
    });

    const again = await applyTables(stack.dynamodb(), store, { prefix });
    expect(again).toEqual({ created: [], indexesAdded: [], unchanged: [`${prefix}main`], drift: [] });
  });

  it("adds exactly the one index the contract gained, and is idempotent after", async () => {
    const prefix = `${stack.tablePrefix}gsi3_`;
    await applyTables(stack.dynamodb(), store, { prefix });
    const before = shape(await describeTable(`${prefix}main`));

    const events: ApplyProgress[] = [];
    const report = await applyTables(stack.dynamodb(), withGsi3(store), { prefix, onProgress: (e) => events.push(e) });
    expect(report).toEqual({
      created: [],
      indexesAdded: [{ table: `${prefix}main`, index: "GSI4" }],
      unchanged: [],
      drift: [],
    });
    expect(events.filter((e) => e.kind !== "waiting" && e.kind !== "active")).toEqual([
      { kind: "add-index", table: `${prefix}main`, index: "GSI4" },
    ]);

    const after = shape(await describeTable(`${prefix}main`));
    expect(after.keySchema).toEqual(before.keySchema);
    expect(after.attributes).toEqual(
      [...before.attributes, s("GSI4PK"), s("GSI4SK")].sort((a, b) =>
        String(a.AttributeName).localeCompare(String(b.AttributeName)),
      ),
    );
    expect(after.indexes).toEqual([
      ...before.indexes,
      { name: "GSI4", status: "ACTIVE", keySchema: [hash("GSI4PK"), range("GSI4SK")], projection: "KEYS_ONLY" },
    ]);

    const again = await applyTables(stack.dynamodb(), withGsi3(store), { prefix });
    expect(again).toEqual({ created: [], indexesAdded: [], unchanged: [`${prefix}main`], drift: [] });
  });

  it("adds several missing indexes one UpdateTable each", async () => {
    const prefix = `${stack.tablePrefix}bare_`;
    await stack.dynamodb().send(
      new CreateTableCommand({
        TableName: `${prefix}main`,
        KeySchema: [hash("PK"), range("SK")],
        AttributeDefinitions: [s("PK"), s("SK")],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    const send = vi.spyOn(stack.dynamodb(), "send");
    try {
      const report = await applyTables(stack.dynamodb(), withGsi3(store), { prefix });
      expect(report.indexesAdded).toEqual([
        { table: `${prefix}main`, index: "GSI1" },
        { table: `${prefix}main`, index: "GSI2" },
        { table: `${prefix}main`, index: "GSI3" },
        { table: `${prefix}main`, index: "GSI4" },
      ]);
      const updates = send.mock.calls.map(([command]) => command).filter((c) => c instanceof UpdateTableCommand);
      expect(updates.map((u) => u.input.GlobalSecondaryIndexUpdates?.map((g) => g.Create?.IndexName))).toEqual([
        ["GSI1"],
        ["GSI2"],
        ["GSI3"],
        ["GSI4"],
      ]);
    } finally {
      send.mockRestore();
    }
    expect(shape(await describeTable(`${prefix}main`)).indexes.map((i) => [i.name, i.status])).toEqual([
      ["GSI1", "ACTIVE"],
      ["GSI2", "ACTIVE"],
      ["GSI3", "ACTIVE"],
      ["GSI4", "ACTIVE"],
    ]);
  });

  it("creates PROVISIONED tables and their indexes with the default throughput", async () => {
    const prefix = `${stack.tablePrefix}prov_`;
    const contract = structuredClone(store);
    if (contract.tables.main) contract.tables.main.billingMode = "PROVISIONED";
    const report = await applyTables(stack.dynamodb(), contract, { prefix });
    expect(report.created).toEqual([`${prefix}main`]);
    const table = await describeTable(`${prefix}main`);
    expect(shape(table).billingMode).toBe("PROVISIONED");
    expect(table.ProvisionedThroughput).toMatchObject({ ReadCapacityUnits: 5, WriteCapacityUnits: 5 });
    for (const gsi of table.GlobalSecondaryIndexes ?? []) {
      expect(gsi.ProvisionedThroughput).toMatchObject({ ReadCapacityUnits: 5, WriteCapacityUnits: 5 });
    }
    // An index added later to the provisioned table gets throughput too (DynamoDB requires it).
    const more = await applyTables(stack.dynamodb(), withGsi3(contract), { prefix });
    expect(more.indexesAdded).toEqual([{ table: `${prefix}main`, index: "GSI4" }]);
    expect(more.drift).toEqual([]);
  });
});

describe("drift: reported, never fixed", () => {
  it("a table made by hand with another key", async () => {
    const prefix = `${stack.tablePrefix}key_`;
    const table = `${prefix}main`;
    const [definition] = createTableInputs(store, { prefix });
    if (!definition) throw new Error("no definition");
    await stack.dynamodb().send(
      new CreateTableCommand({
        ...definition,
        KeySchema: [{ AttributeName: "PK", KeyType: "HASH" }],
        AttributeDefinitions: definition?.AttributeDefinitions?.filter((d) => d.AttributeName !== "SK"),
      }),
    );
    const report = await applyTables(stack.dynamodb(), store, { prefix });
    expect(report).toEqual({
      created: [],
      indexesAdded: [],
      unchanged: [table],
      drift: [
        `${table}: the key is partition key PK, no sort key in DynamoDB but partition key PK, sort key SK in the contract; a table's key cannot change (make a new table and backfill it)`,
      ],
    });
    expect(shape(await describeTable(table)).keySchema).toEqual([hash("PK")]);
  });

  it("an extra index, an index with another key, another projection, another billing mode", async () => {
    const prefix = `${stack.tablePrefix}gsi_`;
    const table = `${prefix}main`;
    const throughput = { ReadCapacityUnits: 1, WriteCapacityUnits: 1 };
    await stack.dynamodb().send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [
          { AttributeName: "PK", KeyType: "HASH" },
          { AttributeName: "SK", KeyType: "RANGE" },
        ],
        AttributeDefinitions: ["PK", "SK", "GSI1PK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK", "OTHER"].map((name) => ({
          AttributeName: name,
          AttributeType: "S",
        })),
        BillingMode: "PROVISIONED",
        ProvisionedThroughput: throughput,
        GlobalSecondaryIndexes: [
          {
            IndexName: "GSI1",
            KeySchema: [{ AttributeName: "GSI1PK", KeyType: "HASH" }],
            Projection: { ProjectionType: "ALL" },
            ProvisionedThroughput: throughput,
          },
          {
            IndexName: "GSI2",
            KeySchema: [
              { AttributeName: "GSI2PK", KeyType: "HASH" },
              { AttributeName: "GSI2SK", KeyType: "RANGE" },
            ],
            Projection: { ProjectionType: "KEYS_ONLY" },
            ProvisionedThroughput: throughput,
          },
          {
            IndexName: "GSI3",
            KeySchema: [
              { AttributeName: "GSI3PK", KeyType: "HASH" },
              { AttributeName: "GSI3SK", KeyType: "RANGE" },
            ],
            Projection: { ProjectionType: "ALL" },
            ProvisionedThroughput: throughput,
          },
          {
            IndexName: "ByOther",
            KeySchema: [{ AttributeName: "OTHER", KeyType: "HASH" }],
            Projection: { ProjectionType: "ALL" },
            ProvisionedThroughput: throughput,
          },
        ],
      }),
    );
    const before = shape(await describeTable(table));
    const report = await applyTables(stack.dynamodb(), store, { prefix });
    expect(report).toEqual({
      created: [],
      indexesAdded: [],
      unchanged: [table],
      drift: [
        `${table}: billing mode is PROVISIONED in DynamoDB but PAY_PER_REQUEST in the contract; ferry leaves billing alone (aws dynamodb update-table --table-name ${table} --billing-mode PAY_PER_REQUEST)`,
        `${table}: index GSI1 has partition key GSI1PK, no sort key in DynamoDB but partition key GSI1PK, sort key GSI1SK in the contract; an index's key cannot change (add one under a new name, move readers to it, then drop the old one by hand)`,
        `${table}: index GSI2 projects KEYS_ONLY in DynamoDB but ALL in the contract; an index's projection cannot change (add one under a new name)`,
        `${table}: index ByOther is not in the contract; ferry never deletes an index (drop it by hand once nothing reads it)`,
      ],
    });
    expect(shape(await describeTable(table))).toEqual(before);
  });
});

describe("planTables (the dry run)", () => {
  it("plans without changing anything", async () => {
    const prefix = `${stack.tablePrefix}dry_`;
    const send = vi.spyOn(stack.dynamodb(), "send");
    try {
      const plans = await planTables(stack.dynamodb(), store, { prefix });
      expect(plans.map(({ definition: _, ...plan }) => plan)).toEqual([
        {
          logicalName: "main",
          table: `${prefix}main`,
          action: "create",
          indexes: ["GSI1", "GSI2", "GSI3"],
          drift: [],
          billingMode: "PAY_PER_REQUEST",
        },
      ]);
      expect(send.mock.calls.map(([command]) => command.constructor.name)).toEqual(["DescribeTableCommand"]);
    } finally {
      send.mockRestore();
    }
    const absent = await describeTable(`${prefix}main`).catch((e: unknown) => e);
    expect(absent).toBeInstanceOf(ResourceNotFoundException);
    expect((absent as Error).message).toBe(`Cannot do operations on a non-existent table`);

    await applyTables(stack.dynamodb(), store, { prefix });
    const before = shape(await describeTable(`${prefix}main`));
    const plans = await planTables(stack.dynamodb(), withGsi3(store), { prefix });
    expect(plans.map((p) => [p.action, p.indexes, p.drift])).toEqual([["add-indexes", ["GSI4"], []]]);
    expect(shape(await describeTable(`${prefix}main`))).toEqual(before);
  });
});

describe("waiting and failing", () => {
  it("polls until the table and its indexes are ACTIVE, reporting progress", async () => {
    const prefix = `${stack.tablePrefix}slow_`;
    const table = `${prefix}main`;
    const client = dynamoDbClient(stack.dynamodbEndpoint);
    const real = client.send.bind(client);
    let describes = 0;
    // DynamoDB Local makes tables ACTIVE at once; pretend the first answers after CreateTable say otherwise.
    vi.spyOn(client, "send").mockImplementation(async (command: Parameters<typeof client.send>[0]) => {
      const answer = (await real(command)) as DescribeTableCommandOutput;
      if (command instanceof DescribeTableCommand && answer.Table && describes++ < 4) {
        const busy = describes <= 2;
        return {
          ...answer,
          Table: {
            ...answer.Table,
            TableStatus: busy ? "CREATING" : "ACTIVE",
            GlobalSecondaryIndexes: answer.Table.GlobalSecondaryIndexes?.map((gsi) => ({
              ...gsi,
              IndexStatus: "CREATING",
              Backfilling: !busy,
            })),
          },
        };
      }
      return answer;
    });
    try {
      const events: ApplyProgress[] = [];
      const report = await applyTables(client, store, { prefix, pollIntervalMs: 1, onProgress: (e) => events.push(e) });
      expect(report.created).toEqual([table]);
      expect(events.map((e) => (e.kind === "waiting" ? `${e.kind} ${e.index ?? ""} ${e.status}` : e.kind))).toEqual([
        "create-table",
        "waiting  CREATING",
        "waiting  CREATING",
        "waiting GSI1 CREATING (backfilling)",
        "waiting GSI1 CREATING (backfilling)",
        "active",
      ]);
    } finally {
      client.destroy();
    }
  });

  it("gives up after waitTimeoutMs with a hint to run again", async () => {
    const prefix = `${stack.tablePrefix}stuck_`;
    const client = dynamoDbClient(stack.dynamodbEndpoint);
    const real = client.send.bind(client);
    vi.spyOn(client, "send").mockImplementation(async (command: Parameters<typeof client.send>[0]) => {
      const answer = (await real(command)) as DescribeTableCommandOutput;
      if (command instanceof DescribeTableCommand && answer.Table) {
        return { ...answer, Table: { ...answer.Table, TableStatus: "CREATING" } };
      }
      return answer;
    });
    try {
      const failure = applyTables(client, store, { prefix, waitTimeoutMs: 50, pollIntervalMs: 10 });
      await expect(failure).rejects.toThrow(new RegExp(`^table ${prefix}main is still CREATING after \\d+ s$`));
      await expect(failure).rejects.toMatchObject({
        hint: "DynamoDB keeps working on it: run `ferry tables apply` again later, it carries on where this run stopped",
      });
    } finally {
      client.destroy();
    }
  });

  it("says clearly when DynamoDB cannot be reached", async () => {
    const client = dynamoDbClient("http://127.0.0.1:1");
    try {
      const failure = applyTables(client, store, { prefix: stack.tablePrefix });
      await expect(failure).rejects.toBeInstanceOf(DynamoDbProblem);
      await expect(failure).rejects.toThrow(
        `cannot reach DynamoDB at http://127.0.0.1:1 to describe table ${stack.tablePrefix}main (connect ECONNREFUSED 127.0.0.1:1)`,
      );
      await expect(failure).rejects.toMatchObject({
        hint: "start the local stack with `pnpm ferry stack up`, or point ferry at DynamoDB with --dynamodb-endpoint URL or DYNAMODB_ENDPOINT (unset means AWS itself)",
      });
    } finally {
      client.destroy();
    }
  });

  it("passes DynamoDB's refusals on with its message", async () => {
    const contract = structuredClone(store);
    // Spaces and "!" are not allowed in table names.
    contract.tables = { "bad name!": { partitionKey: "PK" } };
    const failure = applyTables(stack.dynamodb(), contract, { prefix: stack.tablePrefix });
    await expect(failure).rejects.toBeInstanceOf(DynamoDbProblem);
    await expect(failure).rejects.toThrow(
      `DynamoDB at ${stack.dynamodbEndpoint} refused to describe table ${stack.tablePrefix}bad name!: ValidationException: `,
    );
  });
});
