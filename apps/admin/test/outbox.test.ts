/**
 * The outbox page on real MariaDB and DynamoDB Local: writes DynamoDB missed (a router whose DynamoDB cannot be
 * reached) wait in MySQL's outbox; the page shows them; "Drain now" replays them (the runtime's drainNow, as `ferry
 * outbox drain`) and the items are there; each step is in the audit trail.
 */
import { applyTables, createCodec, DynamoEntityStore, EntityRouter, MysqlEntityStore, Outbox } from "@ferry/runtime";
import { createMysqlPool, dynamoDbClient } from "@ferry/stack";
import { freePort, useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { contract } from "@ferry/store-data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleStores } from "../src/index.ts";
import { form, json, readable, testConsole } from "./console.ts";

const stack = useTestStack();
const codec = createCodec(contract);
let pool: ReturnType<typeof createMysqlPool>;

beforeAll(async () => {
  await seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } });
  pool = createMysqlPool(stack.mysqlUrl, { connectionLimit: 6 });
});
afterAll(async () => {
  await pool?.end();
});

interface Status {
  phase: number;
  secondary: string | null;
  metrics: { dynamodb: { depth: number; stuck: number }; mysql: { depth: number } };
  drain: { state: string; message: string; who: string } | null;
}

describe("the outbox page", () => {
  it("shows the writes DynamoDB missed, drains them now, and the items are there", async () => {
    const tablePrefix = `${stack.tablePrefix}outbox_`;
    await applyTables(stack.dynamodb(), contract, { prefix: tablePrefix });
    const console = await testConsole(stack, "outbox", {
      stores: consoleStores({ contract, mysql: pool, client: stack.dynamodb(), tablePrefix }),
    });
    const ada = await console.logIn("ada");
    const val = await console.logIn("val");
    await console.phases.set(2, { who: "ada", force: true, reason: "test setup" });

    // An app in phase 2 whose DynamoDB is out of reach: MySQL takes each write, the outbox keeps what DynamoDB missed.
    const unreachable = dynamoDbClient(`http://127.0.0.1:${await freePort()}`);
    const phase = { phase: () => 2 as const };
    const mysql = new MysqlEntityStore(pool, codec);
    const outbox = new Outbox({
      phase,
      codec,
      mysql,
      dynamodb: new DynamoEntityStore(unreachable, codec, { tablePrefix }),
      mysqlConnection: pool,
      controlTable: { client: stack.dynamodb(), tablePrefix },
      log: () => {},
    });
    const router = new EntityRouter({
      phase,
      codec,
      mysql,
      dynamodb: new DynamoEntityStore(unreachable, codec, { tablePrefix }),
      onSecondaryFailure: outbox.record,
    });
    const users = [];
    for (const name of ["ob1", "ob2", "ob3"]) {
      users.push(
        await router.create("User", {
          username: `${name}-${tablePrefix}`.slice(0, 40),
          email: `${name}@outbox.test`,
          passwordHash: "x",
          firstName: "Out",
          lastName: "Box",
        }),
      );
    }
    await outbox.flushed();
    unreachable.destroy();

    const status = async () => (await (await console.request("/api/outbox", { cookie: val })).json()) as Status;
    const before = await status();
    expect(before.phase).toBe(2);
    expect(before.secondary).toBe("dynamodb");
    expect(before.metrics.dynamodb.depth).toBe(3);
    expect(before.metrics.mysql.depth).toBe(0);
    expect(before.drain).toBeNull();
    const viewerPage = readable(await (await console.request("/outbox", { cookie: val })).text());
    expect(viewerPage).toContain("Phase 2: replays go to DynamoDB");
    expect(viewerPage).toMatch(/DynamoDB 3 \d+ s 0 0 0 0 MySQL table `ferry_outbox`/);
    expect(viewerPage).toContain("Draining needs the operator role.");
    expect((await console.request("/outbox/drain", { cookie: val, ...form({}) })).status).toBe(403);
    expect((await console.request("/api/outbox/drain", { cookie: val, ...json({}) })).status).toBe(403);

    const drain = await console.request("/outbox/drain", { cookie: ada, ...form({}) });
    expect(drain.status).toBe(303);
    expect(drain.headers.get("location")).toBe("/outbox?done=drain");
    console.clock.now += 1000; // the trail's clock: its entries keep their order
    let after = await status();
    for (const deadline = Date.now() + 240_000; after.drain?.state === "running" && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await status();
    }
    expect(after.drain).toMatchObject({ state: "done", who: "ada", message: "replayed 3 to dynamodb; 0 left" });
    expect(after.metrics.dynamodb.depth).toBe(0);
    const dynamodb = new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix });
    for (const user of users) expect(await dynamodb.get("User", { id: user.id })).toEqual(user);

    const trail = await console.trail.page({ kind: "outbox" });
    expect(trail.entries.map((entry) => [entry.who, entry.what]).reverse()).toEqual([
      ["ada", "drain started (replays to dynamodb, phase 2)"],
      ["ada", "drain done: replayed 3 to dynamodb; 0 left"],
    ]);

    await console.phases.set(1, { who: "ada", force: true, reason: "test setup" });
    const refused = await console.request("/api/outbox/drain", { cookie: ada, ...json({}) });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
      "Phase 1 writes one store only: there is nothing to replay to.",
    );
    expect(readable(await (await console.request("/outbox", { cookie: ada })).text())).toContain(
      "Phase 1 writes one store only: there is nothing to replay to.",
    );
  });
});
