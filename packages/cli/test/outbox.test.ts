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
import { createMysqlPool } from "@ferry/stack";
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
// The outbox's own connections (not the one its store runs transactions on).
let pool: ReturnType<typeof createMysqlPool> | undefined;
const outboxPool = () => {
  pool ??= createMysqlPool(stack.mysqlUrl, { connectionLimit: 2 });
  return pool;
};
afterAll(async () => {
  await pool?.end();
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
      mysqlConnection: outboxPool(),
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

  it("shows stranded entries after a forced move and resolves them from the store named, with the diff", async () => {
    const phases = new PhaseStore(stack.dynamodb(), { tablePrefix: stack.tablePrefix });
    await phases.set(3, { who: "tester", reason: "shadow reads", force: true });
    const codec = createCodec(contract);
    const mysql = new MysqlEntityStore(await stack.mysql(), codec);
    const onDynamo = new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: stack.tablePrefix });
    const outbox = new Outbox({
      phase: { phase: () => 3 },
      codec,
      mysql,
      dynamodb: onDynamo,
      mysqlConnection: outboxPool(),
      controlTable: { client: stack.dynamodb(), tablePrefix: stack.tablePrefix },
    });
    const router = new EntityRouter({
      phase: { phase: () => 3 },
      codec,
      mysql,
      dynamodb: onDynamo,
      onSecondaryFailure: outbox.record,
    });
    const created = await router.create("User", {
      username: "stranded",
      email: "stranded@example.com",
      passwordHash: "scrypt$x",
      firstName: "Before",
    });
    // DynamoDB misses an update in phase 3; the phase is then forced to 4 before it is replayed.
    const missing = new EntityRouter({
      phase: { phase: () => 3 },
      codec,
      mysql,
      dynamodb: new DynamoEntityStore(unreachable, codec, { tablePrefix: stack.tablePrefix }),
      onSecondaryFailure: outbox.record,
    });
    await missing.update("User", { id: created.id }, { firstName: "After", passwordHash: "scrypt$new-secret" });
    await outbox.flushed();
    await phases.set(4, { who: "tester", reason: "forced past the outbox", force: true });

    const status = await runCli(["outbox", "status"], env());
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      /for dynamodb +1 waiting, oldest [\d.]+ s, 1 STRANDED +\(MySQL table `ferry_outbox`\)/,
    );
    expect(status.stdout).toContain(
      "1 entries for dynamodb are STRANDED: they were recorded while dynamodb was the secondary store, and dynamodb is authoritative in phase 4.",
    );

    const missingFrom = await runCli(["outbox", "resolve"], env());
    expect(missingFrom.code).toBe(1);
    expect(missingFrom.stderr).toContain("required option '--from <store>' not specified");
    const badEntity = await runCli(["outbox", "resolve", "--from", "mysql", "--entity", "Nope"], env());
    expect(badEntity.code).toBe(1);
    expect(badEntity.stderr).toContain("the contract has no entity 'Nope'");

    const resolved = await runCli(["outbox", "resolve", "--from", "mysql", "--quiet"], env());
    expect(resolved.code).toBe(0);
    expect(resolved.stdout).toContain(`User {"id":"${created.id}"}\n  passwordHash: mysql hidden #`);
    expect(resolved.stdout).toContain("\n  firstName: mysql After  dynamodb Before");
    // A sensitive attribute's values are never printed: two different tags.
    expect(resolved.stdout).not.toContain("secret");
    expect(resolved.stdout).not.toContain("scrypt$x");
    expect(resolved.stdout).toMatch(
      /passwordHash: mysql hidden #([0-9a-f]{8}) {2}dynamodb hidden #(?!\1)[0-9a-f]{8}\n/,
    );
    expect(resolved.stdout).toContain("  updated on dynamodb\n1 keys resolved from mysql, 0 failed");
    expect((await onDynamo.get("User", { id: created.id }))?.firstName).toBe("After");
    const after = JSON.parse((await runCli(["outbox", "status", "--json"], env())).stdout);
    expect(after.dynamodb).toMatchObject({ depth: 0, stranded: 0, stuck: 0, stuckEntries: [] });
  });

  it("says what is wrong with a contract it cannot use", async () => {
    const result = await runCli(["outbox", "status", "--contract", "nowhere.yaml"], env());
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/nowhere\.yaml/);
  });
});
