/**
 * Ids in phase 5 when nothing of an entity was created in phase 4 (the counter was never started): the counter starts
 * from the retired MySQL's highest id, which is final (nothing writes MySQL in phase 5, and ids came from MySQL until
 * a counter existed). Without MySQL to read, the create is refused with IdCounterMissing and nothing is written.
 */
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it } from "vitest";
import { IdCounterMissing } from "../src/ids/index.ts";
import type { MysqlExecutor } from "../src/mysql/index.ts";
import { useContractStores } from "../src/testing/index.ts";
import { routingOver } from "./routing.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
const routing = routingOver(stack, testbed);

async function highest(table: string): Promise<bigint> {
  const [rows] = (await testbed.connection().query(`SELECT MAX(id) AS id FROM ${table}`)) as unknown as [
    Array<{ id: number | string }>,
  ];
  return BigInt(rows[0]?.id ?? 0);
}

describe("the id counter in phase 5", () => {
  it("with MySQL unreadable and no counter, a create is refused (IdCounterMissing) and writes nothing", async () => {
    const down: MysqlExecutor = {
      query: async () => {
        throw new Error("MySQL is gone");
      },
    } as unknown as MysqlExecutor;
    const router = routing(5).router({ mysql: down });
    const error = await router.create("Category", { name: "Nowhere", parentId: null }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdCounterMissing);
    expect((error as IdCounterMissing).entity).toBe("Category");
    expect(((error as Error).cause as Error).message).toBe("MySQL is gone");
    const before = await highest("categories");
    const next = await routing(5)
      .router()
      .get("Category", { id: before + 1n });
    expect(next).toBeUndefined();
  });

  it("starts at MySQL's highest id, once: the next creates continue the sequence, on DynamoDB only", async () => {
    const top = await highest("categories");
    const router = routing(5).router();
    const first = await router.create("Category", { name: "Phase five A", parentId: null });
    const second = await router.create("Category", { name: "Phase five B", parentId: null });
    expect(first.id).toBe(top + 1n);
    expect(second.id).toBe(top + 2n);
    expect(await highest("categories")).toBe(top);
    expect(await testbed.stores().dynamodb.get("Category", { id: top + 1n })).toMatchObject({ name: "Phase five A" });
  });
});
