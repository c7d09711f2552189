/**
 * Stranded outbox entries settle themselves (src/outbox/stranded.ts): an entry for the store that became authoritative
 * through a forced move is applied from the other store in phases 2-4, on condition that the authoritative item has
 * not changed and that no write of the key is on its way to the other store; never over a newer value. On real
 * MariaDB and DynamoDB Local; each race forced deterministically (a store call held until the test releases it).
 */
import { createMysqlPool } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it, onTestFinished } from "vitest";
import type { EntityValue } from "../src/codec/index.ts";
import { WriteConflict } from "../src/errors.ts";
import { MysqlEntityStore } from "../src/mysql/index.ts";
import { keyIdOf } from "../src/outbox/entry.ts";
import { MysqlOutboxStorage, Outbox, type OutboxOptions } from "../src/outbox/index.ts";
import type { PhaseSource } from "../src/phases.ts";
import { useContractStores } from "../src/testing/index.ts";
import { held } from "./held.ts";
import { routingOver } from "./routing.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
const routing = routingOver(stack, testbed);

let serial = 0;
const newUser = (tag: string) => {
  const name = `stranded_${tag}_${++serial}_${Date.now() % 100_000}`;
  return { username: name, email: `${name}@example.com`, passwordHash: "scrypt$x", firstName: "Before" };
};

/** An Outbox over the file's stores (or those given), following `phase`. */
function outboxOver(phase: PhaseSource, parts: Partial<Pick<OutboxOptions, "mysql" | "dynamodb">> = {}): Outbox {
  const codec = testbed.codec();
  return new Outbox({
    phase,
    codec,
    ...testbed.stores(),
    ...parts,
    mysqlConnection: testbed.pool(),
    controlTable: { client: stack.dynamodb(), tablePrefix: stack.tablePrefix },
    log: () => {},
  });
}

/** The entry a secondary write that failed leaves: `store` missed an update (of a user, unless told) with `value`. */
async function missed(
  outbox: Outbox,
  store: "mysql" | "dynamodb",
  key: EntityValue,
  entity = "User",
  value: EntityValue = {},
): Promise<void> {
  await outbox.record({ entity, operation: "update", store, key, value, error: new Error(`${store} was down`) });
  await outbox.flushed();
}

const firstNames = async (id: bigint) => {
  const { mysql, dynamodb } = testbed.stores();
  return {
    mysql: (await mysql.get("User", { id }))?.firstName,
    dynamodb: (await dynamodb.get("User", { id }))?.firstName,
  };
};

describe("stranded entries settle themselves in the phases that write both stores", () => {
  it("3 -> 4 forced: DynamoDB takes the update and the delete it missed from MySQL, markers included", async () => {
    const { phase, router } = routing(3);
    const outbox = outboxOver(phase);
    const kept = await router().create<{ id: bigint }>("User", newUser("kept"));
    const gone = await router().create<{ id: bigint; email: string }>("User", newUser("gone"));
    // DynamoDB misses an update and a delete in phase 3 (MySQL took them), then the phase is forced to 4.
    const { mysql, dynamodb } = testbed.stores();
    await mysql.update("User", { id: kept.id }, { firstName: "After" });
    await missed(outbox, "dynamodb", { id: kept.id });
    await mysql.delete("User", { id: gone.id });
    await missed(outbox, "dynamodb", { id: gone.id });
    phase.value = 4;
    expect((await outbox.metrics()).dynamodb).toMatchObject({ depth: 2, stranded: 2 });
    expect(await dynamodb.uniqueHolder("User", "uq_users_email", { email: gone.email })).toBeDefined();

    const pass = await outbox.drain();
    expect(pass).toEqual({ synced: 2, failed: 0, remaining: 0, idle: 0, stranded: 0, stuck: 0 });
    expect(await firstNames(kept.id)).toEqual({ mysql: "After", dynamodb: "After" });
    expect(await dynamodb.get("User", { id: gone.id })).toBeUndefined();
    // Its email's marker went with it: the email can be taken again on DynamoDB.
    expect(await dynamodb.uniqueHolder("User", "uq_users_email", { email: gone.email })).toBeUndefined();
  });

  it("waits while a write of the key is on its way to MySQL, then keeps DynamoDB's newer value", async () => {
    const { phase, router } = routing(3);
    const outbox = outboxOver(phase);
    const user = await router().create<{ id: bigint }>("User", newUser("waits"));
    const { mysql, dynamodb } = testbed.stores();
    await mysql.update("User", { id: user.id }, { firstName: "Phase3" });
    await missed(outbox, "dynamodb", { id: user.id });
    phase.value = 4;
    // A phase-4 write lands on DynamoDB and its copy to MySQL fails: an entry for MySQL names the key.
    await dynamodb.update("User", { id: user.id }, { firstName: "Phase4" });
    await missed(outbox, "mysql", { id: user.id });

    // DynamoDB's entries first: the stranded one waits (postponed, not failed for good), and MySQL's is replayed.
    const pass = await outbox.drain();
    expect(pass).toMatchObject({ synced: 1, failed: 1, stranded: 1, stuck: 0 });
    expect(await firstNames(user.id)).toEqual({ mysql: "Phase4", dynamodb: "Phase4" });
    const [waiting] = await entriesForDynamo();
    expect(waiting?.lastError).toContain("has writes on its way to mysql too: settled once they have landed there");

    // Nothing is on its way to MySQL any more: the stores agree, the entry goes without a write.
    expect(await outbox.drain({ force: true })).toMatchObject({ synced: 1, remaining: 0, stranded: 0 });
    expect(await firstNames(user.id)).toEqual({ mysql: "Phase4", dynamodb: "Phase4" });
  });

  it("a live write landing on DynamoDB between the settle's read and its copy is never overwritten", async () => {
    const { phase, router } = routing(3);
    const user = await router().create<{ id: bigint }>("User", newUser("race"));
    const { mysql, dynamodb } = testbed.stores();
    await mysql.update("User", { id: user.id }, { firstName: "Phase3" });
    const slowDynamo = held(dynamodb, "update");
    const outbox = outboxOver(phase, { dynamodb: slowDynamo.store });
    await missed(outbox, "dynamodb", { id: user.id });
    phase.value = 4;

    const pass = outbox.drain();
    // The settle has read DynamoDB's version, found no entry for MySQL, read MySQL's "Phase3": its copy waits.
    await slowDynamo.entered;
    await router().update("User", { id: user.id }, { firstName: "Live" });
    slowDynamo.release();
    // The copy of MySQL's older value is refused (the item moved past the version read): postponed.
    expect(await pass).toMatchObject({ synced: 0, failed: 1, stranded: 1 });
    expect(await firstNames(user.id)).toEqual({ mysql: "Live", dynamodb: "Live" });
    expect(await outbox.drain({ force: true })).toMatchObject({ synced: 1, remaining: 0 });
    expect(await firstNames(user.id)).toEqual({ mysql: "Live", dynamodb: "Live" });
  });

  it("4 -> 3 forced: MySQL takes what it missed, in a transaction a live MySQL-first write waits for", async () => {
    const { phase, router } = routing(4);
    const pool = createMysqlPool(stack.mysqlUrl, { connectionLimit: 4 });
    onTestFinished(() => pool.end());
    const codec = testbed.codec();
    const { dynamodb } = testbed.stores();
    const user = await router().create<{ id: bigint }>("User", newUser("back"));
    // MySQL misses a phase-4 update (DynamoDB took it), then the phase is forced back to 3.
    await dynamodb.update("User", { id: user.id }, { firstName: "Phase4" });
    const slowDynamo = held(dynamodb, "get");
    const outbox = outboxOver(phase, { mysql: new MysqlEntityStore(pool, codec), dynamodb: slowDynamo.store });
    await missed(outbox, "mysql", { id: user.id });
    phase.value = 3;
    expect((await outbox.metrics()).mysql).toMatchObject({ depth: 1, stranded: 1 });

    const pass = outbox.drain();
    await slowDynamo.entered; // the settle holds the row's lock and found no entry for DynamoDB
    // A live phase-3 write (MySQL first) waits for the lock, so it lands after the settle, never under it.
    const live = router().update("User", { id: user.id }, { firstName: "Live" });
    await until("the live write to wait for the row lock", async () => (await lockWaits(pool)) > 0);
    slowDynamo.release();
    expect(await pass).toMatchObject({ synced: 1, failed: 0, remaining: 0, stranded: 0 });
    await live;
    expect(await firstNames(user.id)).toEqual({ mysql: "Live", dynamodb: "Live" });
  });

  it("a move on its way to MySQL: the stranded old key waits, and nothing comes back under it", async () => {
    const { phase, router } = routing(3);
    const outbox = outboxOver(phase);
    const codec = testbed.codec();
    const owner = await router().create<{ id: bigint }>("User", newUser("mover"));
    const line = await router().create<EntityValue>("ShoppingCart", { userId: owner.id, productId: 1n, quantity: 1 });
    const oldKey = Object.fromEntries(codec.entity("ShoppingCart").identity.map((a) => [a, line[a]]));
    const newKey = { ...oldKey, productId: 2n };
    const { mysql, dynamodb } = testbed.stores();
    // DynamoDB missed a phase-3 update of the line; then the phase is forced to 4.
    await mysql.update("ShoppingCart", oldKey, { quantity: 3 });
    await missed(outbox, "dynamodb", oldKey, "ShoppingCart");
    phase.value = 4;
    // A phase-4 move of the line (another product) lands on DynamoDB; its copy to MySQL fails.
    await dynamodb.update("ShoppingCart", oldKey, { productId: 2n });
    await missed(outbox, "mysql", oldKey, "ShoppingCart", { productId: 2n });

    await outbox.drain();
    expect(await dynamodb.get("ShoppingCart", oldKey)).toBeUndefined();
    await outbox.drain({ force: true });
    expect(await dynamodb.get("ShoppingCart", oldKey)).toBeUndefined();
    expect(await mysql.get("ShoppingCart", oldKey)).toBeUndefined();
    const moved = {
      mysql: await mysql.get("ShoppingCart", newKey),
      dynamodb: await dynamodb.get("ShoppingCart", newKey),
    };
    expect(moved.mysql).toBeDefined();
    expect(codec.entity("ShoppingCart").diff(moved.mysql ?? {}, moved.dynamodb ?? {})).toEqual([]);
    expect(await outbox.metrics()).toMatchObject({ dynamodb: { depth: 0 }, mysql: { depth: 0 } });
  });

  it("4 -> 3 forced: MySQL's newer write on its way to DynamoDB is never undone by the settle", async () => {
    const { phase, router } = routing(4);
    const outbox = outboxOver(phase);
    const user = await router().create<{ id: bigint }>("User", newUser("newer"));
    const { mysql, dynamodb } = testbed.stores();
    await dynamodb.update("User", { id: user.id }, { firstName: "Phase4" });
    await missed(outbox, "mysql", { id: user.id });
    phase.value = 3;
    // A phase-3 write lands on MySQL with its intent (an entry for DynamoDB, not due while the request copies it).
    await mysql.update("User", { id: user.id }, { firstName: "Phase3" });
    const codec = testbed.codec();
    const intents = new MysqlOutboxStorage(testbed.connection());
    const [seq] = await intents.append([
      {
        target: "dynamodb",
        entity: "User",
        keyId: keyIdOf(codec, "dynamodb", "User", { id: user.id }),
        key: { id: user.id },
        operation: "update",
        createdAt: Date.now(),
        notBefore: Date.now() + 600_000,
      },
    ]);

    // MySQL's stranded entry waits: copying DynamoDB's "Phase4" now would undo the newer write.
    expect(await outbox.drain()).toMatchObject({ synced: 0, failed: 1, stranded: 1 });
    expect(await firstNames(user.id)).toEqual({ mysql: "Phase3", dynamodb: "Phase4" });
    // The request's copy lands and its intent goes; then the stranded entry finds both agreeing.
    await dynamodb.update("User", { id: user.id }, { firstName: "Phase3" });
    const [intent] = await intents.head("dynamodb", 10);
    expect(intent?.seq).toBe(seq);
    await intents.remove(intent ? [intent] : []);
    expect(await outbox.drain({ force: true })).toMatchObject({ synced: 1, remaining: 0 });
    expect(await firstNames(user.id)).toEqual({ mysql: "Phase3", dynamodb: "Phase3" });
  });

  it("in phase 5 they wait for an operator: MySQL takes no writes, so nothing says which value is newer", async () => {
    const { phase, router } = routing(4);
    const outbox = outboxOver(phase);
    const user = await router().create<{ id: bigint }>("User", newUser("five"));
    await missed(outbox, "dynamodb", { id: user.id });
    phase.value = 5;
    expect(await outbox.drain()).toMatchObject({ synced: 0, failed: 0, remaining: 1, idle: 1, stranded: 1 });
    expect(await outbox.resolveStranded({ from: "dynamodb" })).toEqual({
      target: "dynamodb",
      resolved: 1,
      failed: 0,
      keys: 1,
    });
  });
});

describe("writes at a version", () => {
  it("an update or a delete at a version the item has left is a WriteConflict and writes nothing", async () => {
    const { router } = routing(4);
    const user = await router().create<{ id: bigint }>("User", newUser("version"));
    const { dynamodb } = testbed.stores();
    const read = await dynamodb.versioned("User", { id: user.id });
    expect(Number(read?.version)).toBeGreaterThan(Date.now() * 1000 - 60_000_000);
    await dynamodb.update("User", { id: user.id }, { firstName: "Moved on" });
    const stale = { ifVersion: read?.version ?? "" };
    await expect(dynamodb.update("User", { id: user.id }, { firstName: "Old" }, stale)).rejects.toBeInstanceOf(
      WriteConflict,
    );
    await expect(dynamodb.delete("User", { id: user.id }, stale)).rejects.toBeInstanceOf(WriteConflict);
    expect((await dynamodb.get("User", { id: user.id }))?.firstName).toBe("Moved on");
    const now = await dynamodb.versioned("User", { id: user.id });
    const second = String(Number(read?.version) + 1);
    expect(now?.version).toBe(second);
    await dynamodb.update("User", { id: user.id }, { firstName: "At 2" }, { ifVersion: second });
    const third = String(Number(second) + 1);
    expect(await dynamodb.delete("User", { id: user.id }, { ifVersion: third })).toBe(true);
    await expect(dynamodb.delete("User", { id: user.id }, { ifVersion: third })).rejects.toBeInstanceOf(WriteConflict);
    // Created again under the same key: never at a version read before.
    await dynamodb.create("User", { ...read?.value, id: user.id });
    const again = await dynamodb.versioned("User", { id: user.id });
    expect([read?.version, second, third]).not.toContain(again?.version);
    await expect(
      dynamodb.update("User", { id: user.id }, { firstName: "Old" }, { ifVersion: read?.version ?? "" }),
    ).rejects.toBeInstanceOf(WriteConflict);
  });
});

/** The entries waiting for DynamoDB (kept in MySQL), oldest first. */
function entriesForDynamo() {
  return new MysqlOutboxStorage(testbed.connection()).head("dynamodb", 10);
}

/** InnoDB lock waits on the server now. */
async function lockWaits(pool: ReturnType<typeof createMysqlPool>): Promise<number> {
  const [rows] = (await pool.query("SELECT COUNT(*) AS n FROM information_schema.INNODB_LOCK_WAITS")) as unknown as [
    Array<{ n: number | string }>,
  ];
  return Number(rows[0]?.n ?? 0);
}

async function until(what: string, check: () => Promise<boolean>, deadlineMs = 240_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
