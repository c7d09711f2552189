import { type AddressInfo, createServer, type Socket } from "node:net";
import { dynamoDbClient } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it, onTestFinished } from "vitest";
import { DynamoEntityStore } from "../src/dynamodb/index.ts";
import { IdAllocator } from "../src/ids/index.ts";
import { Metrics } from "../src/metrics/index.ts";
import { MysqlEntityStore } from "../src/mysql/index.ts";
import type { Phase, PhaseSource } from "../src/phases.ts";
import { CursorStoreChanged, EntityRouter, type SecondaryFailure } from "../src/router/index.ts";
import { type Mismatch, ShadowReader, withCorrelationId } from "../src/shadow/index.ts";
import { SettablePhase, useContractStores } from "../src/testing.ts";

const stack = useTestStack();

const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
const failures: SecondaryFailure[] = [];
const phase = new SettablePhase(1);

function router(options: { tablePrefix?: string } = {}) {
  const codec = testbed.codec();
  return new EntityRouter({
    phase,
    codec,
    mysql: new MysqlEntityStore(testbed.connection(), codec),
    dynamodb: new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: options.tablePrefix ?? stack.tablePrefix }),
    onSecondaryFailure: (failure) => failures.push(failure),
  });
}

const stores = () => testbed.stores();

const user = (n: number) => ({
  username: `router_${n}`,
  email: `router_${n}@example.com`,
  passwordHash: "scrypt$x",
  firstName: "Ro",
  lastName: null,
  isSeller: false,
});

describe("the router", () => {
  it("phase 1 writes and reads MySQL only", async () => {
    phase.value = 1;
    const created = await router().create("User", user(1));
    expect(typeof created.id).toBe("bigint");
    expect(await stores().dynamodb.get("User", { id: created.id })).toBeUndefined();
    expect((await router().get("User", { id: created.id }))?.username).toBe("router_1");
  });

  it("phase 2 writes MySQL then DynamoDB with the same id, reads MySQL; updates and deletes reach both", async () => {
    phase.value = 2;
    const r = router();
    const created = await r.create("User", user(2));
    const { mysql, dynamodb } = stores();
    expect((await dynamodb.get("User", { id: created.id }))?.email).toBe("router_2@example.com");
    await r.update("User", { id: created.id }, { firstName: "Changed" });
    const inMysql = await mysql.get("User", { id: created.id });
    const inDynamo = await dynamodb.get("User", { id: created.id });
    expect(inMysql?.firstName).toBe("Changed");
    expect(inDynamo?.firstName).toBe("Changed");
    // ON UPDATE updated_at: one value written to both stores, not each server's clock.
    expect(inDynamo?.updatedAt).toBe(inMysql?.updatedAt);
    expect(inMysql?.updatedAt).not.toBe(created.updatedAt);
    expect(await r.delete("User", { id: created.id })).toBe(true);
    expect(await mysql.get("User", { id: created.id })).toBeUndefined();
    expect(await dynamodb.get("User", { id: created.id })).toBeUndefined();
    expect(failures).toEqual([]);
  });

  it("phases 4 and 5 read DynamoDB; phase 5 leaves MySQL alone", async () => {
    phase.value = 2;
    const created = await router().create("User", user(4));
    await testbed.connection().query("UPDATE users SET first_name = 'OnlyInMysql' WHERE id = ?", [String(created.id)]);
    phase.value = 4;
    expect((await router().get("User", { id: created.id }))?.firstName).toBe("Ro");
    await router().update("User", { id: created.id }, { firstName: "Four" });
    expect((await stores().mysql.get("User", { id: created.id }))?.firstName).toBe("Four");
    phase.value = 5;
    await router().update("User", { id: created.id }, { firstName: "Five" });
    expect((await stores().mysql.get("User", { id: created.id }))?.firstName).toBe("Four");
    expect((await router().get("User", { id: created.id }))?.firstName).toBe("Five");
  });

  it("a failed secondary write does not fail the call and is handed over for replay", async () => {
    phase.value = 2;
    const broken = router({ tablePrefix: `${stack.tablePrefix}missing_` });
    const created = await broken.create("User", user(6));
    expect((await stores().mysql.get("User", { id: created.id }))?.username).toBe("router_6");
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      entity: "User",
      operation: "create",
      store: "dynamodb",
      key: { id: created.id },
    });
    failures.length = 0;
  });

  it("a cursor from one store is refused after the phase moved reads to the other", async () => {
    phase.value = 2;
    const r = router();
    const first = await r.list("Category", { index: "GSI1", values: {}, limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.cursor).toBeDefined();
    phase.value = 4;
    await expect(
      r.list("Category", { index: "GSI1", values: {}, limit: 2, cursor: first.cursor }),
    ).rejects.toBeInstanceOf(CursorStoreChanged);
  });

  it("a write in flight while the phase changes lands on every store its phase named (the phase is read once per call)", async () => {
    // The phase moves on right after the router read it: 1 -> 2, 2 -> 3, 3 -> 4, 4 -> 5.
    for (const from of [1, 2, 3, 4] as const) {
      let reads = 0;
      const moving: PhaseSource = { phase: () => (reads++ === 0 ? from : ((from + 1) as Phase)) };
      const codec = testbed.codec();
      const r = new EntityRouter({
        phase: moving,
        codec,
        mysql: new MysqlEntityStore(testbed.connection(), codec),
        dynamodb: new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: stack.tablePrefix }),
        ids: new IdAllocator(stack.dynamodb(), { tablePrefix: stack.tablePrefix }),
        onSecondaryFailure: (failure) => failures.push(failure),
      });
      const created = await r.create("User", user(20 + from));
      const { mysql, dynamodb } = stores();
      const inMysql = await mysql.get("User", { id: created.id });
      const inDynamo = await dynamodb.get("User", { id: created.id });
      // Phase 1 writes MySQL only (the backfill, started once the fleet is in phase 2, copies it); 2-4 write both.
      expect(inMysql, `from phase ${from}`).toBeDefined();
      if (from === 1) expect(inDynamo).toBeUndefined();
      else expect(codec.entity("User").diff(inMysql ?? {}, inDynamo ?? {}), `from phase ${from}`).toEqual([]);
    }
    expect(failures).toEqual([]);
  });

  it("phase 3 serves MySQL, compares DynamoDB after normalisation, and records a field-level mismatch", async () => {
    phase.value = 2;
    const created = await router().create("User", user(30));
    // DynamoDB drifts behind the router's back.
    await stores().dynamodb.update("User", { id: created.id }, { firstName: "Drifted" });
    phase.value = 3;
    const metrics = new Metrics();
    const mismatches: Mismatch[] = [];
    const shadow = new ShadowReader({
      codec: testbed.codec(),
      metrics,
      sampleRate: () => 1,
      // Generous: a DynamoDB Local busy with other suites must not turn the comparison into a timeout.
      budgetMs: 10_000,
      sink: { record: (mismatch) => void mismatches.push(mismatch) },
    });
    const codec = testbed.codec();
    const r = new EntityRouter({
      phase,
      codec,
      mysql: new MysqlEntityStore(testbed.connection(), codec),
      dynamodb: new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: stack.tablePrefix }),
      onSecondaryFailure: (failure) => failures.push(failure),
      metrics,
      shadow,
    });
    const served = await withCorrelationId("req-30", () => r.get<{ firstName: string }>("User", { id: created.id }));
    expect(served?.firstName).toBe("Ro");
    await shadow.idle();
    expect(mismatches).toHaveLength(1);
    expect(mismatches[0]).toMatchObject({
      entity: "User",
      servedBy: "mysql",
      shadowFrom: "dynamodb",
      correlationId: "req-30",
      fields: [{ field: "firstName", served: "Ro", shadow: "Drifted" }],
    });
    // Equal values: a comparison, no mismatch; every store call is timed.
    await r.list("Category", { index: "GSI1", values: {}, limit: 5 });
    await shadow.idle();
    expect(shadow.counters.comparisons.value({ entity: "User" })).toBe(1);
    const text = metrics.prometheus();
    expect(text).toMatch(/ferry_store_request_seconds_count\{store="mysql",operation="get"\} 1/);
    expect(text).toMatch(/ferry_store_request_seconds_count\{store="dynamodb",operation="get"\} 1/);
    await shadow.stop();
  });

  it("phase 3: a DynamoDB that never answers does not hold the response past the shadow budget", async () => {
    // A port that accepts connections and never answers.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address() as AddressInfo;
    const hanging = dynamoDbClient(`http://127.0.0.1:${address.port}`);
    onTestFinished(async () => {
      hanging.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    phase.value = 3;
    const codec = testbed.codec();
    const metrics = new Metrics();
    const shadow = new ShadowReader({ codec, metrics, sampleRate: () => 1, budgetMs: 50, sink: { record: () => {} } });
    const r = new EntityRouter({
      phase,
      codec,
      mysql: new MysqlEntityStore(testbed.connection(), codec),
      dynamodb: new DynamoEntityStore(hanging, codec, { tablePrefix: stack.tablePrefix }),
      onSecondaryFailure: (failure) => failures.push(failure),
      shadow,
    });
    const [first] = (await testbed.connection().query("SELECT id FROM users ORDER BY id LIMIT 1")) as unknown as [
      Array<{ id: string }>,
    ];
    const started = performance.now();
    const served = await r.get("User", { id: BigInt(first[0]?.id ?? "1") });
    const elapsed = performance.now() - started;
    expect(served).toBeDefined();
    // Served by MySQL while the shadow read still hangs; it is given up at the budget and counted.
    await expect.poll(() => shadow.counters.timeouts.value({ entity: "User" }), { timeout: 10_000 }).toBe(1);
    expect(elapsed).toBeLessThan(5_000);
    // The hanging request itself is given up (aborted), not left to pile up.
    await expect.poll(() => shadow.state().inFlight, { timeout: 10_000 }).toBe(0);
  });

  it("refuses a duplicate email in phase 5 as in phase 1", async () => {
    phase.value = 1;
    await router().create("User", { ...user(7), email: "dup@example.com" });
    await expect(router().create("User", { ...user(8), email: "dup@example.com" })).rejects.toMatchObject({
      name: "UniqueViolation",
    });
    phase.value = 5;
    const stored = await router().create("User", { ...user(9), id: 900_000n, email: "dup5@example.com" });
    // MySQL's column defaults, applied by the router when DynamoDB is authoritative.
    expect(stored.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(stored.isSeller).toBe(false);
    await expect(
      router().create("User", { ...user(10), id: 900_001n, email: "dup5@example.com" }),
    ).rejects.toMatchObject({
      name: "UniqueViolation",
    });
  });
});
