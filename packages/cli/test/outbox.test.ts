/**
 * `ferry outbox status | drain` as a user runs them (a separate process), on real MariaDB and DynamoDB Local: a write
 * DynamoDB missed in phase 2 waits in MySQL's outbox, status shows it, drain replays it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  applyTables,
  createCodec,
  DynamoEntityStore,
  EntityRouter,
  MysqlEntityStore,
  Outbox,
  PhaseStore,
} from "@ferry/runtime";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { contract } from "@ferry/store-data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./run-cli.ts";

const stack = useTestStack();
const emptyHome = mkdtempSync(join(tmpdir(), "ferry-outbox-home-"));
const unreachable = new DynamoDBClient({
  endpoint: "http://127.0.0.1:9",
  region: "us-east-1",
  credentials: { accessKeyId: "ferry", secretAccessKey: "ferry" },
  maxAttempts: 1,
});
afterAll(() => {
  unreachable.destroy();
  rmSync(emptyHome, { recursive: true, force: true });
});

const env = () => ({
  MYSQL_URL: stack.mysqlUrl,
  DYNAMODB_ENDPOINT: stack.dynamodbEndpoint,
  FERRY_TABLE_PREFIX: stack.tablePrefix,
  FERRY_HOME: emptyHome,
});

beforeAll(async () => {
  await seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } });
  await applyTables(stack.dynamodb(), contract, { prefix: stack.tablePrefix });
});

describe("ferry outbox", () => {
  it("shows the writes DynamoDB missed, replays them, and says when nothing is left", async () => {
    const phases = new PhaseStore(stack.dynamodb(), { tablePrefix: stack.tablePrefix });
    await phases.set(2, { who: "tester", reason: "dual writes" });
    const codec = createCodec(contract);
    const mysql = new MysqlEntityStore(await stack.mysql(), codec);
    const outbox = new Outbox({
      phase: { phase: () => 2 },
      codec,
      mysql,
      dynamodb: new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: stack.tablePrefix }),
      mysqlConnection: await stack.mysql(),
      controlTable: { client: stack.dynamodb(), tablePrefix: stack.tablePrefix },
    });
    // The app, while DynamoDB cannot be reached: the request succeeds and the write waits in the outbox.
    const router = new EntityRouter({
      phase: { phase: () => 2 },
      codec,
      mysql,
      dynamodb: new DynamoEntityStore(unreachable, codec, { tablePrefix: stack.tablePrefix }),
      onSecondaryFailure: outbox.record,
    });
    const created = await router.create("User", {
      username: "missed",
      email: "missed@example.com",
      passwordHash: "scrypt$x",
      firstName: "Missed",
    });

    const status = await runCli(["outbox", "status", "--json"], env());
    expect(status.stderr).toBe("");
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      phase: 2,
      dynamodb: { depth: 1, readable: 1 },
      mysql: { depth: 0 },
    });
    const text = await runCli(["outbox", "status"], env());
    expect(text.stdout).toMatch(/for dynamodb +1 waiting, oldest [\d.]+ s +\(MySQL table `ferry_outbox`\)/);

    const drained = await runCli(["outbox", "drain", "--quiet"], env());
    expect(drained.code).toBe(0);
    expect(drained.stdout).toContain("replayed 1; 0 left for dynamodb");
    const onDynamo = new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: stack.tablePrefix });
    expect(codec.entity("User").diff((await onDynamo.get("User", { id: created.id })) ?? {}, created)).toEqual([]);
    expect(JSON.parse((await runCli(["outbox", "status", "--json"], env())).stdout).dynamodb.depth).toBe(0);
  });

  it("says what is wrong with a contract it cannot use", async () => {
    const result = await runCli(["outbox", "status", "--contract", "nowhere.yaml"], env());
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/nowhere\.yaml/);
  });
});
