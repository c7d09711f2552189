/**
 * The id counter's start. In phase 4, the first create since the move starts it from MySQL's highest id: a MySQL away
 * for a moment (a restart) is waited for, anything else refuses the create. In phase 5, when nothing of an entity was
 * created in phase 4 (the counter was never started): the counter starts
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

/** The file's connection, whose reads of a highest id (MAX) fail with `failure` the first `times` times. */
function unreadable(times: number, failure: () => Error) {
  const state = { refused: 0, answering: false };
  const connection = testbed.connection();
  const executor = new Proxy(connection, {
    get(target, property, receiver) {
      if (property !== "query") return Reflect.get(target, property, receiver);
      return async (options: { sql?: string }) => {
        if (String(options?.sql ?? options).includes("MAX(") && state.refused < times && !state.answering) {
          state.refused++;
          throw failure();
        }
        return target.query(options as never);
      };
    },
  }) as unknown as MysqlExecutor;
  return { executor, state };
}

const newUser = (name: string) => ({
  username: name,
  email: `${name}@example.com`,
  passwordHash: "scrypt$x",
  firstName: "Four",
});

// In this order: the first two tests leave no User counter behind, and the third starts it.
describe("the id counter in phase 4", () => {
  it("MySQL refusing the read of its highest id (not a restart): the first create is refused at once", async () => {
    const { executor, state } = unreadable(10, () => new Error("SELECT command denied to user"));
    const error = await routing(4)
      .router({ mysql: executor })
      .create("User", newUser("denied4"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdCounterMissing);
    // The fence's read, then the counter's start: asked once each, not again.
    expect(state.refused).toBe(2);
  });

  it("MySQL away for longer: the first create waits for it, then it and the next are refused until MySQL answers", async () => {
    const lost = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:3306"), { code: "ECONNREFUSED" });
    const { executor, state } = unreadable(1_000, lost);
    const router = routing(4).router({ mysql: executor });
    const first = await router.create("User", newUser("away4a")).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(IdCounterMissing);
    const asked = state.refused;
    // Asked again while it waited (backing off from 100 ms to 1 s, for 5 s).
    expect(asked).toBeGreaterThan(4);
    const second = await router.create("User", newUser("away4b")).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(IdCounterMissing);
    // The fence's read, then one try to start the counter: no wait this time.
    expect(state.refused - asked).toBe(2);
    // MySQL answers again (a product's create reads its highest id), then goes away again: the next waits again.
    state.answering = true;
    await router.create("Product", {
      sellerId: 1n,
      categoryId: 1n,
      name: "Away again",
      price: "1.00",
      inventoryQuantity: 1,
    });
    state.answering = false;
    const before = state.refused;
    const third = await router.create("User", newUser("away4c")).catch((e: unknown) => e);
    expect(third).toBeInstanceOf(IdCounterMissing);
    expect(state.refused - before).toBeGreaterThan(4);
  });

  it("MySQL gone for a moment at the first create since the move: the create waits for it and continues its sequence", async () => {
    // The server restarting: its highest id cannot be read twice (the fence's read, then the counter's start).
    const { executor, state } = unreadable(2, () =>
      Object.assign(new Error("Connection lost: The server closed the connection."), {
        code: "PROTOCOL_CONNECTION_LOST",
      }),
    );
    const top = await highest("users");
    const created = await routing(4).router({ mysql: executor }).create("User", newUser("blip4"));
    expect(state.refused).toBe(2);
    expect(created.id).toBe(top + 1n);
    expect(await testbed.stores().mysql.get("User", { id: top + 1n })).toMatchObject({ username: "blip4" });
  });
});

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
