/**
 * The backfill under live dual writes (docs/backfill.md): each test holds the backfill at one point of a page (after
 * it read the rows, before it writes their items; after the bulk write, before it reads the rows again) while a live
 * write through the phase-2 router hits the same key, deterministically. Each ends with both stores equal row for
 * row, no stale item, no resurrected item and no unique marker left behind.
 */
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it } from "vitest";
import type { BackfillHooks } from "../src/backfill/index.ts";
import { runBackfill } from "../src/backfill/index.ts";
import type { EntityValue } from "../src/codec/index.ts";
import { DynamoEntityStore } from "../src/dynamodb/index.ts";
import { applyTables } from "../src/tables/index.ts";
import { useContractStores } from "../src/testing/index.ts";
import { repair, validate } from "../src/validation/index.ts";
import { differencesOf, setPhase } from "./backfill-fixtures-run.ts";
import { held } from "./held.ts";
import { routingOver } from "./routing.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
const routing = routingOver(stack, testbed);

let serial = 0;
/** A tablePrefix of its own per test: each test backfills from an empty DynamoDB. */
async function freshPrefix(): Promise<string> {
  const prefix = `${stack.tablePrefix}il${++serial}_`;
  await applyTables(stack.dynamodb(), testbed.contract(), { prefix });
  await setPhase(stack, prefix, 2);
  return prefix;
}

/** Runs the backfill of `entity` into `prefix`, the hook called once on the page that holds `key`. */
async function backfillWith(
  prefix: string,
  entity: string,
  id: bigint,
  at: keyof BackfillHooks,
  live: () => Promise<unknown>,
  check: "always" | "never",
) {
  let fired = 0;
  const hook = async (_entity: string, keys: readonly EntityValue[]) => {
    if (fired > 0 || !keys.some((key) => key.id === id)) return;
    fired++;
    await live();
  };
  const result = await runBackfill(
    { codec: testbed.codec(), mysql: testbed.connection(), client: stack.dynamodb(), tablePrefix: prefix },
    { contract: "store.yaml", who: "test", entities: [entity], pageRows: 5, check, hooks: { [at]: hook } },
  );
  expect(fired).toBe(1);
  expect(result.report.state).toBe("finished");
  return result;
}

/** The file's stores over `prefix`, and a phase-2 router over them. */
function over(prefix: string) {
  const { router } = routing(2);
  const live = router({ tablePrefix: prefix });
  const { mysql } = testbed.stores();
  const dynamodb = new DynamoEntityStore(stack.dynamodb(), testbed.codec(), { tablePrefix: prefix });
  return { live, mysql, dynamodb };
}

/** A product and a user on MySQL only, as rows from before dual writes began. */
async function legacyRows() {
  const { mysql } = testbed.stores();
  const n = ++serial;
  const user = (await mysql.create("User", {
    username: `legacy_${n}`,
    email: `legacy_${n}@example.com`,
    passwordHash: "scrypt$x",
    firstName: "Legacy",
  })) as { id: bigint };
  const product = (await mysql.create("Product", {
    sellerId: user.id,
    categoryId: 1n,
    name: `legacy product ${n}`,
    price: "12.50",
    inventoryQuantity: 3,
  })) as { id: bigint };
  return { user, product, email: `legacy_${n}@example.com` };
}

// Each interleaving with the page's check (a re-run's pages, a resumed segment's) and without it (a first pass).
describe.each(["always", "never"] as const)("the backfill under live writes (check: %s)", (check) => {
  const backfillChecked = (
    prefix: string,
    entity: string,
    id: bigint,
    at: keyof BackfillHooks,
    live: () => Promise<unknown>,
  ) => backfillWith(prefix, entity, id, at, live, check);
  it("a live update between the backfill's read and its write: the item ends with the live value", async () => {
    const prefix = await freshPrefix();
    const { live, dynamodb } = over(prefix);
    const { product } = await legacyRows();
    await backfillChecked(prefix, "Product", product.id, "beforeWrite", () =>
      live.update("Product", { id: product.id }, { name: "renamed live" }),
    );
    expect((await dynamodb.get("Product", { id: product.id }))?.name).toBe("renamed live");
    expect(await differencesOf(stack, testbed, "Product", prefix)).toEqual([]);
  });

  it("a live delete between the backfill's read and its write: the item is not resurrected", async () => {
    const prefix = await freshPrefix();
    const { live, dynamodb } = over(prefix);
    const { product } = await legacyRows();
    await backfillChecked(prefix, "Product", product.id, "beforeWrite", () =>
      live.delete("Product", { id: product.id }),
    );
    expect(await dynamodb.get("Product", { id: product.id })).toBeUndefined();
    expect(await differencesOf(stack, testbed, "Product", prefix)).toEqual([]);
  });

  it("a live email change between read and write: the new email's marker is the user's, the old one is gone", async () => {
    const prefix = await freshPrefix();
    const { live, dynamodb } = over(prefix);
    const { user, email } = await legacyRows();
    await backfillChecked(prefix, "User", user.id, "beforeWrite", () =>
      live.update("User", { id: user.id }, { email: `moved_${email}` }),
    );
    expect((await dynamodb.get("User", { id: user.id }))?.email).toBe(`moved_${email}`);
    expect((await dynamodb.uniqueHolder("User", "uq_users_email", { email: `moved_${email}` }))?.owner?.id).toBe(
      user.id,
    );
    expect(await dynamodb.uniqueHolder("User", "uq_users_email", { email })).toBeUndefined();
    expect(await differencesOf(stack, testbed, "User", prefix)).toEqual([]);
  });

  it("a live delete of a user between read and write: no item and no marker is left", async () => {
    const prefix = await freshPrefix();
    const { live, dynamodb } = over(prefix);
    const { user, product, email } = await legacyRows();
    await testbed.stores().mysql.delete("Product", { id: product.id });
    await backfillChecked(prefix, "User", user.id, "beforeWrite", () => live.delete("User", { id: user.id }));
    expect(await dynamodb.get("User", { id: user.id })).toBeUndefined();
    expect(await dynamodb.uniqueHolder("User", "uq_users_email", { email })).toBeUndefined();
    expect(await differencesOf(stack, testbed, "User", prefix)).toEqual([]);
  });

  it("a live update after the bulk write, before the re-read: the item ends with the live value", async () => {
    const prefix = await freshPrefix();
    const { live, dynamodb } = over(prefix);
    const { product } = await legacyRows();
    await backfillChecked(prefix, "Product", product.id, "beforeReread", () =>
      live.update("Product", { id: product.id }, { price: "99.99" }),
    );
    expect((await dynamodb.get("Product", { id: product.id }))?.price).toBe("99.99");
    expect(await differencesOf(stack, testbed, "Product", prefix)).toEqual([]);
  });

  it("a live update committed on MySQL before the read whose copy lands after the backfill's write", async () => {
    const prefix = await freshPrefix();
    const { dynamodb } = over(prefix);
    const { product } = await legacyRows();
    const { router } = routing(2);
    const slow = held(dynamodb, "update");
    const late = router({ tablePrefix: prefix, wrapDynamo: () => slow.store }).update(
      "Product",
      { id: product.id },
      { name: "late copy" },
    );
    await slow.entered; // committed on MySQL; its DynamoDB copy waits
    await backfillChecked(prefix, "Product", product.id, "beforeReread", async () => {
      slow.release();
      await late;
    });
    expect((await dynamodb.get("Product", { id: product.id }))?.name).toBe("late copy");
    expect(await differencesOf(stack, testbed, "Product", prefix)).toEqual([]);
  });

  it("a live email change, and a new user taking the old email, between read and write: each marker names its holder", async () => {
    const prefix = await freshPrefix();
    const { live, dynamodb } = over(prefix);
    const { user, email } = await legacyRows();
    let taker: { id: bigint } | undefined;
    // The bulk write carries the user's marker of the old email, which the new user holds by then.
    await backfillChecked(prefix, "User", user.id, "beforeWrite", async () => {
      await live.update("User", { id: user.id }, { email: `moved_${email}` });
      taker = (await live.create("User", {
        username: `taker_${user.id}`,
        email,
        passwordHash: "scrypt$x",
        firstName: "Taker",
      })) as { id: bigint };
    });
    expect(taker).toBeDefined();
    expect((await dynamodb.uniqueHolder("User", "uq_users_email", { email }))?.owner?.id).toBe(taker?.id);
    expect((await dynamodb.uniqueHolder("User", "uq_users_email", { email: `moved_${email}` }))?.owner?.id).toBe(
      user.id,
    );
    expect(await differencesOf(stack, testbed, "User", prefix)).toEqual([]);
  });

  it("a live move of an order line to another product, and a new line taking its old key, between read and write: both lines end right", async () => {
    const prefix = await freshPrefix();
    const { live, dynamodb } = over(prefix);
    const { mysql } = testbed.stores();
    const { product: other } = await legacyRows();
    const line = (await mysql.list("OrderItem", { where: {}, limit: 1 })).items[0] as {
      id: bigint;
      orderId: bigint;
      productId: bigint;
    };
    let taker: { id: bigint } | undefined;
    // The line moves to another product (its DynamoDB key moves) and a new line of the same order takes the
    // product, so the key the backfill read the first line under now belongs to the new line.
    await backfillChecked(prefix, "OrderItem", line.id, "beforeWrite", async () => {
      await live.update(
        "OrderItem",
        { id: line.id, orderId: line.orderId, productId: line.productId },
        { productId: other.id },
      );
      taker = (await live.create("OrderItem", {
        orderId: line.orderId,
        productId: line.productId,
        quantity: 4,
        priceAtTime: "1.25",
      })) as { id: bigint };
    });
    expect(taker).toBeDefined();
    const there = await dynamodb.get("OrderItem", { orderId: line.orderId, productId: line.productId });
    expect(there?.id).toBe(taker?.id);
    expect(there?.quantity).toBe(4);
    expect((await dynamodb.get("OrderItem", { orderId: line.orderId, productId: other.id }))?.id).toBe(line.id);
    expect(await differencesOf(stack, testbed, "OrderItem", prefix)).toEqual([]);
  });

  it("a backfill killed after the bulk write of a moved order line over an older line's new key: validation finds it, repair mends it", async () => {
    const prefix = await freshPrefix();
    const { live, dynamodb } = over(prefix);
    const { mysql } = testbed.stores();
    const { product: first } = await legacyRows();
    const { product: second } = await legacyRows();
    // B: the first line of the store (its page is done early); A: a later line of the same order, on MySQL only.
    const b = (await mysql.list("OrderItem", { where: {}, limit: 1 })).items[0] as {
      id: bigint;
      orderId: bigint;
      productId: bigint;
    };
    const a = (await mysql.create("OrderItem", {
      orderId: b.orderId,
      productId: first.id,
      quantity: 2,
      priceAtTime: "3.00",
    })) as { id: bigint };
    const keyOf = (line: { id: bigint; orderId: bigint; productId: bigint }) => ({
      id: line.id,
      orderId: line.orderId,
      productId: line.productId,
    });
    let moved = false;
    // Between A's read and its bulk write, A moves to another product and B takes A's old one. The process dies
    // between the bulk write (A's old copy over B's item) and the re-read, so the look-up of what A let go (held in
    // memory) never runs: docs/backfill.md says what catches it.
    const services = {
      codec: testbed.codec(),
      mysql: testbed.connection(),
      client: stack.dynamodb(),
      tablePrefix: prefix,
    };
    const crashed = await runBackfill(services, {
      contract: "store.yaml",
      who: "test",
      entities: ["OrderItem"],
      pageRows: 5,
      pagesInFlight: 1,
      check,
      hooks: {
        beforeWrite: async (_entity, keys) => {
          if (moved || !keys.some((key) => key.id === a.id)) return;
          moved = true;
          await live.update("OrderItem", keyOf({ id: a.id, orderId: b.orderId, productId: first.id }), {
            productId: second.id,
          });
          await live.update("OrderItem", keyOf({ ...b }), { productId: first.id });
        },
        beforeReread: (_entity, keys) => {
          if (keys.some((key) => key.id === a.id)) throw new Error("killed between the bulk write and the re-read");
        },
      },
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(moved).toBe(true);
    expect(String((crashed as Error).cause)).toContain("killed between the bulk write and the re-read");
    expect((await dynamodb.get("OrderItem", { orderId: b.orderId, productId: first.id }))?.id).toBe(a.id);

    // The run resumes and finishes; B's key still holds A's old copy.
    const resumed = await runBackfill(services, {
      contract: "store.yaml",
      who: "test",
      entities: ["OrderItem"],
      check,
    });
    expect(resumed.report.state).toBe("finished");
    const options = { contract: "store.yaml", who: "test", recheckMs: 20, entities: ["OrderItem"] };
    const found = await validate(services, options);
    expect(found.report.clean).toBe(false);
    const repaired = await repair(services, found, { who: "test" });
    expect(repaired.failures).toEqual([]);
    expect(repaired.after.differences).toEqual([]);
    expect((await dynamodb.get("OrderItem", { orderId: b.orderId, productId: first.id }))?.id).toBe(b.id);
    expect((await dynamodb.get("OrderItem", { orderId: b.orderId, productId: second.id }))?.id).toBe(a.id);
    expect(await differencesOf(stack, testbed, "OrderItem", prefix)).toEqual([]);
    expect((await validate(services, options)).report.clean).toBe(true);
  });

  it("an item a live write made before the backfill came, and a live write during the page: the live value stands", async () => {
    const prefix = await freshPrefix();
    const { live, dynamodb } = over(prefix);
    const { product } = await legacyRows();
    // Dual writes touched the row before the backfill came: its item is there, at the live value.
    await live.update("Product", { id: product.id }, { inventoryQuantity: 7 });
    expect((await dynamodb.get("Product", { id: product.id }))?.inventoryQuantity).toBe(7);
    await backfillChecked(prefix, "Product", product.id, "beforeWrite", () =>
      live.update("Product", { id: product.id }, { inventoryQuantity: 8 }),
    );
    expect((await dynamodb.get("Product", { id: product.id }))?.inventoryQuantity).toBe(8);
    expect(await differencesOf(stack, testbed, "Product", prefix)).toEqual([]);
  });
});
