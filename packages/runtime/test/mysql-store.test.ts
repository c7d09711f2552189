/**
 * The MySQL entity store on real MariaDB: the store's schema from its migrations (demo data seeded), the contract
 * from contract/store.yaml. Statement text is checked exactly; every write goes through the store and is read back.
 */
import { fileURLToPath } from "node:url";
import { type Contract, loadValidContract } from "@ferry/contract";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { beforeAll, describe, expect, it } from "vitest";
import { type Codec, createCodec, type EntityValue } from "../src/codec/index.ts";
import { ConditionFailed, CursorError, NotFound, StoreError, UniqueViolation } from "../src/errors.ts";
import { escapeId, MysqlEntityStore, mysqlStatements, nextAutoIncrementOf } from "../src/mysql/index.ts";
import { expectError, keyed, rejection, uniqueViolation } from "./store-errors.ts";

const stack = useTestStack();
const contractFile = fileURLToPath(new URL("../../../contract/store.yaml", import.meta.url));

let codec: Codec;
let store: MysqlEntityStore;

beforeAll(async () => {
  await seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } });
  const contract = await loadValidContract(contractFile);
  codec = createCodec(contract);
  store = new MysqlEntityStore(await stack.mysql(), codec);
}, 600_000);

const USER_COLUMNS =
  "`id`, `username`, `email`, `password_hash`, `first_name`, `last_name`, `is_seller`, `created_at`, `updated_at`";
const CART_COLUMNS = "`id`, `user_id`, `product_id`, `quantity`, `created_at`, `updated_at`";

describe("mysqlStatements", () => {
  it("builds User's statements with escaped identifiers and ? parameters", () => {
    const sql = mysqlStatements(codec, "User");
    expect(sql.columns).toBe(USER_COLUMNS);
    expect(sql.keyAttributes).toEqual(["id"]);
    expect(sql.autoIncrement).toBe("id");
    expect(sql.selectByKey).toBe(`SELECT ${USER_COLUMNS} FROM \`users\` WHERE \`id\` = ?`);
    expect(sql.insert).toBe(
      "INSERT INTO `users` (`username`, `email`, `password_hash`, `first_name`, `last_name`, `is_seller`, `created_at`, `updated_at`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    expect(sql.deleteByKey).toBe("DELETE FROM `users` WHERE `id` = ?");
    expect(sql.updateByKey(["email", "firstName"])).toBe(
      "UPDATE `users` SET `email` = ?, `first_name` = ? WHERE `id` = ?",
    );
    expect(
      sql.updateByKey({
        set: ["lastName"],
        conditions: [
          { attribute: "email", op: "=" },
          { attribute: "isSeller", op: "<>" },
        ],
      }),
    ).toBe("UPDATE `users` SET `last_name` = ? WHERE `id` = ? AND `email` <=> ? AND NOT (`is_seller` <=> ?)");
    expect(sql.listBy([])).toEqual({
      first: `SELECT ${USER_COLUMNS} FROM \`users\` ORDER BY \`id\` LIMIT ?`,
      next: `SELECT ${USER_COLUMNS} FROM \`users\` WHERE \`id\` > ? ORDER BY \`id\` LIMIT ?`,
      cursorAttributes: ["id"],
    });
  });

  it("builds ShoppingCart's statements, with keyset listing and server-side increments", () => {
    const sql = mysqlStatements(codec, "ShoppingCart");
    // A key names the primary key and DynamoDB's key attributes, so both stores address the same cart line.
    const byKey = "`id` = ? AND `user_id` = ? AND `product_id` = ?";
    expect(sql.identityAttributes).toEqual(["id", "userId", "productId"]);
    expect(sql.selectByKey).toBe(`SELECT ${CART_COLUMNS} FROM \`shopping_carts\` WHERE ${byKey}`);
    expect(sql.insert).toBe(
      "INSERT INTO `shopping_carts` (`user_id`, `product_id`, `quantity`, `created_at`, `updated_at`) VALUES (?, ?, ?, ?, ?)",
    );
    expect(sql.insertColumns(["userId", "productId"])).toBe(
      "INSERT INTO `shopping_carts` (`user_id`, `product_id`) VALUES (?, ?)",
    );
    expect(sql.deleteByKey).toBe(`DELETE FROM \`shopping_carts\` WHERE ${byKey}`);
    expect(sql.deleteByKeyIf([{ attribute: "quantity", op: "=" }])).toBe(
      `DELETE FROM \`shopping_carts\` WHERE ${byKey} AND \`quantity\` <=> ?`,
    );
    expect(sql.lockByKeyIf([{ attribute: "quantity", op: ">" }])).toBe(
      `SELECT 1 AS found FROM \`shopping_carts\` WHERE ${byKey} AND \`quantity\` > ? FOR UPDATE`,
    );
    expect(sql.updateByKey({ set: [], add: ["quantity"], conditions: [{ attribute: "quantity", op: ">=" }] })).toBe(
      `UPDATE \`shopping_carts\` SET \`quantity\` = \`quantity\` + ? WHERE ${byKey} AND \`quantity\` >= ?`,
    );
    expect(sql.listBy(["userId"], { attribute: "createdAt", direction: "desc" })).toEqual({
      first: `SELECT ${CART_COLUMNS} FROM \`shopping_carts\` WHERE \`user_id\` <=> ? ORDER BY \`created_at\` DESC, \`id\` DESC LIMIT ?`,
      next: `SELECT ${CART_COLUMNS} FROM \`shopping_carts\` WHERE \`user_id\` <=> ? AND (\`created_at\`, \`id\`) < (?, ?) ORDER BY \`created_at\` DESC, \`id\` DESC LIMIT ?`,
      cursorAttributes: ["createdAt", "id"],
    });
    expect(sql.listBy(["userId"], { attribute: "createdAt", direction: "asc" }).next).toBe(
      `SELECT ${CART_COLUMNS} FROM \`shopping_carts\` WHERE \`user_id\` <=> ? AND (\`created_at\`, \`id\`) > (?, ?) ORDER BY \`created_at\`, \`id\` LIMIT ?`,
    );
  });

  it("doubles backticks inside identifiers", () => {
    expect(escapeId("a`b")).toBe("`a``b`");
    const contract: Contract = {
      version: 1,
      name: "odd",
      source: { engine: "mariadb", serverVersion: "10.11", database: "odd" },
      tables: { main: { partitionKey: "PK", sortKey: "SK" } },
      entities: {
        Odd: {
          table: "main",
          key: { partition: "ODD#{id}", sort: "ODD" },
          attributes: {
            id: { type: "integer", column: { name: "i`d", sqlType: "int(11)", nullable: false, autoIncrement: true } },
            label: { type: "string", column: { name: "la``bel", sqlType: "varchar(10)", nullable: true } },
          },
          source: { table: "we`ird", primaryKey: ["i`d"], rows: 0, avgRowBytes: 0 },
        },
      },
    };
    const sql = mysqlStatements(createCodec(contract), "Odd");
    expect(sql.selectByKey).toBe("SELECT `i``d`, `la````bel` FROM `we``ird` WHERE `i``d` = ?");
    expect(sql.insert).toBe("INSERT INTO `we``ird` (`la````bel`) VALUES (?)");
    expect(sql.updateByKey(["label"])).toBe("UPDATE `we``ird` SET `la````bel` = ? WHERE `i``d` = ?");
    expect(sql.deleteByKey).toBe("DELETE FROM `we``ird` WHERE `i``d` = ?");
  });

  it("refuses a nullable order attribute for keyset pagination", () => {
    expect(() => mysqlStatements(codec, "Product").listBy([], { attribute: "imageUrl", direction: "asc" })).toThrow(
      /NOT NULL/,
    );
  });
});

const BIG_ID = 9007199254740993n; // 2^53 + 1: a JS number cannot hold it

function newUser(suffix: string, extra: EntityValue = {}): EntityValue {
  return {
    username: `user_${suffix}`,
    email: `${suffix}@example.test`,
    passwordHash: "scrypt$x",
    firstName: "Zoë",
    lastName: null,
    isSeller: true,
    ...extra,
  };
}

describe("MysqlEntityStore", () => {
  it("creates with the auto-increment id, reads, updates and deletes exactly", async () => {
    const user = await store.create("User", newUser("ada", { id: BIG_ID }));
    expect(user.id).toBe(BIG_ID);
    expect(user.email).toBe("ada@example.test");
    expect(user.isSeller).toBe(true);
    expect(user.lastName).toBeNull();
    expect(user.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const next = await store.create("User", newUser("bob"));
    expect(next.id).toBe(BIG_ID + 1n);
    expect(typeof next.id).toBe("bigint");
    expect(await store.get("User", { id: BIG_ID + 1n })).toEqual(next);

    const order = await store.create("Order", { userId: BIG_ID, totalAmount: "9999999999.99" });
    expect(typeof order.id).toBe("bigint");
    // The server's defaults filled in: the status, and both timestamps from its clock (one instant).
    const serverTime = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(order).toEqual({
      id: order.id,
      userId: BIG_ID,
      totalAmount: "9999999999.99",
      status: "pending",
      createdAt: serverTime,
      updatedAt: order.createdAt,
    });
    await store.update("Order", { id: order.id }, { totalAmount: "0.10", status: "paid" });
    expect(await store.get("Order", { id: order.id })).toEqual({
      ...order,
      totalAmount: "0.10",
      status: "paid",
      updatedAt: serverTime,
    });
    await store.update("Order", { id: order.id }, {}, { add: { totalAmount: "1234567890.01" } });
    expect((await store.get("Order", { id: order.id }))?.totalAmount).toBe("1234567890.11");

    expect(await store.delete("Order", { id: order.id })).toBe(true);
    expect(await store.delete("Order", { id: order.id })).toBe(false);
    expect(await store.get("Order", { id: order.id })).toBeUndefined();
    const missing = await rejection(store.update("Order", { id: order.id }, { status: "paid" }));
    expectError(missing, NotFound, keyed("missing", "mysql", "Order", { id: order.id }));
  });

  it("leaves the values out of a failed statement's error (mysql2 writes them into its `sql`)", async () => {
    const error = (await rejection(store.create("Order", { userId: 987_654_321n, totalAmount: "12.34" }))) as {
      errno?: number;
      sql?: string;
    };
    // A foreign key to no user.
    expect(error.errno).toBe(1452);
    expect(error.sql).toMatch(/^INSERT INTO `orders` \(.*\) VALUES \(\?, \?.*\)$/);
    expect(JSON.stringify(error)).not.toContain("987654321");
    expect(String(error)).not.toContain("987654321");
  });

  it("reports a duplicate email as UniqueViolation naming the key", async () => {
    await store.create("User", newUser("carol"));
    const error = await rejection(store.create("User", newUser("carol2", { email: "carol@example.test" })));
    expectError(
      error,
      UniqueViolation,
      uniqueViolation("mysql", "User", "uq_users_email", { email: "carol@example.test" }),
    );
    const taken = await store.create("User", newUser("dave"));
    const clash = await rejection(store.update("User", { id: taken.id }, { username: "user_carol" }));
    expectError(
      clash,
      UniqueViolation,
      uniqueViolation("mysql", "User", "uq_users_username", { username: "user_carol" }),
    );
  });

  it("decrements stock conditionally until the condition fails", async () => {
    const seller = await store.create("User", newUser("erin"));
    const [category] = (await store.list("Category", { limit: 1 })).items;
    const product = await store.create("Product", {
      sellerId: seller.id,
      categoryId: category?.id,
      name: "Lamp",
      price: "99999999.99",
      inventoryQuantity: 3,
    });
    expect(product.price).toBe("99999999.99");
    let sold = 0;
    for (;;) {
      const error = await store
        .update(
          "Product",
          { id: product.id },
          {},
          { add: { inventoryQuantity: -1 }, condition: [{ attribute: "inventoryQuantity", op: ">=", value: 1 }] },
        )
        .catch((e: unknown) => e);
      if (error === undefined) sold++;
      else {
        expectError(error, ConditionFailed, keyed("condition", "mysql", "Product", { id: product.id }));
        break;
      }
    }
    expect(sold).toBe(3);
    await expect(store.update("Product", { id: product.id }, {}, { add: { name: 1 } })).rejects.toThrow(
      new StoreError("mysql", "Product", "'name' is a string attribute and cannot be incremented"),
    );
    await expect(
      store.update("Product", { id: product.id }, { inventoryQuantity: 5 }, { add: { inventoryQuantity: 1 } }),
    ).rejects.toThrow(new StoreError("mysql", "Product", "'inventoryQuantity' is both changed and incremented"));
    expect((await store.get("Product", { id: product.id }))?.inventoryQuantity).toBe(0);
  });

  it("pages products by category, newest first, each exactly once with ties broken by id", async () => {
    const seller = await store.create("User", newUser("fay"));
    const category = await store.create("Category", { name: "Paging", parentId: null });
    const times = [
      "2026-01-01T10:00:00.000Z",
      "2026-01-01T12:00:00.000Z",
      "2026-01-01T12:00:00.000Z",
      "2026-01-01T11:00:00.000Z",
      "2026-01-01T12:00:00.000Z",
    ];
    const created: EntityValue[] = [];
    for (const [i, createdAt] of times.entries()) {
      created.push(
        await store.create("Product", {
          sellerId: seller.id,
          categoryId: category.id,
          name: `P${i}`,
          price: "1.00",
          createdAt,
        }),
      );
    }
    const expected = [...created]
      .sort((a, b) =>
        a.createdAt === b.createdAt
          ? Number((b.id as bigint) - (a.id as bigint))
          : String(b.createdAt).localeCompare(String(a.createdAt)),
      )
      .map((p) => p.id);
    expect(expected).toEqual([created[4]?.id, created[2]?.id, created[1]?.id, created[3]?.id, created[0]?.id]);

    const options = {
      where: { categoryId: category.id },
      order: { attribute: "createdAt", direction: "desc" as const },
      limit: 2,
    };
    const seen: unknown[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    let firstCursor: string | undefined;
    do {
      const page = await store.list("Product", cursor === undefined ? options : { ...options, cursor });
      sizes.push(page.items.length);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.cursor;
      firstCursor ??= cursor;
    } while (cursor !== undefined);
    expect(seen).toEqual(expected);
    expect(sizes).toEqual([2, 2, 1]);

    // The cursor belongs to this listing only.
    const reuse = (over: {
      entity?: string;
      where?: EntityValue;
      order?: { attribute: string; direction: "asc" | "desc" };
    }) => store.list(over.entity ?? "Product", { ...options, ...over, cursor: firstCursor }).catch((e: unknown) => e);
    const refused = (error: unknown, entity: string, problem: string) => {
      const message = `${entity}: the cursor ${problem}; restart the listing`;
      expectError(error, CursorError, { store: "mysql", entity, message }, problem);
    };
    const otherListing = "is from a listing with another filter or order";
    refused(await reuse({ where: { categoryId: BigInt(String(category.id)) + 1000n } }), "Product", otherListing);
    refused(await reuse({ order: { attribute: "createdAt", direction: "asc" } }), "Product", otherListing);
    refused(await reuse({ entity: "Order", where: {} }), "Order", "belongs to a listing of Product");
    // After the first page: the second item's order values (createdAt as MySQL's parameter, and id).
    const second = created[2] as EntityValue;
    const body = JSON.parse(Buffer.from(firstCursor ?? "", "base64url").toString()) as Record<string, unknown>;
    expect(body).toEqual({
      v: 1,
      store: "mysql",
      entity: "Product",
      where: expect.stringMatching(/^[\w-]{22}$/),
      last: ["2026-01-01 12:00:00.000", String(second.id)],
    });
    const foreign = Buffer.from(JSON.stringify({ ...body, store: "dynamodb" })).toString("base64url");
    refused(
      await store.list("Product", { ...options, cursor: foreign }).catch((e: unknown) => e),
      "Product",
      "belongs to the dynamodb store",
    );
    refused(
      await store.list("Product", { ...options, cursor: "not a cursor" }).catch((e: unknown) => e),
      "Product",
      "is not a ferry cursor",
    );
  });

  it("rolls a transaction back entirely and commits one that succeeds", async () => {
    let made: unknown;
    const checkoutFailed = new Error("checkout failed");
    const failed = await store
      .transaction(async (tx) => {
        const user = await tx.create("User", newUser("gus"));
        made = user.id;
        await tx.create("Order", { userId: user.id, totalAmount: "5.00" });
        throw checkoutFailed;
      })
      .catch((e: unknown) => e);
    // The callback's own error, passed on as it is.
    expect(failed).toBe(checkoutFailed);
    expect(typeof made).toBe("bigint");
    expect(await store.get("User", { id: made as bigint })).toBeUndefined();
    expect((await store.list("User", { where: { email: "gus@example.test" }, limit: 5 })).items).toEqual([]);
    expect((await store.list("Order", { where: { userId: made as bigint }, limit: 5 })).items).toEqual([]);

    const { user: kept, order } = await store.transaction(async (tx) => {
      const user = await tx.create("User", newUser("hal"));
      return { user, order: await tx.create("Order", { userId: user.id, totalAmount: "5.00" }) };
    });
    expect(await store.get("User", { id: kept.id as bigint })).toEqual(kept);
    expect((await store.list("Order", { where: { userId: kept.id }, limit: 5 })).items).toEqual([order]);
  });
});

describe("MysqlEntityStore.highestId", () => {
  it("reads the next AUTO_INCREMENT exactly: an id just handed out counts, also once its row is deleted", async () => {
    const made = await store.create("User", newUser("ida"));
    expect(await store.highestId("User")).toBe(made.id);
    expect(await store.delete("User", { id: made.id as bigint })).toBe(true);
    // MAX(id) no longer sees it; the table's next AUTO_INCREMENT (from SHOW CREATE TABLE) does.
    expect(await store.highestId("User")).toBe(made.id);
    const next = await store.create("User", newUser("jo"));
    expect(next.id).toBe((made.id as bigint) + 1n);
    expect(await store.highestId("User")).toBe(next.id);
  });

  it("takes AUTO_INCREMENT=n from the table options only, 1 when there is none", () => {
    const ddl = (options: string) =>
      [
        "CREATE TABLE `t` (",
        "  `id` bigint(20) NOT NULL AUTO_INCREMENT COMMENT 'AUTO_INCREMENT=99',",
        "  PRIMARY KEY (`id`)",
        `) ${options}`,
      ].join("\n");
    expect(nextAutoIncrementOf(ddl("ENGINE=InnoDB AUTO_INCREMENT=42 DEFAULT CHARSET=utf8mb4"), "T")).toBe(42n);
    expect(nextAutoIncrementOf(ddl("ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"), "T")).toBe(1n);
    expect(() => nextAutoIncrementOf("", "T")).toThrow(
      new StoreError("mysql", "T", "SHOW CREATE TABLE returned no table definition to read AUTO_INCREMENT from"),
    );
  });
});

describe("MysqlEntityStore on odd tables", () => {
  /** POINT(1 2) as MySQL stores it: SRID (4 bytes, little-endian) then WKB. */
  const POINT_1_2 = new Uint8Array(
    Buffer.from("00000000" + "0101000000" + "000000000000f03f" + "0000000000000040", "hex"),
  );
  const contract: Contract = {
    version: 1,
    name: "odd",
    source: { engine: "mariadb", serverVersion: "10.11", database: "odd" },
    tables: { main: { partitionKey: "PK", sortKey: "SK" } },
    entities: {
      Place: {
        table: "main",
        key: { partition: "PLACE#{id}", sort: "PLACE" },
        attributes: {
          id: { type: "integer", column: { name: "i`d", sqlType: "int(11)", nullable: false, autoIncrement: true } },
          location: { type: "geometry", column: { name: "lo`c", sqlType: "point", nullable: true } },
          label: { type: "string", column: { name: "label", sqlType: "varchar(10)", nullable: false } },
        },
        source: { table: "pla`ces", primaryKey: ["i`d"], rows: 0, avgRowBytes: 0 },
      },
    },
  };

  it("round-trips geometry bytes through a table whose names hold backticks", async () => {
    const db = await stack.mysql();
    await db.query(
      "CREATE TABLE `pla``ces` (`i``d` int NOT NULL AUTO_INCREMENT PRIMARY KEY, `lo``c` point NULL, label varchar(10) NOT NULL)",
    );
    const odd = new MysqlEntityStore(db, createCodec(contract));
    const place = await odd.create("Place", { location: POINT_1_2, label: "home" });
    expect(place).toEqual({ id: 1, location: POINT_1_2, label: "home" });
    await odd.create("Place", { location: null, label: "nowhere" });
    await odd.update(
      "Place",
      { id: 1 },
      { label: "away" },
      { condition: [{ attribute: "location", op: "=", value: POINT_1_2 }] },
    );
    const page = await odd.list("Place", { where: { location: null }, limit: 10 });
    expect(page).toEqual({ items: [{ id: 2, location: null, label: "nowhere" }] });
    expect(await odd.get("Place", { id: 1 })).toEqual({ id: 1, location: POINT_1_2, label: "away" });
    expect(await odd.delete("Place", { id: 1 })).toBe(true);
  });

  it("takes a pool's connection for a transaction, rolls back on failure and gives it back", async () => {
    const log: string[] = [];
    const connection = {
      async query(options: { sql: string }): Promise<[unknown, unknown]> {
        log.push(options.sql);
        return [{ affectedRows: 1 }, undefined];
      },
      release() {
        log.push("release");
      },
    };
    const pool = {
      async query(): Promise<[unknown, unknown]> {
        throw new Error("the pool itself is not used inside a transaction");
      },
      async getConnection() {
        return connection;
      },
    };
    const odd = new MysqlEntityStore(pool, createCodec(contract));
    const boom = new Error("boom");
    const error = await odd
      .transaction(async (tx) => {
        await tx.delete("Place", { id: 7 });
        await expect(tx.transaction(async () => undefined)).rejects.toThrow(
          new Error("a MySQL transaction is already open on this store"),
        );
        throw boom;
      })
      .catch((e: unknown) => e);
    expect(error).toBe(boom);
    expect(log).toEqual(["START TRANSACTION", "DELETE FROM `pla``ces` WHERE `i``d` = ?", "ROLLBACK", "release"]);
    log.length = 0;
    expect(await odd.transaction(async (tx) => tx.delete("Place", { id: 7 }))).toBe(true);
    expect(log).toEqual(["START TRANSACTION", "DELETE FROM `pla``ces` WHERE `i``d` = ?", "COMMIT", "release"]);
  });
});
