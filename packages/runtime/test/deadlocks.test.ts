/**
 * A lone MySQL statement can lose a deadlock or a lock wait (errno 1213, 1205): MySQL rolls it back, and the router
 * runs it again, as it does a transaction. The test forces the lock wait: a third transaction holds the row while the
 * router's connection waits at most 1 s for it; just before a second attempt is sent, the holder lets go.
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
function counted(connection: Awaited<ReturnType<typeof connectMysql>>, beforeSecondUpdate?: () => Promise<unknown>) {
  const sent: string[] = [];
  const executor = {
    query: async (options: { sql: string; values?: unknown[] }) => {
      sent.push(options.sql);
      if (beforeSecondUpdate !== undefined && options.sql.startsWith("UPDATE") && sent.filter(isUpdate).length === 2) {
        await beforeSecondUpdate();
      }
      return connection.query(options);
    },
  };
  return { executor, updates: () => sent.filter(isUpdate).length };
}

function isUpdate(sql: string): boolean {
  return sql.startsWith("UPDATE");
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
    // The first attempt waits, times out after 1 s and is rolled back; the holder lets go just before a second one is
    // sent (so that no timing decides whether the second lands). A write that gives up after one lost lock wait fails.
    const routed = counted(mysql, () => locker.query("COMMIT"));
    try {
      await router({ mysql: routed.executor }).update("ShoppingCart", key, { quantity: 5 });
    } finally {
      await locker.query("COMMIT");
    }
    expect(routed.updates()).toBe(2);

    const [rows] = await watcher.query("SELECT quantity FROM shopping_carts WHERE id = ?", [String(line.id)]);
    expect(rows).toEqual([{ quantity: 5 }]);
    const item = await testbed.stores().dynamodb.get("ShoppingCart", key);
    expect(item?.quantity).toBe(p === 1 ? 1 : 5);
  });
});
