/**
 * A lone MySQL statement can lose a deadlock or a lock wait (errno 1213, 1205): MySQL rolls it back, and the router
 * runs it again, as it does a transaction. The test forces the lock wait: a third transaction holds the row while the
 * router's connection waits at most 1 s for it; once a second attempt is seen waiting, the holder lets go.
 */
import { connectMysql } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it, onTestFinished } from "vitest";
import { useContractStores } from "../src/testing/index.ts";
import { routingOver } from "./routing.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
const routing = routingOver(stack, testbed);

async function connection() {
  const opened = await connectMysql(stack.mysqlUrl);
  onTestFinished(() => opened.end());
  return opened;
}

/**
 * The router's connection, with each statement it sends counted: the real connection, seen from outside, so that the
 * test knows when the router has sent its update a second time.
 */
function counted(connection: Awaited<ReturnType<typeof connectMysql>>) {
  const sent: string[] = [];
  const executor = {
    query: (options: { sql: string; values?: unknown[] }) => {
      sent.push(options.sql);
      return connection.query(options);
    },
  };
  return { executor, updates: () => sent.filter((sql) => sql.startsWith("UPDATE")).length };
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let tries = 0; tries < 1000; tries++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never: ${what}`);
}

describe("a lone MySQL write that lost a lock wait", () => {
  it.each([1, 2, 3])("is run again in phase %i, and lands", async (p) => {
    const { router, phase } = routing(2);
    const [mysql, locker, watcher] = await Promise.all([connection(), connection(), connection()]);
    const line = await router().create("ShoppingCart", { userId: 3n, productId: BigInt(20 + p), quantity: 1 });
    const key = { id: line.id, userId: line.userId, productId: line.productId };
    phase.value = p as 1 | 2 | 3;
    await mysql.query("SET SESSION innodb_lock_wait_timeout = 1");

    await locker.query("BEGIN");
    await locker.query("SELECT id FROM shopping_carts WHERE id = ? FOR UPDATE", [String(line.id)]);
    const routed = counted(mysql);
    const write = router({ mysql: routed.executor }).update("ShoppingCart", key, { quantity: 5 });
    const failed = write.then(
      () => undefined,
      (error: unknown) => error,
    );
    // The first attempt waits, times out after 1 s and is rolled back; the holder lets go once a second one is sent.
    await Promise.race([
      until("the update was sent twice", () => routed.updates() >= 2),
      failed.then((error) => {
        throw new Error(`the write gave up after one lost lock wait: ${String(error)}`);
      }),
    ]).finally(() => locker.query("COMMIT"));
    await write;

    const [rows] = await watcher.query("SELECT quantity FROM shopping_carts WHERE id = ?", [String(line.id)]);
    expect(rows).toEqual([{ quantity: 5 }]);
    const item = await testbed.stores().dynamodb.get("ShoppingCart", key);
    expect(item?.quantity).toBe(p === 1 ? 1 : 5);
  });
});
