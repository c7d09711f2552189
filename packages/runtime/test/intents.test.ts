/**
 * Write intents (src/outbox/intents.ts) in a running process: every write copied to a secondary store records its
 * outbox entry with the authoritative write, not yet due; a write that settled removes it; a copy that failed makes it
 * due at once, and a drain replays it; an authoritative write that failed leaves none behind.
 */
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it } from "vitest";
import { DynamoEntityStore } from "../src/dynamodb/index.ts";
import { ConditionFailed } from "../src/errors.ts";
import { IdAllocator } from "../src/ids/index.ts";
import { MysqlEntityStore } from "../src/mysql/index.ts";
import { MysqlOutboxStorage, Outbox } from "../src/outbox/index.ts";
import type { Phase } from "../src/phases.ts";
import { EntityRouter } from "../src/router/index.ts";
import { SettablePhase, useContractStores } from "../src/testing/index.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});

/** A router with write intents and its outbox, in `phase`; `failing` names a store whose writes all fail. */
async function setUp(phase: Phase, failing?: "mysql" | "dynamodb") {
  const codec = testbed.codec();
  const mysql = new MysqlEntityStore(await stack.mysql(), codec);
  const dynamodb = new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: stack.tablePrefix });
  const source = new SettablePhase(phase);
  const outbox = new Outbox({
    phase: source,
    codec,
    mysql,
    dynamodb,
    mysqlConnection: testbed.pool(),
    controlTable: { client: stack.dynamodb(), tablePrefix: stack.tablePrefix },
    log: () => {},
  });
  const broken = <T extends object>(store: T): T =>
    new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        if (["create", "update", "delete", "transact", "transaction"].includes(String(property))) {
          return async () => {
            throw new Error("the store is unreachable (simulated)");
          };
        }
        return (value as (...args: unknown[]) => unknown).bind(target);
      },
    });
  const router = new EntityRouter({
    phase: source,
    codec,
    mysql: failing === "mysql" ? broken(mysql) : mysql,
    dynamodb: failing === "dynamodb" ? broken(dynamodb) : dynamodb,
    ids: new IdAllocator(stack.dynamodb(), { tablePrefix: stack.tablePrefix }),
    onSecondaryFailure: outbox.record,
    intents: outbox.intents,
  });
  const depth = async () => {
    await outbox.intents.removed();
    const metrics = await outbox.metrics();
    // Intents still in flight count: a write that settled leaves none, in flight or waiting. Both tables were read.
    expect([metrics.mysql.readable, metrics.dynamodb.readable]).toEqual([1, 1]);
    return {
      mysql: metrics.mysql.depth + metrics.mysql.inFlight,
      dynamodb: metrics.dynamodb.depth + metrics.dynamodb.inFlight,
    };
  };
  return { router, outbox, depth, stores: testbed.stores() };
}

let serial = 0;
const user = (name: string) => {
  const username = `${name}_${++serial}_${Date.now() % 100_000}`;
  return { username, email: `${username}@example.com`, passwordHash: "scrypt$x", firstName: "In" };
};

describe("write intents", () => {
  it.each([3, 4] as const)("phase %i: writes that settle on both stores leave no entry behind", async (phase) => {
    const { router, depth } = await setUp(phase);
    const created = await router.create<{ id: bigint }>("User", user("settled"));
    await router.update("User", { id: created.id }, { firstName: "Out" });
    expect(await router.delete("User", { id: created.id })).toBe(true);
    expect(await depth()).toEqual({ mysql: 0, dynamodb: 0 });
  });

  it("phase 3: intents removed while the store's transaction is open stay removed when it rolls back", async () => {
    const { router, depth } = await setUp(3);
    const created = await router.create<{ id: bigint }>("User", user("rollback"));
    // The create's intent is settled and waits for its removal, which starts while a transaction holds the
    // connection the router's store writes on (a CI machine's slowness once brought the two together).
    const store = new MysqlEntityStore(testbed.connection(), testbed.codec());
    const rolledBack = store.transaction(async (transaction) => {
      await transaction.update("User", { id: created.id }, { firstName: "Rolled back" });
      await depth();
      throw new Error("rolled back");
    });
    await expect(rolledBack).rejects.toThrow("rolled back");
    expect(await depth()).toEqual({ mysql: 0, dynamodb: 0 });
  });

  it("an outbox is refused the single connection its MySQL store runs transactions on", () => {
    const codec = testbed.codec();
    const connection = testbed.connection();
    const build = () =>
      new Outbox({
        phase: new SettablePhase(3),
        codec,
        mysql: new MysqlEntityStore(connection, codec),
        dynamodb: new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: stack.tablePrefix }),
        mysqlConnection: connection,
        controlTable: { client: stack.dynamodb(), tablePrefix: stack.tablePrefix },
      });
    expect(build).toThrow("give it a pool or a connection of its own");
  });

  it("removed() also waits for intents settled while a removal was under way", async () => {
    const { outbox } = await setUp(4);
    const write = (id: bigint) => ({
      entity: "User",
      operation: "update" as const,
      store: "mysql" as const,
      key: { id },
    });
    const first = await outbox.intents.ahead(write(10n ** 12n + 1n));
    const second = await outbox.intents.ahead(write(10n ** 12n + 2n));
    outbox.intents.settled(first);
    const removing = outbox.intents.removed(); // the first one's removal is under way now
    outbox.intents.settled(second);
    await removing;
    // Counted as they stand (depth() would call removed() once more).
    const { mysql } = await outbox.metrics();
    expect({ depth: mysql.depth, inFlight: mysql.inFlight }).toEqual({ depth: 0, inFlight: 0 });
  });

  it("the sequence numbers of a several-row intent are the rows' own, on a server stepping AUTO_INCREMENT by 2", async () => {
    const connection = await stack.mysql();
    const storage = new MysqlOutboxStorage(connection, "ferry_outbox_stepped");
    await storage.ensureTable();
    await connection.query("SET SESSION auto_increment_increment = 2");
    try {
      const entry = (id: bigint) => ({
        target: "dynamodb" as const,
        entity: "User",
        keyId: `key-${id}`,
        key: { id },
        operation: "create",
        createdAt: Date.now(),
      });
      const seqs = await storage.append([entry(1n), entry(2n), entry(3n)], connection);
      const [rows] = (await connection.query("SELECT seq FROM ferry_outbox_stepped ORDER BY seq")) as unknown as [
        Array<{ seq: number | string }>,
      ];
      expect(seqs).toEqual(rows.map((row) => BigInt(row.seq)));
      expect((seqs[1] ?? 0n) - (seqs[0] ?? 0n)).toBe(2n);
    } finally {
      await connection.query("SET SESSION auto_increment_increment = 1");
    }
  });

  it("phase 3: a write being copied counts as in flight, not as waiting, until its copy is checked", async () => {
    const { outbox, depth } = await setUp(3);
    const codec = testbed.codec();
    let release = () => {};
    let entered = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const copying = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const dynamodb = new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: stack.tablePrefix });
    const held = new Proxy(dynamodb, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        if (property === "create") {
          return async (...args: Parameters<DynamoEntityStore["create"]>) => {
            entered();
            await gate;
            return target.create(...args);
          };
        }
        return (value as (...args: unknown[]) => unknown).bind(target);
      },
    });
    const router = new EntityRouter({
      phase: new SettablePhase(3),
      codec,
      mysql: new MysqlEntityStore(await stack.mysql(), codec),
      dynamodb: held,
      onSecondaryFailure: outbox.record,
      intents: outbox.intents,
    });
    const creating = router.create("User", user("inflight"));
    await copying;
    const during = (await outbox.metrics()).dynamodb;
    expect({ depth: during.depth, inFlight: during.inFlight }).toEqual({ depth: 0, inFlight: 1 });
    release();
    await creating;
    expect(await depth()).toEqual({ mysql: 0, dynamodb: 0 });
    expect((await outbox.metrics()).dynamodb.inFlight).toBe(0);
  });

  it("phase 3: a copy DynamoDB refused leaves one due entry (its intent), which a drain replays", async () => {
    const { router, outbox, depth, stores } = await setUp(3, "dynamodb");
    const created = await router.create<{ id: bigint }>("User", user("refused"));
    expect(await depth()).toEqual({ mysql: 0, dynamodb: 1 });
    expect(await outbox.drain()).toEqual({ synced: 1, failed: 0, remaining: 0, idle: 0, stranded: 0, stuck: 0 });
    expect((await stores.dynamodb.get("User", { id: created.id }))?.id).toBe(created.id);
  });

  it("phase 4: a copy MySQL refused leaves one due entry (its intent), which a drain replays", async () => {
    const { router, depth, stores } = await setUp(3);
    const created = await router.create<{ id: bigint }>("User", user("refused4"));
    expect(await depth()).toEqual({ mysql: 0, dynamodb: 0 });
    const phase4 = await setUp(4, "mysql");
    await phase4.router.update("User", { id: created.id }, { firstName: "Four" });
    expect(await phase4.depth()).toEqual({ mysql: 1, dynamodb: 0 });
    expect(await depth()).toEqual({ mysql: 1, dynamodb: 0 });
    const drained = await setUp(4);
    expect(await drained.outbox.drain()).toEqual({
      synced: 1,
      failed: 0,
      remaining: 0,
      idle: 0,
      stranded: 0,
      stuck: 0,
    });
    expect((await stores.mysql.get("User", { id: created.id }))?.firstName).toBe("Four");
  });

  it.each([3, 4] as const)("phase %i: an authoritative write that failed leaves no entry", async (phase) => {
    const { router, depth } = await setUp(phase);
    const created = await router.create<{ id: bigint }>("User", user("condition"));
    const refused = router.update(
      "User",
      { id: created.id },
      { firstName: "X" },
      {
        condition: [{ attribute: "firstName", op: "=", value: "not this" }],
      },
    );
    await expect(refused).rejects.toBeInstanceOf(ConditionFailed);
    expect(await depth()).toEqual({ mysql: 0, dynamodb: 0 });
  });
});
