/**
 * withFastDataCalls against DynamoDB Local, differentially: every item call is made through the SDK and through the
 * fast path, and the two must answer the same (outputs, binary values, errors and their classes and fields), abort
 * the same, retry the same; the requests it signs must carry the signature the SDK's own signer computes for them.
 */
import { createHash, createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ResourceNotFoundException,
  ScanCommand,
  TransactGetItemsCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { dynamoDbClient } from "@ferry/stack";
import { freePort, useTestStack } from "@ferry/stack/testing";
import { ConfiguredRetryStrategy, DeprecatedStandardRetryStrategy } from "@smithy/core/retry";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withFastDataCalls } from "../src/dynamodb/index.ts";
import { isTransient } from "../src/transient.ts";

const stack = useTestStack();
let table: string;
let sdk: DynamoDBClient;
let fast: DynamoDBClient;

/** Every kind of attribute value, binary ones nested too, and attributes named like the binary types. */
function item(pk: string, sk: string): Record<string, AttributeValue> {
  return {
    pk: { S: pk },
    sk: { S: sk },
    text: { S: 'héllo \u0000 "quoted" \\ 😀' },
    count: { N: "12345678901234567890.5" },
    blob: { B: new Uint8Array([0, 1, 2, 250, 255]) },
    empty: { B: new Uint8Array([]) },
    flag: { BOOL: true },
    none: { NULL: true },
    strings: { SS: ["a", "b"] },
    numbers: { NS: ["1", "2.5"] },
    blobs: { BS: [new Uint8Array([9]), new Uint8Array([8, 7])] },
    list: { L: [{ B: new Uint8Array([1]) }, { S: "x" }, { M: { inner: { B: new Uint8Array([2]) } } }] },
    map: { M: { B: { S: "an attribute named B" }, BS: { L: [{ S: "named BS" }] }, deep: { B: new Uint8Array([3]) } } },
    B: { S: "top-level attribute named B" },
  };
}

/** An output without its request metadata (request ids differ from call to call). */
function bare(output: object): Record<string, unknown> {
  const { $metadata: _metadata, ...rest } = output as Record<string, unknown>;
  return rest;
}

/** What callers can see of an error: its class, name, message, fault and fields, the status and attempts. */
function seen(error: unknown): Record<string, unknown> {
  const { $metadata, $response: _response, stack: _stack, ...fields } = error as Record<string, unknown>;
  const metadata = ($metadata ?? {}) as { httpStatusCode?: number; attempts?: number };
  return {
    class: (error as object).constructor.name,
    name: (error as Error).name,
    message: (error as Error).message,
    fields: JSON.parse(JSON.stringify(fields, (_key, value) => (value instanceof Uint8Array ? [...value] : value))),
    status: metadata.httpStatusCode,
    attempts: metadata.attempts,
  };
}

async function rejectionOf(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (error) {
    return error;
  }
  throw new Error("the call succeeded");
}

/** The fast path's error for a call, once it is seen to read as the SDK's error for the same call (sent first). */
async function rejectedAlike(call: (client: DynamoDBClient) => Promise<unknown>): Promise<unknown> {
  const bySdk = await rejectionOf(call(sdk));
  const byFast = await rejectionOf(call(fast));
  expect(seen(byFast)).toEqual(seen(bySdk));
  return byFast;
}

/** A table of this file's keyed by a string `pk` and an `sk` of this type. */
async function createTable(name: string, sortKeyType: "S" | "B"): Promise<void> {
  await sdk.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: sortKeyType },
      ],
    }),
  );
}

beforeAll(async () => {
  sdk = stack.dynamodb();
  fast = withFastDataCalls(dynamoDbClient(stack.dynamodbEndpoint));
  table = `${stack.tablePrefix}fast`;
  await createTable(table, "S");
  await sdk.send(new PutItemCommand({ TableName: table, Item: item("read", "1") }));
  await sdk.send(new PutItemCommand({ TableName: table, Item: item("read", "2") }));
});

afterAll(() => {
  fast.destroy();
});

describe("reads answer as the SDK's do", () => {
  it("GetItem, with every kind of value (binary ones as Uint8Array)", async () => {
    const input = { TableName: table, Key: { pk: { S: "read" }, sk: { S: "1" } }, ConsistentRead: true };
    const bySdk = await sdk.send(new GetItemCommand(input));
    const byFast = await fast.send(new GetItemCommand(input));
    expect(bare(byFast)).toEqual(bare(bySdk));
    expect(byFast.Item?.blob?.B).toBeInstanceOf(Uint8Array);
    expect([...(byFast.Item?.blob?.B ?? [])]).toEqual([0, 1, 2, 250, 255]);
    expect(byFast.Item?.map?.M?.B).toEqual({ S: "an attribute named B" });
    expect(byFast.$metadata.httpStatusCode).toBe(200);
    expect(byFast.$metadata.attempts).toBe(1);
  });

  it("GetItem of an item that is not there", async () => {
    const input = { TableName: table, Key: { pk: { S: "read" }, sk: { S: "none" } } };
    expect(bare(await fast.send(new GetItemCommand(input)))).toEqual(bare(await sdk.send(new GetItemCommand(input))));
    expect((await fast.send(new GetItemCommand(input))).Item).toBeUndefined();
  });

  it("Query and Scan, with pages", async () => {
    const query = {
      TableName: table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": { S: "read" } },
      Limit: 1,
    };
    const first = await fast.send(new QueryCommand(query));
    expect(bare(first)).toEqual(bare(await sdk.send(new QueryCommand(query))));
    expect(first.Items).toHaveLength(1);
    const next = { ...query, ExclusiveStartKey: first.LastEvaluatedKey };
    expect(bare(await fast.send(new QueryCommand(next)))).toEqual(bare(await sdk.send(new QueryCommand(next))));
    const scan = {
      TableName: table,
      FilterExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": { S: "read" } },
    };
    const scanned = await fast.send(new ScanCommand(scan));
    expect(bare(scanned)).toEqual(bare(await sdk.send(new ScanCommand(scan))));
    expect(scanned.Count).toBe(2);
  });

  it("BatchGetItem and TransactGetItems", async () => {
    const keys = [
      { pk: { S: "read" }, sk: { S: "1" } },
      { pk: { S: "read" }, sk: { S: "2" } },
    ];
    const batch = { RequestItems: { [table]: { Keys: keys } } };
    const batched = await fast.send(new BatchGetItemCommand(batch));
    expect(batched.Responses?.[table]).toHaveLength(2);
    const sorted = (output: { Responses?: Record<string, Record<string, AttributeValue>[]> }) =>
      [...(output.Responses?.[table] ?? [])].sort((a, b) => String(a.sk?.S).localeCompare(String(b.sk?.S)));
    expect(sorted(batched)).toEqual(sorted(await sdk.send(new BatchGetItemCommand(batch))));
    const transact = { TransactItems: keys.map((Key) => ({ Get: { TableName: table, Key } })) };
    expect(bare(await fast.send(new TransactGetItemsCommand(transact)))).toEqual(
      bare(await sdk.send(new TransactGetItemsCommand(transact))),
    );
  });
});

describe("binary keys", () => {
  it("pages by a binary sort key, and an item read by the fast path is written back unchanged", async () => {
    const binaryTable = `${stack.tablePrefix}fastbin`;
    await createTable(binaryTable, "B");
    for (const byte of [3, 1, 2]) {
      await sdk.send(
        new PutItemCommand({
          TableName: binaryTable,
          Item: { ...item("bin", "x"), sk: { B: new Uint8Array([byte, 255 - byte]) } },
        }),
      );
    }
    const query = {
      TableName: binaryTable,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": { S: "bin" } },
      Limit: 1,
      ReturnConsumedCapacity: "TOTAL" as const,
    };
    const pages: unknown[] = [];
    let start: Record<string, AttributeValue> | undefined;
    let viaSdk: Record<string, AttributeValue> | undefined;
    do {
      const byFast = await fast.send(new QueryCommand({ ...query, ExclusiveStartKey: start }));
      const bySdk = await sdk.send(new QueryCommand({ ...query, ExclusiveStartKey: viaSdk }));
      expect(bare(byFast)).toEqual(bare(bySdk));
      pages.push(...(byFast.Items ?? []));
      // The next page starts from the key the fast path gave back (views into Node's shared buffer pool).
      start = byFast.LastEvaluatedKey;
      viaSdk = bySdk.LastEvaluatedKey;
    } while (start !== undefined);
    expect(pages.map((one) => [...((one as Record<string, AttributeValue>).sk?.B ?? [])])).toEqual([
      [1, 254],
      [2, 253],
      [3, 252],
    ]);
    const [first] = pages as Record<string, AttributeValue>[];
    await fast.send(new PutItemCommand({ TableName: binaryTable, Item: { ...first, text: { S: "written back" } } }));
    const again = await sdk.send(
      new GetItemCommand({ TableName: binaryTable, Key: { pk: { S: "bin" }, sk: { B: new Uint8Array([1, 254]) } } }),
    );
    expect({ ...again.Item, text: undefined }).toEqual({ ...first, text: undefined });
    expect(again.Item?.text).toEqual({ S: "written back" });
  });
});

describe("writes store what the SDK's do", () => {
  /** Reads an item through the SDK, without its key (two clients write under two keys). */
  async function stored(pk: string): Promise<Record<string, AttributeValue> | undefined> {
    const out = await sdk.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: "w" } }, ConsistentRead: true }),
    );
    if (out.Item === undefined) return undefined;
    const { pk: _pk, ...rest } = out.Item;
    return rest;
  }

  it("PutItem, UpdateItem and DeleteItem, with their return values", async () => {
    const outputs: Record<string, unknown>[][] = [];
    for (const [client, pk] of [
      [sdk, "write-sdk"],
      [fast, "write-fast"],
    ] as const) {
      const key = { pk: { S: pk }, sk: { S: "w" } };
      const put = await client.send(new PutItemCommand({ TableName: table, Item: { ...item(pk, "w") } }));
      const updated = await client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: key,
          UpdateExpression: "SET #c = #c + :one, #b = :blob",
          ExpressionAttributeNames: { "#c": "count", "#b": "blob" },
          ExpressionAttributeValues: { ":one": { N: "1" }, ":blob": { B: new Uint8Array([7, 7]) } },
          ReturnValues: "UPDATED_NEW",
        }),
      );
      outputs.push([bare(put), bare(updated)]);
    }
    expect(outputs[1]).toEqual(outputs[0]);
    expect(await stored("write-fast")).toEqual(await stored("write-sdk"));
    expect([...((await stored("write-fast"))?.blob?.B ?? [])]).toEqual([7, 7]);
    const deleted = await fast.send(
      new DeleteItemCommand({
        TableName: table,
        Key: { pk: { S: "write-fast" }, sk: { S: "w" } },
        ReturnValues: "ALL_OLD",
      }),
    );
    const { pk: _pk, ...old } = deleted.Attributes ?? {};
    expect(old).toEqual(await stored("write-sdk"));
    expect(await stored("write-fast")).toBeUndefined();
  });

  it("BatchWriteItem and TransactWriteItems", async () => {
    for (const [client, pk] of [
      [sdk, "batch-sdk"],
      [fast, "batch-fast"],
    ] as const) {
      const batch = await client.send(
        new BatchWriteItemCommand({ RequestItems: { [table]: [{ PutRequest: { Item: item(pk, "w") } }] } }),
      );
      expect(bare(batch)).toEqual({ UnprocessedItems: {} });
      const transact = await client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Update: {
                TableName: table,
                Key: { pk: { S: pk }, sk: { S: "w" } },
                UpdateExpression: "SET flag = :f",
                ExpressionAttributeValues: { ":f": { BOOL: false } },
              },
            },
          ],
        }),
      );
      expect(bare(transact)).toEqual({});
    }
    expect(await stored("batch-fast")).toEqual(await stored("batch-sdk"));
    expect((await stored("batch-fast"))?.flag).toEqual({ BOOL: false });
  });
});

describe("errors are the SDK's", () => {
  it("a failed condition, with the item it met", async () => {
    const input = {
      TableName: table,
      Item: item("read", "1"),
      ConditionExpression: "attribute_not_exists(pk)",
      ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
    };
    const byFast = await rejectedAlike((client) => client.send(new PutItemCommand(input)));
    expect(byFast).toBeInstanceOf(ConditionalCheckFailedException);
    expect((byFast as ConditionalCheckFailedException).Item?.blob?.B).toBeInstanceOf(Uint8Array);
  });

  it("a cancelled transaction, with its reasons and the items they met", async () => {
    const input = {
      TransactItems: [
        { Put: { TableName: table, Item: item("tx", "free") } },
        {
          Put: {
            TableName: table,
            Item: item("read", "2"),
            ConditionExpression: "attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
          },
        },
      ],
    };
    const byFast = await rejectedAlike((client) => client.send(new TransactWriteItemsCommand(input)));
    expect(byFast).toBeInstanceOf(TransactionCanceledException);
    const reasons = (byFast as TransactionCanceledException).CancellationReasons ?? [];
    expect(reasons.map((reason) => reason.Code)).toEqual(["None", "ConditionalCheckFailed"]);
    expect(reasons[1]?.Item?.blob?.B).toBeInstanceOf(Uint8Array);
  });

  it("a table that does not exist, and an input DynamoDB refuses", async () => {
    const missing = { TableName: `${stack.tablePrefix}missing`, Key: { pk: { S: "x" }, sk: { S: "y" } } };
    expect(await rejectedAlike((client) => client.send(new GetItemCommand(missing)))).toBeInstanceOf(
      ResourceNotFoundException,
    );
    const refused = { TableName: table, Key: { pk: { S: "x" } } };
    const validation = await rejectedAlike((client) => client.send(new GetItemCommand(refused)));
    expect((validation as Error).name).toBe("ValidationException");
    expect(isTransient(validation)).toBe(false);
  });

  it("an aborted call is an AbortError, not transient", async () => {
    const input = { TableName: table, Key: { pk: { S: "read" }, sk: { S: "1" } } };
    const signal = AbortSignal.abort();
    const byFast = await rejectionOf(fast.send(new GetItemCommand(input), { abortSignal: signal }));
    const bySdk = await rejectionOf(sdk.send(new GetItemCommand(input), { abortSignal: signal }));
    expect((byFast as Error).name).toBe("AbortError");
    expect((byFast as Error).name).toBe((bySdk as Error).name);
    expect(isTransient(byFast)).toBe(false);
  });

  it("a call aborted while it waits for its answer is an AbortError, as the SDK's is", async () => {
    // Aborted once both calls have reached the server (not on a timer: on a loaded machine one can fire first).
    const abort = new AbortController();
    let received = 0;
    const silent = http.createServer(() => {
      if (++received === 2) abort.abort();
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const clients = [withFastDataCalls(dynamoDbClient(url)), dynamoDbClient(url)];
    try {
      const input = { TableName: table, Key: { pk: { S: "read" }, sk: { S: "1" } } };
      const [byFast, bySdk] = await Promise.all(
        clients.map((client) => rejectionOf(client.send(new GetItemCommand(input), { abortSignal: abort.signal }))),
      );
      expect({ name: (byFast as Error).name, message: (byFast as Error).message }).toEqual({
        name: (bySdk as Error).name,
        message: (bySdk as Error).message,
      });
      expect((byFast as Error).name).toBe("AbortError");
      expect(isTransient(byFast)).toBe(false);
    } finally {
      for (const client of clients) client.destroy();
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("a socket silent past the client's socket timeout: a TimeoutError, tried again", async () => {
    const silent = http.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const client = withFastDataCalls(dynamoDbClient(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`));
    // The SDK sets it only when its environment turns the default on; a client may carry one.
    (client.config as { defaultSocketTimeout?: number }).defaultSocketTimeout = 200;
    let requests = 0;
    silent.on("request", () => requests++);
    try {
      const error = await rejectionOf(
        client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: "read" }, sk: { S: "1" } } })),
      );
      expect((error as Error).name).toBe("TimeoutError");
      expect((error as { $metadata?: { attempts?: number } }).$metadata?.attempts).toBe(2);
      expect(requests).toBe(2);
      expect(isTransient(error)).toBe(true);
    } finally {
      client.destroy();
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("an input not shaped as the operation's is refused as the SDK refuses it, never thrown at the call", async () => {
    const bad = { RequestItems: null } as unknown as ConstructorParameters<typeof BatchGetItemCommand>[0];
    const sent = fast.send(new BatchGetItemCommand(bad));
    expect(sent).toBeInstanceOf(Promise);
    const byFast = await rejectionOf(sent);
    const bySdk = await rejectionOf(sdk.send(new BatchGetItemCommand(bad)));
    expect((byFast as Error).name).toBe((bySdk as Error).name);
  });

  it("a store that is not there: refused after the client's attempts, transient", async () => {
    const nowhere = withFastDataCalls(dynamoDbClient(`http://127.0.0.1:${await freePort()}`));
    try {
      const input = { TableName: table, Key: { pk: { S: "read" }, sk: { S: "1" } } };
      const error = await rejectionOf(nowhere.send(new GetItemCommand(input)));
      expect((error as { code?: string }).code).toBe("ECONNREFUSED");
      expect((error as { $metadata?: { attempts?: number } }).$metadata?.attempts).toBe(2);
      expect(isTransient(error)).toBe(true);
    } finally {
      nowhere.destroy();
    }
  });
});

/** What the front does with one request: answer it itself, or pass it on and drop the answer (close the socket). */
type Trouble =
  | { status: number; body: string; headers?: Record<string, string> }
  | "lose the answer"
  | "cut the connection";

/** A server in front of DynamoDB Local: its first requests meet `troubles` (one each), the rest are passed on. */
async function front(
  ...troubles: Trouble[]
): Promise<{ url: string; bodies: string[]; headers: http.IncomingHttpHeaders[]; close(): Promise<void> }> {
  const target = new URL(stack.dynamodbEndpoint);
  const bodies: string[] = [];
  const headers: http.IncomingHttpHeaders[] = [];
  const left = [...troubles];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      bodies.push(Buffer.concat(chunks).toString("utf8"));
      headers.push(request.headers);
      const trouble = left.shift();
      if (trouble === "cut the connection") {
        request.socket.destroy();
        return;
      }
      if (trouble !== undefined && trouble !== "lose the answer") {
        response
          .writeHead(trouble.status, { "content-type": "application/x-amz-json-1.0", ...trouble.headers })
          .end(trouble.body);
        return;
      }
      const forwarded = http.request(
        {
          hostname: target.hostname,
          port: target.port,
          path: request.url,
          method: request.method,
          headers: request.headers,
        },
        (answer) => {
          if (trouble === "lose the answer") {
            answer.resume();
            answer.on("end", () => request.socket.destroy());
            return;
          }
          response.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(response);
        },
      );
      forwarded.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    headers,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const json = (type: string, message: string) =>
  JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message });

/** A client for `url` (dummy credentials) with these settings. */
function clientWith(url: string, settings: Partial<ConstructorParameters<typeof DynamoDBClient>[0]>): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "ferry", secretAccessKey: "ferry" },
    maxAttempts: 2,
    ...settings,
  });
}

/** The same call through the fast path and through the SDK, each by a front of its own with the same troubles. */
async function bothThrough<T>(
  troubles: Trouble[],
  call: (client: DynamoDBClient) => Promise<T>,
  clientFor: (url: string) => DynamoDBClient = dynamoDbClient,
): Promise<{
  fast: unknown;
  sdk: unknown;
  fastBodies: string[];
  sdkBodies: string[];
  fastHeaders: http.IncomingHttpHeaders[];
  clients: readonly [DynamoDBClient, DynamoDBClient];
}> {
  const fronts = [await front(...troubles), await front(...troubles)] as const;
  const clients = [withFastDataCalls(clientFor(fronts[0].url)), clientFor(fronts[1].url)] as const;
  const settle = (work: Promise<T>) =>
    work.then(
      (value) => value as unknown,
      (error: unknown) => error,
    );
  try {
    return {
      fast: await settle(call(clients[0])),
      sdk: await settle(call(clients[1])),
      fastBodies: fronts[0].bodies,
      sdkBodies: fronts[1].bodies,
      fastHeaders: fronts[0].headers,
      clients,
    };
  } finally {
    for (const client of clients) client.destroy();
    for (const one of fronts) await one.close();
  }
}

describe("retries are the SDK's", () => {
  const key = { pk: { S: "read" }, sk: { S: "1" } };

  it("a server error is tried again, and answers when the next try does", async () => {
    const {
      fast: byFast,
      sdk: bySdk,
      fastBodies,
    } = await bothThrough([{ status: 500, body: json("InternalServerError", "boom") }], (client) =>
      client.send(new GetItemCommand({ TableName: table, Key: key })),
    );
    expect(bare(byFast as object)).toEqual(bare(bySdk as object));
    expect((byFast as { Item?: unknown }).Item).toBeDefined();
    expect((byFast as { $metadata: { attempts: number } }).$metadata.attempts).toBe(2);
    expect(fastBodies).toHaveLength(2);
  });

  it("an answer that is not JSON (a proxy's error page): tried again, then the status's error, transient", async () => {
    const page = { status: 502, body: "<html><body>Bad Gateway</body></html>" };
    const once = await bothThrough([page], (client) => client.send(new GetItemCommand({ TableName: table, Key: key })));
    expect(bare(once.fast as object)).toEqual(bare(once.sdk as object));
    const always = await bothThrough([page, page], (client) =>
      client.send(new GetItemCommand({ TableName: table, Key: key })),
    );
    const status = (error: unknown) => (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    expect(status(always.fast)).toBe(502);
    expect(status(always.fast)).toBe(status(always.sdk));
    expect((always.fast as { $metadata: { attempts: number } }).$metadata.attempts).toBe(2);
    expect(isTransient(always.fast)).toBe(true);
    expect(isTransient(always.sdk)).toBe(true);
  });

  it("a throttle (by name or by status 429) on every try: the SDK's exception after the client's attempts", async () => {
    const throttle = { status: 400, body: json("ThrottlingException", "slow down") };
    const named = await bothThrough([throttle, throttle], (client) =>
      client.send(new GetItemCommand({ TableName: table, Key: key })),
    );
    expect(seen(named.fast)).toEqual(seen(named.sdk));
    expect((named.fast as Error).name).toBe("ThrottlingException");
    expect((named.fast as { $metadata: { attempts: number } }).$metadata.attempts).toBe(2);
    expect(isTransient(named.fast)).toBe(true);
    const tooMany = { status: 429, body: json("TooManyRequests", "later") };
    const byStatus = await bothThrough([tooMany], (client) =>
      client.send(new GetItemCommand({ TableName: table, Key: key })),
    );
    expect(bare(byStatus.fast as object)).toEqual(bare(byStatus.sdk as object));
    expect(byStatus.fastBodies).toHaveLength(2);
  });

  it("a failed condition is not tried again", async () => {
    const condition = { TableName: table, Item: item("read", "1"), ConditionExpression: "attribute_not_exists(pk)" };
    const {
      fast: byFast,
      sdk: bySdk,
      fastBodies,
    } = await bothThrough([], (client) => client.send(new PutItemCommand(condition)));
    expect(byFast).toBeInstanceOf(ConditionalCheckFailedException);
    expect(seen(byFast)).toEqual(seen(bySdk));
    expect(fastBodies).toHaveLength(1);
  });

  it("a transaction whose answer was lost is tried again with its idempotency token, and applied once", async () => {
    const transaction = (pk: string) =>
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: table, Item: item(pk, "tx"), ConditionExpression: "attribute_not_exists(pk)" } },
          {
            Update: {
              TableName: table,
              Key: { pk: { S: "tx-count" }, sk: { S: pk } },
              UpdateExpression: "ADD #n :one",
              ExpressionAttributeNames: { "#n": "n" },
              ExpressionAttributeValues: { ":one": { N: "1" } },
            },
          },
        ],
      });
    let round = 0;
    const result = await bothThrough(["lose the answer"], (client) =>
      client.send(transaction(round++ === 0 ? "lost-fast" : "lost-sdk")),
    );
    expect(bare(result.fast as object)).toEqual(bare(result.sdk as object));
    const tokens = result.fastBodies.map(
      (body) => (JSON.parse(body) as { ClientRequestToken?: string }).ClientRequestToken,
    );
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(tokens[1]).toBe(tokens[0]);
    for (const pk of ["lost-fast", "lost-sdk"]) {
      const counted = await sdk.send(
        new GetItemCommand({ TableName: table, Key: { pk: { S: "tx-count" }, sk: { S: pk } }, ConsistentRead: true }),
      );
      expect(counted.Item?.n).toEqual({ N: "1" });
    }
    // A token the caller gives is sent as it is.
    const own = await bothThrough([], (client) =>
      client.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: table, Item: item("own-token", "tx") } }],
          ClientRequestToken: "ferry-own-token",
        }),
      ),
    );
    expect(
      own.fastBodies.map((body) => (JSON.parse(body) as { ClientRequestToken?: string }).ClientRequestToken),
    ).toEqual(["ferry-own-token"]);
  });

  it("an abort while waiting to try again ends the call at once", async () => {
    const failing = Array.from({ length: 3 }, () => ({ status: 500, body: json("InternalServerError", "down") }));
    // The abort comes while the client waits to try again: its retry strategy aborts as it sets the wait (ten minutes,
    // which a wait the abort did not end would outlast the test's own timeout). Not a timer: on a loaded machine one
    // can fire before the first try was sent.
    const aborts = new WeakMap<DynamoDBClient, AbortController>();
    const {
      fast: byFast,
      sdk: bySdk,
      fastBodies,
    } = await bothThrough(
      failing,
      (client) =>
        client.send(new GetItemCommand({ TableName: table, Key: key }), { abortSignal: aborts.get(client)?.signal }),
      (url) => {
        const abort = new AbortController();
        const client = clientWith(url, {
          retryStrategy: new ConfiguredRetryStrategy(3, () => {
            abort.abort();
            return 600_000;
          }),
        });
        aborts.set(client, abort);
        return client;
      },
    );
    expect((byFast as Error).name).toBe("AbortError");
    expect((byFast as Error).name).toBe((bySdk as Error).name);
    expect(fastBodies).toHaveLength(1);
  });

  it("uses the client's own retry strategy", async () => {
    const strategy = new ConfiguredRetryStrategy(3, () => 1);
    const refreshed: string[] = [];
    const refresh = strategy.refreshRetryTokenForRetry.bind(strategy);
    strategy.refreshRetryTokenForRetry = (token, info) => {
      refreshed.push(info.errorType);
      return refresh(token, info);
    };
    const down = { status: 503, body: json("ServiceUnavailable", "down") };
    const throttled = { status: 400, body: json("ProvisionedThroughputExceededException", "slow") };
    const { fast: byFast, fastBodies } = await bothThrough(
      [down, throttled],
      (client) => client.send(new GetItemCommand({ TableName: table, Key: key })),
      (url) => clientWith(url, { retryStrategy: strategy }),
    );
    expect((byFast as { $metadata: { attempts: number } }).$metadata.attempts).toBe(3);
    expect(fastBodies).toHaveLength(3);
    // Both clients share the strategy: the fast path's two refreshes, then the SDK's two.
    expect(refreshed).toEqual(["TRANSIENT", "THROTTLING", "TRANSIENT", "THROTTLING"]);
  });

  it("a client given an older kind of retry strategy sends its item calls through the SDK", async () => {
    const legacy = new DeprecatedStandardRetryStrategy(async () => 2);
    const client = withFastDataCalls(clientWith(stack.dynamodbEndpoint, { retryStrategy: legacy }));
    const through: string[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        through.push(String(context.commandName));
        return next(args);
      },
      { step: "initialize" },
    );
    try {
      const out = await client.send(new GetItemCommand({ TableName: table, Key: key }));
      expect(out.Item?.pk).toEqual({ S: "read" });
      expect(through).toEqual(["GetItemCommand"]);
    } finally {
      client.destroy();
    }
  });

  it("a connection cut before the answer: the SDK's TimeoutError, tried again", async () => {
    const once = await bothThrough(["cut the connection"], (client) =>
      client.send(new GetItemCommand({ TableName: table, Key: key })),
    );
    expect(bare(once.fast as object)).toEqual(bare(once.sdk as object));
    const always = await bothThrough(["cut the connection", "cut the connection"], (client) =>
      client.send(new GetItemCommand({ TableName: table, Key: key })),
    );
    const shape = (error: unknown) => {
      const { name, code, $metadata } = error as { name: string; code: string; $metadata: { attempts: number } };
      return { name, code, attempts: $metadata.attempts };
    };
    expect(shape(always.fast)).toEqual(shape(always.sdk));
    expect(shape(always.fast)).toEqual({ name: "TimeoutError", code: "ECONNRESET", attempts: 2 });
    expect(isTransient(always.fast)).toBe(true);
  });

  it("an error named by the x-amzn-errortype header, and a body without an object", async () => {
    const byHeader = {
      status: 400,
      body: JSON.stringify({ message: "named by the header" }),
      headers: { "x-amzn-errortype": "ResourceNotFoundException:http://internal.amazon.com/" },
    };
    const named = await bothThrough([byHeader], (client) =>
      client.send(new GetItemCommand({ TableName: table, Key: key })),
    );
    expect(named.fast).toBeInstanceOf(ResourceNotFoundException);
    expect(seen(named.fast)).toEqual(seen(named.sdk));
    const nothing = await bothThrough([{ status: 400, body: "null" }], (client) =>
      client.send(new GetItemCommand({ TableName: table, Key: key })),
    );
    expect(seen(nothing.fast)).toEqual(seen(nothing.sdk));
  });

  it("corrects its clock by the server's, as the SDK does, and tries again", async () => {
    const serverNow = new Date(Date.now() + 10 * 60_000);
    const skewed = {
      status: 400,
      body: json("InvalidSignatureException", "Signature not yet current"),
      headers: { date: serverNow.toUTCString() },
    };
    const {
      fast: byFast,
      sdk: bySdk,
      fastHeaders,
      clients,
    } = await bothThrough([skewed], (client) => client.send(new GetItemCommand({ TableName: table, Key: key })));
    expect(bare(byFast as object)).toEqual(bare(bySdk as object));
    expect((byFast as { $metadata: { attempts: number } }).$metadata.attempts).toBe(2);
    const stamp = (headers: http.IncomingHttpHeaders | undefined) => {
      const text = String(headers?.["x-amz-date"]);
      return Date.parse(
        `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}T${text.slice(9, 11)}:${text.slice(11, 13)}:${text.slice(13, 15)}Z`,
      );
    };
    // The second try was signed by the server's clock, ten minutes ahead of this one.
    expect(stamp(fastHeaders[1]) - stamp(fastHeaders[0])).toBeGreaterThan(9 * 60_000);
    // Each answer's Date resets the offset (DynamoDB Local's own, after the retry), as the SDK's signer does.
    const [viaFast = 0, viaSdk = 0] = clients.map(
      (client) => (client.config as { systemClockOffset?: number }).systemClockOffset ?? 0,
    );
    expect(Math.abs(viaFast - viaSdk)).toBeLessThan(60_000);
    expect(Math.abs(viaFast)).toBeLessThan(60_000);
  });
});

describe("the rest goes through the SDK", () => {
  it("table calls go through the SDK's middleware; item calls do not", async () => {
    const client = withFastDataCalls(dynamoDbClient(stack.dynamodbEndpoint));
    const through: string[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        through.push(String(context.commandName));
        return next(args);
      },
      { step: "initialize" },
    );
    try {
      await client.send(new DescribeTableCommand({ TableName: table }));
      await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: "read" }, sk: { S: "1" } } }));
      expect(through).toEqual(["DescribeTableCommand"]);
    } finally {
      client.destroy();
    }
  });
});

function bytesOf(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** node:crypto as the SDK's signer takes a hash (an HMAC when given a secret). */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytesOf(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

/** The signature the SDK's own signer (@smithy/signature-v4) computes for the request as the server received it. */
async function sdkSignature(
  received: http.IncomingHttpHeaders,
  body: string,
  port: number,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  region: string,
): Promise<{ given: string; computed: string }> {
  const authorization = String(received.authorization);
  const match = /SignedHeaders=([^,]+), Signature=([0-9a-f]{64})/.exec(authorization);
  if (!match) throw new Error(`not a SigV4 authorization: ${authorization}`);
  const [, signedHeaders = "", given = ""] = match;
  const headers: Record<string, string> = {};
  for (const name of signedHeaders.split(";")) headers[name] = String(received[name]);
  const stamp = String(received["x-amz-date"]);
  const signingDate = new Date(
    `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`,
  );
  const signer = new SignatureV4({
    credentials,
    region,
    service: "dynamodb",
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    { method: "POST", protocol: "http:", hostname: "127.0.0.1", port, path: "/", query: {}, headers, body },
    { signingDate },
  );
  const computed = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1] ?? "";
  return { given, computed };
}

describe("signing", () => {
  it("signs each request as the SDK's signer does, over its host, target, date, token and body", async () => {
    const bodies: string[] = [];
    const headers: http.IncomingHttpHeaders[] = [];
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        bodies.push(Buffer.concat(chunks).toString("utf8"));
        headers.push(request.headers);
        response.writeHead(200, { "content-type": "application/x-amz-json-1.0" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const credentials = {
      accessKeyId: "AKIDEXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      sessionToken: "token/1",
    };
    const client = withFastDataCalls(
      new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: "eu-west-3", credentials }),
    );
    try {
      const out = await client.send(new GetItemCommand({ TableName: "t1", Key: { id: { S: "é" } } }));
      expect(out.Item).toBeUndefined();
      const [sent = {}] = headers;
      expect(sent["x-amz-target"]).toBe("DynamoDB_20120810.GetItem");
      expect(sent["content-type"]).toBe("application/x-amz-json-1.0");
      expect(sent["x-amz-security-token"]).toBe("token/1");
      expect(bodies[0]).toBe(JSON.stringify({ TableName: "t1", Key: { id: { S: "é" } } }));
      const signedHeaders = /SignedHeaders=([^,]+)/.exec(String(sent.authorization))?.[1]?.split(";") ?? [];
      expect(signedHeaders).toEqual(
        expect.arrayContaining(["host", "x-amz-date", "x-amz-target", "x-amz-security-token", "content-type"]),
      );
      const { given, computed } = await sdkSignature(sent, bodies[0] ?? "", port, credentials, "eu-west-3");
      expect(given).toBe(computed);
      // Another secret or another body computes another signature: the check above can fail.
      const wrongSecret = { ...credentials, secretAccessKey: "another secret" };
      expect((await sdkSignature(sent, bodies[0] ?? "", port, wrongSecret, "eu-west-3")).computed).not.toBe(given);
      expect((await sdkSignature(sent, "{}", port, credentials, "eu-west-3")).computed).not.toBe(given);
    } finally {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
