/**
 * Two processes of the fleet (FleetMember + the generated createStore) on real MariaDB and DynamoDB Local: an
 * operator's phase change reaches both, their writes follow it, and /metrics shows the phase, the outbox and the
 * store calls.
 */
import { applyTables, CachedPhase, FleetMember, MysqlEntityStore } from "@ferry/runtime";
import { createMysqlPool } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { contract, createDynamoStore, createStore } from "@ferry/store-data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const stack = useTestStack();
let pool: ReturnType<typeof createMysqlPool>;
const members: FleetMember[] = [];

beforeAll(async () => {
  await seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } });
  await applyTables(stack.dynamodb(), contract, { prefix: stack.tablePrefix });
  pool = createMysqlPool(stack.mysqlUrl, { connectionLimit: 6 });
});
afterAll(async () => {
  for (const member of members) await member.stop();
  await pool.end();
});

function member(app: string): FleetMember {
  const created = new FleetMember({
    contract,
    mysql: pool,
    dynamodb: stack.dynamodb(),
    tablePrefix: stack.tablePrefix,
    app,
    refreshMs: 100,
  });
  members.push(created);
  return created;
}

describe("ids while the fleet moves to phase 4", () => {
  it("a phase-4 create waits until no process still lets MySQL hand out ids, then continues MySQL's sequence", async () => {
    const tablePrefix = `${stack.tablePrefix}ids_`;
    await applyTables(stack.dynamodb(), contract, { prefix: tablePrefix });
    const fast = new FleetMember({
      contract,
      mysql: pool,
      dynamodb: stack.dynamodb(),
      tablePrefix,
      app: "store-fast",
      refreshMs: 100,
      // The slow process below heartbeats only when the test refreshes it: never take it for gone here.
      staleAfterMs: 600_000,
    });
    members.push(fast);
    await fast.start();
    // A process that read the phase once and has not refreshed since (a long GC pause, a slow deploy).
    const slow = new CachedPhase(fast.phaseStore, { app: "store-slow", refreshMs: 3_600_000 });
    await slow.start();
    try {
      await fast.phaseStore.set(3, { who: "operator@test", force: true, reason: "test: straight to phase 3" });
      await slow.refresh();
      await expect.poll(() => fast.phase.phase(), { timeout: 10_000 }).toBe(3);
      await fast.phaseStore.set(4, { who: "operator@test", force: true, reason: "test: to phase 4" });
      await expect.poll(() => fast.phase.phase(), { timeout: 10_000 }).toBe(4);
      expect(slow.phase()).toBe(3);

      const store = createStore(fast.storeOptions);
      let created = false;
      const creating = store.users
        .create({ username: "ids_1", email: "ids_1@example.com", passwordHash: "scrypt$x", firstName: "Ids" })
        .then((user) => {
          created = true;
          return user;
        });
      // The slow process, still in phase 3, lets MySQL hand out an id meanwhile.
      const [result] = (await pool.query(
        "INSERT INTO users (username, email, password_hash, first_name) VALUES ('laggard', 'laggard@example.com', 'x', 'Lag')",
      )) as unknown as [{ insertId: number }];
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(created).toBe(false);
      await slow.refresh();
      const user = await creating;
      expect(user.id).toBeGreaterThan(BigInt(result.insertId));
      expect(user.id).toBe(await new MysqlEntityStore(pool, fast.codec).highestId("User"));
    } finally {
      await slow.stop();
    }
  });
});

describe("a fleet of two store processes", () => {
  it("follows an operator's phase change, writes both stores in phase 2, and reports it at /metrics", async () => {
    const a = member("store-a");
    const b = member("store-b");
    await a.start();
    await b.start();
    const storeA = createStore(a.storeOptions);
    const storeB = createStore(b.storeOptions);
    const onDynamo = createDynamoStore({ dynamodb: stack.dynamodb(), tablePrefix: stack.tablePrefix });

    expect(a.phase.phase()).toBe(1);
    const before = await storeA.users.create({
      username: "fleet_1",
      email: "fleet_1@example.com",
      passwordHash: "scrypt$x",
      firstName: "Fleet",
    });
    expect(await onDynamo.users.get({ id: before.id })).toBeUndefined();

    await a.phaseStore.set(2, { who: "operator@test", reason: "start dual writes" });
    await expect.poll(() => [a.phase.phase(), b.phase.phase()], { timeout: 10_000 }).toEqual([2, 2]);
    await expect.poll(async () => (await a.phaseStore.fleet()).allCurrent, { timeout: 10_000 }).toBe(true);

    const after = await storeB.users.create({
      username: "fleet_2",
      email: "fleet_2@example.com",
      passwordHash: "scrypt$x",
      firstName: "Fleet",
    });
    expect(await onDynamo.users.get({ id: after.id })).toEqual(after);

    const text = await a.metrics.scrape();
    expect(text).toContain("ferry_phase 2");
    expect(text).toMatch(/ferry_outbox_depth\{store="dynamodb"\} 0/);
    expect(text).toMatch(/ferry_store_request_seconds_count\{store="mysql",operation="create"\} 1/);
    const view = await a.phaseStore.fleet();
    expect(view.instances.map((instance) => instance.app).sort()).toEqual(["store-a", "store-b"]);
  });
});
