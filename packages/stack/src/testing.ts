/**
 * For test files: `useTestStack()` gives the file its own MySQL database and DynamoDB table prefix
 * on the run's stack, and removes both when the file is done, so files run in parallel and leave
 * nothing behind.
 */
import { randomBytes } from "node:crypto";
import { basename } from "node:path";
import { DeleteTableCommand, type DynamoDBClient, paginateListTables } from "@aws-sdk/client-dynamodb";
import type { Connection } from "mysql2/promise";
import { afterAll, beforeAll, expect, inject } from "vitest";
import { dynamoDbClient } from "./dynamodb.ts";
import { connectMysql, withDatabase } from "./mysql.ts";
// Brings in the `ferryStack` entry of vitest's ProvidedContext.
import type {} from "./test-global-setup.ts";

export interface TestStack {
  /** URL of this file's own database. */
  readonly mysqlUrl: string;
  /** URL of the server without a database, for tests that make more databases (name them with `name()`). */
  readonly serverUrl: string;
  readonly database: string;
  readonly dynamodbEndpoint: string;
  /** Prefix for every DynamoDB table this file makes. */
  readonly tablePrefix: string;
  /** A connection to this file's database, opened on first use and closed after the file. */
  mysql(): Promise<Connection>;
  dynamodb(): DynamoDBClient;
  /** A further name unique to this file (for extra databases), removed after the file too. */
  name(suffix: string): string;
}

export function useTestStack(): TestStack {
  const provided = inject("ferryStack");
  const file = expect.getState().testPath ?? "suite";
  const slug = basename(file)
    .replace(/\.test\.ts$/, "")
    .replace(/[^a-zA-Z0-9]+/g, "_")
    .slice(0, 24)
    .toLowerCase();
  const id = `${provided.runPrefix}_${slug}_${randomBytes(3).toString("hex")}`;
  const database = id;
  let connection: Connection | undefined;
  let client: DynamoDBClient | undefined;
  const extra: string[] = [];

  beforeAll(async () => {
    const admin = await connectMysql(provided.mysqlUrl);
    try {
      await admin.query(`CREATE DATABASE ${admin.escapeId(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    } finally {
      await admin.end();
    }
  });

  afterAll(async () => {
    await connection?.end();
    const admin = await connectMysql(provided.mysqlUrl);
    try {
      for (const db of [database, ...extra]) await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeId(db)}`);
    } finally {
      await admin.end();
    }
    const dynamo = client ?? dynamoDbClient(provided.dynamodbEndpoint);
    for await (const page of paginateListTables({ client: dynamo }, {})) {
      for (const table of page.TableNames ?? []) {
        if (table.startsWith(`${id}_`)) await dynamo.send(new DeleteTableCommand({ TableName: table }));
      }
    }
    dynamo.destroy();
  });

  return {
    mysqlUrl: withDatabase(provided.mysqlUrl, database),
    serverUrl: provided.mysqlUrl,
    database,
    dynamodbEndpoint: provided.dynamodbEndpoint,
    tablePrefix: `${id}_`,
    async mysql() {
      connection ??= await connectMysql(withDatabase(provided.mysqlUrl, database), { multipleStatements: true });
      return connection;
    },
    dynamodb() {
      client ??= dynamoDbClient(provided.dynamodbEndpoint);
      return client;
    },
    name(suffix: string) {
      const name = `${id}_${suffix}`;
      extra.push(name);
      return name;
    },
  };
}

// For tests that need servers of their own, to stop and start again (the run's shared stack serves other files).
export { type RunningDynamoDb, startDynamoDb } from "./dynamodb.ts";
export { type RunningMariaDb, startMariaDb } from "./mysql.ts";
export { freePort, stopProcess } from "./processes.ts";
