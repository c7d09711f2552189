import { UniqueViolation } from "@ferry/runtime";
import { useTestStack } from "@ferry/stack/testing";
import {
  createDynamoStore,
  createMysqlStore,
  type createStore,
  type NewProduct,
  type NewUser,
} from "@ferry/store-data";
import { beforeAll, describe, expect, it } from "vitest";
import { useGeneratedStore } from "./generated-store.ts";

const stack = useTestStack();

const generated = useGeneratedStore(stack);
const { phase, failures } = generated;
let store: ReturnType<typeof createStore>;
let connection: ReturnType<typeof generated.connection>;
beforeAll(() => {
  store = generated.store();
  connection = generated.connection();
});

const newUser = (n: number, extra: Partial<NewUser> = {}): NewUser => ({
  username: `gen_${n}`,
  email: `gen_${n}@example.com`,
  passwordHash: "scrypt$x",
  firstName: "Gen",
  ...extra,
});

describe("the generated store", () => {
  for (const p of [1, 2, 3, 4, 5] as const) {
    it(`phase ${p}: a user and a product round-trip through the generated repositories`, async () => {
      phase.value = p;
      // With DynamoDB authoritative (4-5) the id comes from the id counter, continuing MySQL's sequence.
      const user = await store.users.create(newUser(p, { lastName: null, isSeller: true }));
      if (p >= 4) expect(user.id).toBeGreaterThan(3n);
      expect(await store.users.get({ id: user.id })).toEqual(user);
      expect(await store.users.getUserByUsername({ username: `gen_${p}` })).toEqual(user);
      // users.email is utf8mb4_unicode_ci: MySQL finds it in any case, and so does DynamoDB's folded index key.
      expect(await store.users.getUserByEmail({ email: `GEN_${p}@Example.COM` })).toEqual(user);
      const product: NewProduct = {
        sellerId: user.id,
        categoryId: 1n,
        name: `Lamp ${p}`,
        description: null,
        price: "12345678.90",
        inventoryQuantity: 3,
      };
      const created = await store.products.create(product);
      expect(created.price).toBe("12345678.90");
      expect(await store.products.get({ id: created.id })).toEqual(created);
      await store.products.update(
        { id: created.id },
        {},
        { add: { inventoryQuantity: -1 }, condition: [{ attribute: "inventoryQuantity", op: ">=", value: 1 }] },
      );
      expect((await store.products.get({ id: created.id }))?.inventoryQuantity).toBe(2);
      expect(await store.products.delete({ id: created.id })).toBe(true);
      expect(await store.products.get({ id: created.id })).toBeUndefined();
      expect(failures).toEqual([]);
    });
  }

  it("a duplicate email is refused in phase 5 exactly as in phase 1", async () => {
    phase.value = 1;
    await store.users.create(newUser(11, { email: "same1@example.com" }));
    await expect(store.users.create(newUser(12, { email: "same1@example.com" }))).rejects.toBeInstanceOf(
      UniqueViolation,
    );
    // utf8mb4_unicode_ci: case and accents do not make an email different.
    await expect(store.users.create(newUser(15, { email: "SAMÉ1@Example.com" }))).rejects.toBeInstanceOf(
      UniqueViolation,
    );
    phase.value = 5;
    await store.users.create(newUser(13, { id: 810_013n, email: "same5@example.com" }));
    await expect(store.users.create(newUser(14, { id: 810_014n, email: "same5@example.com" }))).rejects.toBeInstanceOf(
      UniqueViolation,
    );
    await expect(store.users.create(newUser(16, { id: 810_016n, email: "SAMÉ5@Example.com" }))).rejects.toBeInstanceOf(
      UniqueViolation,
    );
  });

  it("the MySQL-only and DynamoDB-only stores have the same repositories and touch only their own store", async () => {
    const onMysql = createMysqlStore({ mysql: connection });
    const onDynamo = createDynamoStore({ dynamodb: stack.dynamodb(), tablePrefix: stack.tablePrefix });
    const routed: (keyof typeof onMysql)[] = Object.keys(store) as (keyof typeof store)[];
    expect(Object.keys(onMysql)).toEqual(routed);
    expect(Object.keys(onDynamo)).toEqual(routed);

    const mine = await onMysql.users.create(newUser(21));
    expect(await onMysql.users.getUserByEmail({ email: mine.email })).toEqual(mine);
    expect(await onDynamo.users.getUserByEmail({ email: mine.email })).toBeUndefined();

    const theirs = await onDynamo.users.create(newUser(22));
    expect(await onDynamo.users.getUserByUsername({ username: theirs.username })).toEqual(theirs);
    expect(await onMysql.users.getUserByUsername({ username: theirs.username })).toBeUndefined();
    // Its id comes from the id counter (as in phase 5), not from a MySQL server.
    expect(typeof theirs.id).toBe("bigint");
  });

  it("listings page through both stores, and a cursor does not cross a phase change", async () => {
    phase.value = 2;
    const first = await store.categories.listCategories({ limit: 10 });
    expect(first.items).toHaveLength(10);
    const all = [...first.items];
    let cursor = first.cursor;
    while (cursor) {
      const next = await store.categories.listCategories({ limit: 10, cursor });
      all.push(...next.items);
      cursor = next.cursor;
    }
    expect(all).toHaveLength(25);
    phase.value = 4;
    await expect(store.categories.listCategories({ limit: 10, cursor: first.cursor })).rejects.toThrow(
      /restart the listing/,
    );
  });
});
