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
    // Without the members' own 5 s limit on control calls, which DynamoDB Local can exceed on CI's loaded cores.
    controlDynamodb: stack.dynamodb(),
    tablePrefix: stack.tablePrefix,
    app,
    refreshMs: 100,
    // However slow the machine, every process of this test counts as live (CI's loaded cores once let both
    // heartbeats age past the 3 s default, and the fleet read as empty).
    staleAfterMs: 600_000,
  });
  members.push(created);
  return created;
}

describe("ids while the fleet moves to phase 4", () => {
  it("phase 4's first id continues MySQL's sequence: the barrier lets the last phase-3 write finish first", async () => {
    const tablePrefix = `${stack.tablePrefix}ids_`;
    await applyTables(stack.dynamodb(), contract, { prefix: tablePrefix });
    const fast = new FleetMember({
      contract,
      mysql: pool,
      dynamodb: stack.dynamodb(),
      controlDynamodb: stack.dynamodb(),
      tablePrefix,
      app: "store-fast",
      refreshMs: 100,
      // However slow the machine, every process of this test counts as live.
      staleAfterMs: 600_000,
    });
    members.push(fast);
    await fast.start();
    // Another process of the fleet, which will be in the middle of a phase-3 write when the move is announced.
    const other = new CachedPhase(fast.phaseStore, { app: "store-other", refreshMs: 100, staleAfterMs: 600_000 });
    await other.start();
    try {
      await fast.phaseStore.set(3, { who: "operator@test", force: true, reason: "test: straight to phase 3" });
      await other.refresh();
      const write = await other.beginWrite();
      expect(write.phase).toBe(3);
      let draining: () => void = () => {};
      const drained = new Promise<void>((resolve) => {
        draining = resolve;
      });
      const moving = fast.phaseStore.set(4, {
        who: "operator@test",
        force: true,
        reason: "test: to phase 4",
        waitMs: 240_000,
        onProgress: (progress) => {
          if (progress.waitingFor.length === 1 && progress.waitingFor[0]?.includes("1 write in flight under phase 3")) {
            draining();
          }
        },
      });
      await drained;
      // The write in flight lets MySQL hand out an id, then finishes.
      const [result] = (await pool.query(
        "INSERT INTO users (username, email, password_hash, first_name) VALUES ('laggard', 'laggard@example.com', 'x', 'Lag')",
      )) as unknown as [{ insertId: number }];
      write.done();
      expect((await moving).phase).toBe(4);
      await expect.poll(() => fast.phase.phase()).toBe(4);

      const user = await createStore(fast.storeOptions).users.create({
        username: "ids_1",
        email: "ids_1@example.com",
        passwordHash: "scrypt$x",
        firstName: "Ids",
      });
      expect(user.id).toBe(BigInt(result.insertId) + 1n);
      expect(user.id).toBe(await new MysqlEntityStore(pool, fast.codec).highestId("User"));
    } finally {
      await other.stop();
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
    await expect.poll(() => [a.phase.phase(), b.phase.phase()]).toEqual([2, 2]);
    await expect.poll(async () => (await a.phaseStore.fleet()).allCurrent).toBe(true);

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
