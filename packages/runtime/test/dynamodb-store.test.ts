/**
 * DynamoEntityStore against DynamoDB Local, on the store contract's own tables: uniqueness markers, key moves,
 * conditional increments, item-collection and index queries with cursors.
 */
import { fileURLToPath } from "node:url";
import { DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { loadValidContract } from "@ferry/contract";
import { dynamoDbClient } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { type Codec, createCodec, type EntityValue, foldForCollation } from "../src/codec/index.ts";
import { DynamoEntityStore, uniqueMarkerKey, VERSION_ATTRIBUTE } from "../src/dynamodb/index.ts";
import { enforcedByKey, uniqueRules } from "../src/dynamodb/unique-markers.ts";
import {
  AlreadyExists,
  ConditionFailed,
  CursorError,
  NotFound,
  StoreError,
  UniqueViolation,
  WriteConflict,
} from "../src/errors.ts";
import { applyTables } from "../src/tables/index.ts";
import { expectError, keyed, rejection, uniqueViolation } from "./store-errors.ts";

const stack = useTestStack();
const contractFile = fileURLToPath(new URL("../../../contract/store.yaml", import.meta.url));

let codec: Codec;
let store: DynamoEntityStore;

beforeAll(async () => {
  const contract = await loadValidContract(contractFile);
  codec = createCodec(contract);
  const client = stack.dynamodb();
  await applyTables(client, contract, { prefix: stack.tablePrefix });
  store = new DynamoEntityStore(client, codec, { tablePrefix: stack.tablePrefix });
}, 600_000);

function user(id: bigint, overrides: EntityValue = {}): EntityValue {
  return {
    id,
    username: `user${id}`,
    email: `user${id}@example.com`,
    passwordHash: "hash",
    firstName: "Ada",
    lastName: null,
    isSeller: false,
    createdAt: "2026-01-02T03:04:05.123Z",
    updatedAt: "2026-01-02T03:04:05.123Z",
    ...overrides,
  };
}

function product(id: bigint, overrides: EntityValue = {}): EntityValue {
  return {
    id,
    sellerId: 1n,
    categoryId: 7n,
    name: `Product ${id}`,
    description: null,
    price: "19.99",
    inventoryQuantity: 2,
    imageUrl: null,
    createdAt: `2026-01-0${Number(id % 9n) + 1}T00:00:00.000Z`,
    updatedAt: "2026-01-01T00:00:00.000Z",
    ...overrides,
  };
}

function cart(userId: bigint, productId: bigint, id: bigint): EntityValue {
  return {
    id,
    userId,
    productId,
    quantity: 1,
    createdAt: "2026-01-02T03:04:05.123Z",
    updatedAt: "2026-01-02T03:04:05.123Z",
  };
}

async function rawItem(key: Record<string, { S: string }>) {
  const out = await stack
    .dynamodb()
    .send(new GetItemCommand({ TableName: `${stack.tablePrefix}main`, Key: key, ConsistentRead: true }));
  return out.Item;
}

describe("create and get", () => {
  it("round-trips a User and a Product (bigints beyond 2^53, exact decimals)", async () => {
    const ada = user(18446744073709551615n, { lastName: "Lovelace", isSeller: true });
    const before = Date.now();
    await store.create("User", ada);
    const after = Date.now();
    expect(await store.get("User", { id: 18446744073709551615n })).toEqual(ada);

    const widget = product(9007199254740993n, {
      price: "12345678.90",
      description: "exact",
      sellerName: "ada",
    });
    await store.create("Product", widget);
    expect(await store.get("Product", { id: 9007199254740993n })).toEqual(widget);
    expect(await store.get("Product", { id: 424242n })).toBeUndefined();

    const item = await rawItem(
      codec.entity("User").key({ id: 18446744073709551615n }) as Record<string, { S: string }>,
    );
    // A new item's version is the time (ms) times 1000 plus a counter: never one read before its key was deleted.
    const version = Number(item?.[VERSION_ATTRIBUTE]?.N);
    expect(version).toBeGreaterThanOrEqual(before * 1000);
    expect(version).toBeLessThan((after + 1) * 1000);
  });

  it("refuses a second item with the same key", async () => {
    await store.create("User", user(100n));
    const error = await rejection(store.create("User", user(100n, { username: "other100", email: "other100@x" })));
    expectError(error, AlreadyExists, keyed("exists", "dynamodb", "User", { id: 100n }));
  });

  it("refuses a duplicate email with UniqueViolation and writes nothing", async () => {
    await store.create("User", user(1n));
    const copy = user(2n, { email: "user1@example.com" });
    const error = await store.create("User", copy).catch((e: unknown) => e);
    expectError(
      error,
      UniqueViolation,
      uniqueViolation("dynamodb", "User", "uq_users_email", { email: "user1@example.com" }),
    );
    expect(await store.get("User", { id: 2n })).toBeUndefined();
    // Not even the username marker of the refused item.
    const marker = uniqueMarkerKey(codec.entity("User"), "uq_users_username", copy);
    const markerId = "UNIQUE#User#uq_users_username#user2";
    expect(marker).toEqual({ PK: { S: markerId }, SK: { S: markerId } });
    expect(await rawItem(marker as Record<string, { S: string }>)).toBeUndefined();
  });
});

describe("unique rules on a _ci column (users.email is utf8mb4_unicode_ci)", () => {
  it("refuses a value that differs only in case, accents or trailing spaces, as MySQL's UNIQUE key does", async () => {
    await store.create("User", user(130n, { email: "Zoë.Straße@Example.com" }));
    for (const [n, email] of [
      [131n, "zoe.strasse@example.com"],
      [132n, "ZOË.STRASSE@EXAMPLE.COM"],
      [133n, "zoë.straße@example.com   "],
    ] as const) {
      const error = await rejection(store.create("User", user(n, { email })));
      expectError(error, UniqueViolation, uniqueViolation("dynamodb", "User", "uq_users_email", { email }), email);
    }
    await store.create("User", user(134n, { email: "zoe.strasse@example.org" }));
  });

  it("lets an item change the case of its own value (one marker, kept), and frees it on a real change", async () => {
    await store.create("User", user(135n, { email: "Case@Example.com" }));
    await store.update("User", { id: 135n }, { email: "case@example.com" });
    expect((await store.get("User", { id: 135n }))?.email).toBe("case@example.com");
    const taken = await rejection(store.create("User", user(136n, { email: "CASE@example.com" })));
    expectError(
      taken,
      UniqueViolation,
      uniqueViolation("dynamodb", "User", "uq_users_email", { email: "CASE@example.com" }),
    );
    await store.update("User", { id: 135n }, { email: "other135@example.com" });
    await store.create("User", user(136n, { email: "CASE@example.com" }));
  });

  it("folds as the collation compares", () => {
    expect(foldForCollation("Straße")).toBe(foldForCollation("STRASSE"));
    expect(foldForCollation("Crème Brûlée  ")).toBe("creme brulee");
    expect(foldForCollation("a b")).not.toBe(foldForCollation("ab"));
  });
});

describe("a unique rule the item's own key enforces (a cart line's user and product)", () => {
  const rule = "uq_shopping_carts_user_product";
  const line = (id: bigint, quantity = 1): EntityValue => ({
    id,
    userId: 140n,
    productId: 141n,
    quantity,
    createdAt: "2026-01-02T03:04:05.123Z",
    updatedAt: "2026-01-02T03:04:05.123Z",
  });

  it("has no marker item: the line is one item, and its values taken again are MySQL's UniqueViolation", async () => {
    await store.create("ShoppingCart", line(1n));
    const marker = uniqueMarkerKey(codec.entity("ShoppingCart"), rule, line(1n)) as Record<string, { S: string }>;
    expect(marker.PK?.S).toMatch(/^UNIQUE#ShoppingCart#uq_shopping_carts_user_product#/);
    expect(await rawItem(marker)).toBeUndefined();
    expect(await rawItem(codec.entity("ShoppingCart").key(line(1n)) as Record<string, { S: string }>)).toBeDefined();

    const again = await rejection(store.create("ShoppingCart", line(2n, 5)));
    expectError(
      again,
      UniqueViolation,
      uniqueViolation("dynamodb", "ShoppingCart", rule, { userId: 140n, productId: 141n }),
    );
    expect((await store.get("ShoppingCart", { id: 1n, userId: 140n, productId: 141n }))?.quantity).toBe(1);

    expect(await store.delete("ShoppingCart", { id: 1n, userId: 140n, productId: 141n })).toBe(true);
    await store.create("ShoppingCart", line(3n, 2));
    expect((await store.get("ShoppingCart", { id: 3n, userId: 140n, productId: 141n }))?.quantity).toBe(2);
  });

  it("refuses a line moved onto another product's line with MySQL's UniqueViolation, and writes nothing", async () => {
    const mine = { ...line(10n), productId: 150n };
    const theirs = { ...line(11n), productId: 151n };
    await store.create("ShoppingCart", mine);
    await store.create("ShoppingCart", theirs);
    const moved = await rejection(
      store.update("ShoppingCart", { id: 10n, userId: 140n, productId: 150n }, { productId: 151n }),
    );
    expectError(
      moved,
      UniqueViolation,
      uniqueViolation("dynamodb", "ShoppingCart", rule, { userId: 140n, productId: 151n }),
    );
    expect((await store.get("ShoppingCart", { id: 10n, userId: 140n, productId: 150n }))?.id).toBe(10n);
    expect((await store.get("ShoppingCart", { id: 11n, userId: 140n, productId: 151n }))?.id).toBe(11n);
  });

  it("is told from one that needs its marker: a template with two placeholders, or a rule over other attributes", async () => {
    const contract = await loadValidContract(contractFile);
    expect(enforcedByKey(codec.entity("ShoppingCart"), { name: rule, attributes: ["userId", "productId"] })).toBe(true);
    expect(enforcedByKey(codec.entity("ShoppingCart"), { name: "x", attributes: ["userId"] })).toBe(false);
    expect(uniqueRules(codec.entity("ShoppingCart"))).toEqual([]);
    expect(uniqueRules(codec.entity("OrderItem"))).toEqual([]);
    expect(uniqueRules(codec.entity("User")).map((r) => r.name)).toEqual(["uq_users_email", "uq_users_username"]);
    // "7#12" and "71#2" would run together in one template: such a key cannot stand for the rule.
    const joined = structuredClone(contract);
    const cart = joined.entities.ShoppingCart;
    if (!cart) throw new Error("the store contract has no ShoppingCart");
    cart.key = { partition: "USER#{userId}", sort: "SHOPPING_CART#{userId}#{productId}" };
    expect(uniqueRules(createCodec(joined).entity("ShoppingCart")).map((r) => r.name)).toEqual([rule]);
  });
});

describe("update", () => {
  it("swaps the username marker: the old value is free again, the new one taken", async () => {
    await store.create("User", user(10n));
    const key10 = codec.entity("User").key({ id: 10n }) as Record<string, { S: string }>;
    const created = Number((await rawItem(key10))?.[VERSION_ATTRIBUTE]?.N);
    await store.create("User", user(11n));
    const renaming = await rejection(store.update("User", { id: 11n }, { username: "user10" }));
    expectError(
      renaming,
      UniqueViolation,
      uniqueViolation("dynamodb", "User", "uq_users_username", { username: "user10" }),
    );

    const updated = await store.update("User", { id: 10n }, { username: "renamed10", firstName: "Grace" });
    // The store writes what it is given (the router sets updatedAt).
    expect(updated).toEqual(user(10n, { username: "renamed10", firstName: "Grace" }));
    expect(await store.get("User", { id: 10n })).toEqual(updated);
    // The GSI key follows the new username.
    const byName = await store.query("User", { index: "GSI1", values: { username: "renamed10" } });
    expect(byName.items.map((u) => u.id)).toEqual([10n]);
    expect((await store.query("User", { index: "GSI1", values: { username: "user10" } })).items).toEqual([]);

    // The old username is free for another user; the new one is not.
    await store.update("User", { id: 11n }, { username: "user10" });
    const renamed = await rejection(store.create("User", user(12n, { username: "renamed10" })));
    expectError(
      renamed,
      UniqueViolation,
      uniqueViolation("dynamodb", "User", "uq_users_username", { username: "renamed10" }),
    );
    const item = await rawItem(key10);
    expect(item?.[VERSION_ATTRIBUTE]).toEqual({ N: String(created + 1) });
  });

  it("updates in place without unique changes and bumps the version", async () => {
    await store.create("User", user(20n, { lastName: "Before" }));
    const key20 = codec.entity("User").key({ id: 20n }) as Record<string, { S: string }>;
    const created = Number((await rawItem(key20))?.[VERSION_ATTRIBUTE]?.N);
    const updated = await store.update("User", { id: 20n }, { lastName: null, isSeller: true });
    expect(updated).toEqual(user(20n, { lastName: null, isSeller: true }));
    const item = await rawItem(key20);
    expect(item?.lastName).toBeUndefined();
    expect(item?.[VERSION_ATTRIBUTE]).toEqual({ N: String(created + 1) });
    const missing = await rejection(store.update("User", { id: 999n }, { firstName: "x" }));
    expectError(missing, NotFound, keyed("missing", "dynamodb", "User", { id: 999n }));
  });

  it("moves an item whose key changes, in one transaction", async () => {
    await store.create("User", user(30n));
    await store.create("ShoppingCart", cart(30n, 5n, 1n));
    const moved = await store.update("ShoppingCart", { userId: 30n, productId: 5n }, { productId: 6n, quantity: 3 });
    expect(moved).toEqual({ ...cart(30n, 5n, 1n), productId: 6n, quantity: 3 });
    expect(await store.get("ShoppingCart", { userId: 30n, productId: 5n })).toBeUndefined();
    expect(await store.get("ShoppingCart", { userId: 30n, productId: 6n })).toEqual(moved);
    // The unique marker moved too: product 5 can be added again, product 6 cannot.
    await store.create("ShoppingCart", cart(30n, 5n, 2n));
    const line = await rejection(store.create("ShoppingCart", cart(30n, 6n, 3n)));
    expectError(
      line,
      UniqueViolation,
      uniqueViolation("dynamodb", "ShoppingCart", "uq_shopping_carts_user_product", { userId: 30n, productId: 6n }),
    );
  });

  it("decrements stock with a condition until it is gone", async () => {
    await store.create("Product", product(50n, { inventoryQuantity: 2 }));
    const decrement = () =>
      store.update(
        "Product",
        { id: 50n },
        {},
        { add: { inventoryQuantity: -1 }, condition: [{ attribute: "inventoryQuantity", op: ">=", value: 1 }] },
      );
    expect((await decrement())?.inventoryQuantity).toBe(1);
    expect((await decrement())?.inventoryQuantity).toBe(0);
    const error = await decrement().catch((e: unknown) => e);
    expectError(error, ConditionFailed, keyed("condition", "dynamodb", "Product", { id: 50n }));
    expect((await store.get("Product", { id: 50n }))?.inventoryQuantity).toBe(0);
  });
});

describe("query", () => {
  it("lists a user's cart lines only, not the User item in the same partition", async () => {
    await store.create("User", user(60n));
    for (const p of [3n, 1n, 2n]) await store.create("ShoppingCart", cart(60n, p, 600n + p));
    const page = await store.query("ShoppingCart", { values: { userId: 60n } });
    expect(page.items.map((c) => c.productId)).toEqual([1n, 2n, 3n]);
    expect(page.cursor).toBeUndefined();
    const desc = await store.query("ShoppingCart", { values: { userId: 60n }, order: "desc" });
    expect(desc.items.map((c) => c.productId)).toEqual([3n, 2n, 1n]);
  });

  it("queries products by category on GSI1, newest first, and pages through them exactly once", async () => {
    const ids = [201n, 202n, 203n, 204n, 205n];
    for (const id of ids) await store.create("Product", product(id, { categoryId: 77n }));
    const all = await store.query("Product", { index: "GSI1", values: { categoryId: 77n }, order: "desc" });
    expect(all.items.map((p) => p.id)).toEqual([...ids].reverse());

    const seen: unknown[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.query("Product", {
        index: "GSI1",
        values: { categoryId: 77n },
        order: "desc",
        limit: 2,
        ...(cursor === undefined ? {} : { cursor }),
      });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((p) => p.id));
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined && pages < 10);
    expect(seen).toEqual([...ids].reverse());

    const first = await store.query("Product", { index: "GSI1", values: { categoryId: 77n }, limit: 2 });
    // DynamoDB's LastEvaluatedKey of GSI1 after the second product (oldest first: 201, 202).
    const after = codec.entity("Product");
    expect(JSON.parse(Buffer.from(first.cursor ?? "", "base64url").toString("utf8"))).toEqual({
      v: 1,
      store: "dynamodb",
      entity: "Product",
      index: "GSI1",
      key: { ...after.key({ id: 202n }), ...after.indexKey("GSI1", product(202n, { categoryId: 77n })) },
      // The listing's order and filters, digested: a continuation must have the same.
      where: expect.stringMatching(/^[\w-]{16}$/),
    });
    const other = first.cursor as string;
    const refusals: Array<[Promise<unknown>, string, string]> = [
      [
        store.query("ShoppingCart", { values: { userId: 60n }, cursor: other }),
        "ShoppingCart",
        "belongs to a listing of Product",
      ],
      [
        store.query("Product", { index: "GSI2", values: { sellerId: 1n }, cursor: other }),
        "Product",
        "continues a listing of index GSI1, not of index GSI2",
      ],
      [
        store.query("Product", {
          index: "GSI1",
          values: { categoryId: 77n },
          cursor: Buffer.from(JSON.stringify({ v: 1, store: "mysql", entity: "Product" })).toString("base64url"),
        }),
        "Product",
        "belongs to the mysql store",
      ],
    ];
    for (const [query, entity, problem] of refusals) {
      const message = `${entity}: the cursor ${problem}; restart the listing`;
      expectError(await rejection(query), CursorError, { store: "dynamodb", entity, message }, problem);
    }
  });
});

describe("a client that caches its middleware (cacheMiddleware, as the store's)", () => {
  it("gets and lists without call options, so the client reuses what it resolved; a signal still aborts", async () => {
    const cached = dynamoDbClient(stack.dynamodbEndpoint, undefined, { cacheMiddleware: true });
    try {
      const own = new DynamoEntityStore(cached, codec, { tablePrefix: stack.tablePrefix });
      await own.create("User", user(75n));
      await own.create("ShoppingCart", cart(75n, 1n, 751n));
      expect((await own.get("User", { id: 75n }))?.email).toBe("user75@example.com");
      expect((await own.query("ShoppingCart", { values: { userId: 75n } })).items).toHaveLength(1);
      // The SDK resolves a client's middleware again for a call sent with options (even empty ones) and forgets what
      // it cached; without options it reuses the handler of the command's class, so middleware added now never runs.
      let resolvedAgain = 0;
      cached.middlewareStack.add(
        (next) => async (args) => {
          resolvedAgain++;
          return next(args);
        },
        { step: "initialize", name: "countResolvedAgain" },
      );
      expect((await own.get("User", { id: 75n }))?.email).toBe("user75@example.com");
      expect((await own.query("ShoppingCart", { values: { userId: 75n } })).items).toHaveLength(1);
      expect(resolvedAgain).toBe(0);
      const signal = new AbortController().signal;
      expect((await own.get("User", { id: 75n }, { signal }))?.email).toBe("user75@example.com");
      expect(resolvedAgain).toBe(1);
      const aborted = new AbortController();
      aborted.abort(new Error("given up"));
      await expect(own.get("User", { id: 75n }, { signal: aborted.signal })).rejects.toThrow();
      await own.delete("ShoppingCart", { userId: 75n, productId: 1n });
      await own.delete("User", { id: 75n });
    } finally {
      cached.destroy();
    }
  });
});

describe("delete", () => {
  it("removes the item and its markers, so the email can be used again", async () => {
    await store.create("User", user(70n));
    expect(await store.delete("User", { id: 70n })).toBe(true);
    expect(await store.get("User", { id: 70n })).toBeUndefined();
    expect(await store.delete("User", { id: 70n })).toBe(false);
    await store.create("User", user(71n, { email: "user70@example.com", username: "user70" }));
    expect((await store.get("User", { id: 71n }))?.email).toBe("user70@example.com");
  });

  it("an item with no marker or word item (a cart line) in one call, not read first, and only the item the key names", async () => {
    const client = dynamoDbClient(stack.dynamodbEndpoint);
    const calls: string[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        calls.push(context.commandName ?? "?");
        return next(args);
      },
      { step: "initialize", name: "countCalls" },
    );
    try {
      const own = new DynamoEntityStore(client, codec, { tablePrefix: stack.tablePrefix });
      await own.create("ShoppingCart", cart(72n, 1n, 720n));
      calls.length = 0;
      expect(await own.delete("ShoppingCart", { id: 720n, userId: 72n, productId: 1n })).toBe(true);
      expect(calls).toEqual(["TransactWriteItemsCommand"]);
      expect(await own.delete("ShoppingCart", { id: 720n, userId: 72n, productId: 1n })).toBe(false);

      // The line of that user and product made again (another id): a delete of the old line leaves it, as MySQL's
      // DELETE ... WHERE id = 720 would; without the id, the key's line is deleted.
      await own.create("ShoppingCart", cart(72n, 1n, 721n));
      expect(await own.delete("ShoppingCart", { id: 720n, userId: 72n, productId: 1n })).toBe(false);
      expect((await own.get("ShoppingCart", { userId: 72n, productId: 1n }))?.id).toBe(721n);
      // At a version: the one it is at deletes it; another is a WriteConflict, as for an item read first.
      const read = await own.versioned("ShoppingCart", { userId: 72n, productId: 1n });
      if (read === undefined) throw new Error("the line is not there");
      const other = String(Number(read.version) + 1);
      await expect(
        own.delete("ShoppingCart", { userId: 72n, productId: 1n }, { ifVersion: other }),
      ).rejects.toBeInstanceOf(WriteConflict);
      expect(await own.delete("ShoppingCart", { userId: 72n, productId: 1n }, { ifVersion: read.version })).toBe(true);
      await expect(
        own.delete("ShoppingCart", { userId: 72n, productId: 1n }, { ifVersion: read.version }),
      ).rejects.toBeInstanceOf(WriteConflict);
      expect(await own.get("ShoppingCart", { userId: 72n, productId: 1n })).toBeUndefined();

      // An item no ferry write versioned (version "0"): at "0" it is deleted; a versioned one at "0" is a WriteConflict.
      const lineKey = codec.entity("ShoppingCart").key({ userId: 72n, productId: 2n });
      await own.create("ShoppingCart", cart(72n, 2n, 722n));
      await expect(
        own.delete("ShoppingCart", { userId: 72n, productId: 2n }, { ifVersion: "0" }),
      ).rejects.toBeInstanceOf(WriteConflict);
      await client.send(
        new UpdateItemCommand({
          TableName: `${stack.tablePrefix}main`,
          Key: lineKey,
          UpdateExpression: "REMOVE #v",
          ExpressionAttributeNames: { "#v": VERSION_ATTRIBUTE },
        }),
      );
      expect((await own.versioned("ShoppingCart", { userId: 72n, productId: 2n }))?.version).toBe("0");
      expect(await own.delete("ShoppingCart", { userId: 72n, productId: 2n }, { ifVersion: "0" })).toBe(true);

      // Not a cart line's item under the key, or a null id: nothing is deleted.
      const stranger = { ...lineKey, __entity: { S: "Stranger" } };
      await client.send(new PutItemCommand({ TableName: `${stack.tablePrefix}main`, Item: stranger }));
      expect(await own.delete("ShoppingCart", { userId: 72n, productId: 2n })).toBe(false);
      expect(await rawItem(lineKey as Record<string, { S: string }>)).toEqual(stranger);
      await client.send(new DeleteItemCommand({ TableName: `${stack.tablePrefix}main`, Key: lineKey }));
      await own.create("ShoppingCart", cart(72n, 3n, 723n));
      expect(await own.delete("ShoppingCart", { id: null, userId: 72n, productId: 3n })).toBe(false);
      expect((await own.get("ShoppingCart", { userId: 72n, productId: 3n }))?.id).toBe(723n);
      expect(await own.delete("ShoppingCart", { id: 723n, userId: 72n, productId: 3n })).toBe(true);

      // An item with markers is read first, to delete its markers with it.
      await own.create("User", user(73n));
      calls.length = 0;
      expect(await own.delete("User", { id: 73n })).toBe(true);
      expect(calls).toEqual(["GetItemCommand", "TransactWriteItemsCommand"]);
    } finally {
      client.destroy();
    }
  });
});

describe("transact", () => {
  it("checks out all or nothing: stock decremented, order and line created, cart line deleted", async () => {
    await store.create("User", user(80n));
    await store.create("Product", product(800n, { inventoryQuantity: 1 }));
    await store.create("ShoppingCart", cart(80n, 800n, 8000n));
    const order = {
      id: 801n,
      userId: 80n,
      totalAmount: "19.99",
      status: "pending",
      createdAt: "2026-02-01T00:00:00.000Z",
      updatedAt: "2026-02-01T00:00:00.000Z",
    };
    const line = { id: 802n, orderId: 801n, productId: 800n, quantity: 1, priceAtTime: "19.99" };
    const checkout = (orderId: bigint) => [
      {
        update: "Product",
        key: { id: 800n },
        add: { inventoryQuantity: -1 },
        condition: [{ attribute: "inventoryQuantity", op: ">=" as const, value: 1 }],
      },
      { create: "Order", value: { ...order, id: orderId } },
      { create: "OrderItem", value: { ...line, orderId } },
      { delete: "ShoppingCart", key: { userId: 80n, productId: 800n } },
    ];
    await store.transact(checkout(801n));
    expect((await store.get("Product", { id: 800n }))?.inventoryQuantity).toBe(0);
    expect(await store.get("Order", { id: 801n })).toEqual(order);
    expect(await store.get("OrderItem", { orderId: 801n, productId: 800n })).toEqual(line);
    expect(await store.get("ShoppingCart", { userId: 80n, productId: 800n })).toBeUndefined();

    // Out of stock: nothing of the second checkout is written.
    await store.create("ShoppingCart", cart(80n, 800n, 8001n));
    const error = await store.transact(checkout(803n)).catch((e: unknown) => e);
    expectError(error, ConditionFailed, keyed("condition", "dynamodb", "Product", { id: 800n }));
    expect(await store.get("Order", { id: 803n })).toBeUndefined();
    expect(await store.get("ShoppingCart", { userId: 80n, productId: 800n })).toEqual(cart(80n, 800n, 8001n));
  });

  it("refuses a transaction past 100 items before sending it (word items count)", async () => {
    // Each product is 3 items: its own and one per word of "Product <id>".
    const writes = Array.from({ length: 34 }, (_, i) => ({ create: "Product", value: product(1000n + BigInt(i)) }));
    expectError(await rejection(store.transact(writes)), StoreError, {
      store: "dynamodb",
      entity: "transaction",
      message:
        "transaction: a transaction of 102 writes (unique markers and word items included) is over DynamoDB's limit of 100",
    });
    expect(await store.get("Product", { id: 1000n })).toBeUndefined();
  });
});
