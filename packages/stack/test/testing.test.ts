import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  paginateListTables,
  ResourceNotFoundException,
} from "@aws-sdk/client-dynamodb";
import { describe, expect, inject, it } from "vitest";
import { useTestStack } from "../src/testing.ts";

const stack = useTestStack();

describe("useTestStack", () => {
  it("gives the file its own empty database on the run's server", async () => {
    const connection = await stack.mysql();
    const [rows] = await connection.query(
      "SELECT DATABASE() AS db, COUNT(*) AS tables FROM information_schema.tables WHERE table_schema = DATABASE()",
    );
    // BIGINT (COUNT) comes back as a string: ferry never lets a number lose precision.
    expect(rows).toEqual([{ db: stack.database, tables: "0" }]);
    expect(stack.database.startsWith(`${inject("ferryStack").runPrefix}_testing_`)).toBe(true);
  });

  it("gives the file a table prefix of its own on the run's DynamoDB Local", async () => {
    const client = stack.dynamodb();
    const table = `${stack.tablePrefix}things`;
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      }),
    );
    // The run's DynamoDB Local holds every test file's tables: this file's are the ones with its prefix.
    const names: string[] = [];
    for await (const page of paginateListTables({ client }, {})) names.push(...(page.TableNames ?? []));
    expect(names.filter((name) => name.startsWith(stack.tablePrefix))).toEqual([table]);
    // The table is removed after the file; the global teardown fails the run if a database is left.
  });
});

describe("dynamoDbClient", () => {
  it("leaves out the SDK's logger middleware and still answers and throws as before", async () => {
    const client = stack.dynamodb();
    // The SDK's own client has it (the one thing this changes) ...
    expect(new DynamoDBClient({}).middlewareStack.identify().some((m) => m.startsWith("loggerMiddleware"))).toBe(true);
    expect(client.middlewareStack.identify().some((m) => m.startsWith("loggerMiddleware"))).toBe(false);
    // ... and calls still work, their errors still reach the caller with the service's name for them.
    await expect(client.send(new DescribeTableCommand({ TableName: `${stack.tablePrefix}missing` }))).rejects.toThrow(
      ResourceNotFoundException,
    );
  });
});
