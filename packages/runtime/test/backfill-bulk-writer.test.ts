/**
 * BulkWriter on DynamoDB Local: what DynamoDB leaves unprocessed and throttling errors are sent again until every item
 * has landed; a request that keeps failing fails with what went wrong; a marker held by another item is not taken.
 * DynamoDB Local never throttles nor leaves items unprocessed, so a middleware on the real client makes it do so:
 * it answers some requests itself (unprocessed items, a throttling error) instead of sending them.
 */
import {
  type BatchWriteItemCommandOutput,
  CreateTableCommand,
  type DynamoDBClient,
  ScanCommand,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { dynamoDbClient } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BulkWriteFailed, BulkWriter } from "../src/backfill/index.ts";

const stack = useTestStack();
const table = `${stack.tablePrefix}bulk`;
const clients: DynamoDBClient[] = [];
afterAll(() => {
  for (const client of clients) client.destroy();
});

beforeAll(async () => {
  await stack.dynamodb().send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [{ AttributeName: "PK", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "PK", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
});

type Fault = "unprocessed-half" | "throttled" | "ok";

/** A client whose BatchWriteItem requests meet `faults` in turn (then go through as they are). */
function faulty(faults: Fault[]): { client: DynamoDBClient; sent: number[] } {
  const client = dynamoDbClient(stack.dynamodbEndpoint);
  clients.push(client);
  const sent: number[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== "BatchWriteItemCommand") return next(args);
      const input = args.input as { RequestItems: Record<string, WriteRequest[]> };
      const requests = input.RequestItems[table] ?? [];
      sent.push(requests.length);
      const fault = faults.shift() ?? "ok";
      if (fault === "throttled") {
        throw Object.assign(new Error("Rate of requests exceeds the allowed throughput."), {
          name: "ProvisionedThroughputExceededException",
        });
      }
      if (fault === "unprocessed-half") {
        const keep = requests.slice(0, Math.ceil(requests.length / 2));
        const left = requests.slice(keep.length);
        const out = await next({ ...args, input: { RequestItems: { [table]: keep } } });
        (out.output as BatchWriteItemCommandOutput).UnprocessedItems = { [table]: left };
        return out;
      }
      return next(args);
    },
    { step: "initialize", name: "faults" },
  );
  return { client, sent };
}

const items = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, n) => ({ PK: { S: `${prefix}#${n}` }, n: { N: String(n) } }));

async function stored(prefix: string): Promise<number> {
  const out = await stack.dynamodb().send(
    new ScanCommand({
      TableName: table,
      FilterExpression: "begins_with(PK, :p)",
      ExpressionAttributeValues: { ":p": { S: `${prefix}#` } },
    }),
  );
  return out.Count ?? 0;
}

describe("BulkWriter", () => {
  it("sends what DynamoDB left unprocessed again, and what it throttled, until every item has landed", async () => {
    const { client, sent } = faulty(["unprocessed-half", "throttled", "unprocessed-half", "throttled"]);
    const retries: string[] = [];
    const writer = new BulkWriter(client, {
      concurrency: 1,
      baseMs: 1,
      capMs: 5,
      onRetry: (reason, count) => retries.push(`${reason}:${count}`),
    });
    await writer.put(table, items("a", 60));
    expect(await stored("a")).toBe(60);
    // 25 + 25 + 10 items in three requests (one in flight): the first lost 12 of its items, their resend was
    // throttled, sent again lost 6, their resend was throttled, sent again landed; then the other two.
    expect(retries).toEqual(["unprocessed:12", "throttled:12", "unprocessed:6", "throttled:6"]);
    expect(sent).toEqual([25, 12, 12, 6, 6, 25, 10]);
  });

  it("fails with what went wrong once a request was tried `attempts` times", async () => {
    const { client } = faulty(["throttled", "throttled", "throttled", "throttled"]);
    const writer = new BulkWriter(client, { concurrency: 1, baseMs: 1, capMs: 2, attempts: 3 });
    const error = await writer.put(table, items("b", 5)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BulkWriteFailed);
    expect((error as Error).message).toBe(
      `${table}: 5 items not written after 3 tries: ProvisionedThroughputExceededException: Rate of requests exceeds the allowed throughput.`,
    );
  });

  it("refuses a rate or a concurrency it cannot keep", () => {
    expect(() => new BulkWriter(stack.dynamodb(), { rate: 0 })).toThrow("a rate is at least 1 item per second, got 0");
    expect(() => new BulkWriter(stack.dynamodb(), { concurrency: 0 })).toThrow(
      "requests in flight are a whole number of at least 1, got 0",
    );
  });
});
