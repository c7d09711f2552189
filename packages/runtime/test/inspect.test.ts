/**
 * The record inspector (inspectRecord) on real stores (the store's demo data, MariaDB and DynamoDB Local): a user equal
 * on both stores, changed on MySQL only, deleted from DynamoDB only, on DynamoDB only, on neither; a marker another item
 * holds; and bad input refused with a message per field.
 */
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it } from "vitest";
import type { EntityValue } from "../src/codec/index.ts";
import { uniqueMarker } from "../src/dynamodb/unique-markers.ts";
import { decodeKey, encodeKey } from "../src/outbox/entry.ts";
import { useContractStores } from "../src/testing/index.ts";
import { attributeJson, InspectError, inspectRecord, ValidationError } from "../src/validation/index.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
const services = () => ({
  codec: testbed.codec(),
  mysql: testbed.connection(),
  client: stack.dynamodb(),
  tablePrefix: stack.tablePrefix,
});
const TABLE = () => `${stack.tablePrefix}main`;

/** A new user on MySQL (the row as stored: its id and defaults), and the same value on DynamoDB unless `mysqlOnly`. */
async function newUser(name: string, options: { mysqlOnly?: boolean } = {}): Promise<EntityValue> {
  const { mysql, dynamodb } = testbed.stores();
  const row = await mysql.create("User", {
    username: name,
    email: `${name}@example.com`,
    passwordHash: "x".repeat(60),
    firstName: "Ines",
    lastName: "Inspect",
    isSeller: false,
  });
  if (!options.mysqlOnly) await dynamodb.create("User", row);
  return row;
}

/** The item's `__version` as DynamoDB holds it. */
async function versionOf(id: bigint): Promise<number> {
  const out = await stack
    .dynamodb()
    .send(
      new GetItemCommand({ TableName: TABLE(), Key: testbed.codec().entity("User").key({ id }), ConsistentRead: true }),
    );
  return Number(out.Item?.__version?.N);
}

/** The password hash as the inspector shows it: its tag (the attribute is sensitive), never the hash. */
function tag(hash: string): string {
  const attribute = testbed.codec().entity("User").attribute("passwordHash");
  const shown = attribute.shown(attribute.normalize(hash)) as string;
  expect(shown).toMatch(/^hidden #[0-9a-f]{8}$/);
  return shown;
}

/** A user as the inspector shows it: its password hash as a tag. */
function shown(user: EntityValue): EntityValue {
  return { ...user, passwordHash: tag(user.passwordHash as string) };
}

/** The sortable text of an id inside a key, as the codec writes it (zero-padded). */
function indexId(id: bigint): string {
  return testbed.codec().entity("User").render("{id}", { id });
}

describe("inspectRecord", () => {
  it("shows a user equal on both stores: its row, its item attribute by attribute, its markers owned", async () => {
    const row = await newUser("ines");
    const id = row.id as bigint;
    const inspection = await inspectRecord(services(), "User", { id });
    expect(inspection).toEqual({
      entity: "User",
      key: { id },
      presence: "both",
      mysql: shown(row),
      dynamodb: shown(row),
      item: {
        table: TABLE(),
        keys: [
          { name: "PK", of: "table", value: `USER#${indexId(id)}` },
          { name: "SK", of: "table", value: "USER" },
          { name: "GSI1PK", of: "GSI1", value: "USER#USERNAME#ines" },
          { name: "GSI1SK", of: "GSI1", value: indexId(id) },
          { name: "GSI2PK", of: "GSI2", value: "USER#EMAIL#ines@example.com" },
          { name: "GSI2SK", of: "GSI2", value: indexId(id) },
        ],
        bookkeeping: { __entity: "User", __version: await versionOf(id) },
        attributes: {
          createdAt: row.createdAt,
          email: "ines@example.com",
          firstName: "Ines",
          id: Number(id),
          isSeller: false,
          lastName: "Inspect",
          passwordHash: tag("x".repeat(60)),
          updatedAt: row.updatedAt,
          username: "ines",
        },
      },
      differences: [],
      markers: [
        {
          rule: "uq_users_email",
          attributes: ["email"],
          key: "UNIQUE#User#uq_users_email#ines@example.com",
          present: true,
          owner: { PK: `USER#${indexId(id)}`, SK: "USER" },
          owned: true,
        },
        {
          rule: "uq_users_username",
          attributes: ["username"],
          key: "UNIQUE#User#uq_users_username#ines",
          present: true,
          owner: { PK: `USER#${indexId(id)}`, SK: "USER" },
          owned: true,
        },
      ],
    });
    // The key as the console passes it: decoded from its tagged JSON; a safe integer number is the same identity.
    expect(await inspectRecord(services(), "User", decodeKey(encodeKey({ id })))).toEqual(inspection);
    expect(await inspectRecord(services(), "User", { id: Number(id) })).toEqual(inspection);
  });

  it("shows a rule the item's own key enforces as such: no marker to look for (a cart line's user and product)", async () => {
    const buyer = await newUser("cartie");
    const { mysql, dynamodb } = testbed.stores();
    const product = (await mysql.list("Product", { limit: 1 })).items[0] ?? {};
    const line = await mysql.create("ShoppingCart", { userId: buyer.id, productId: product.id, quantity: 1 });
    await dynamodb.create("ShoppingCart", line);
    const inspection = await inspectRecord(services(), "ShoppingCart", {
      id: line.id,
      userId: line.userId,
      productId: line.productId,
    });
    expect(inspection.presence).toBe("both");
    expect(inspection.markers).toEqual([
      {
        rule: "uq_shopping_carts_user_product",
        attributes: ["userId", "productId"],
        key: null,
        present: false,
        owned: false,
        byKey: true,
      },
    ]);
  });

  it("names the fields a change on MySQL alone made differ, the index keys it moved and the marker it lacks", async () => {
    const row = await newUser("carla");
    const id = row.id as bigint;
    const { mysql } = testbed.stores();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await mysql.update("User", { id }, { firstName: "Carlotta" });
    const changed = (await mysql.get("User", { id })) as EntityValue;
    expect(changed.updatedAt).not.toBe(row.updatedAt);
    const first = await inspectRecord(services(), "User", { id });
    expect(first.presence).toBe("both");
    expect(first.mysql).toEqual(shown(changed));
    expect(first.dynamodb).toEqual(shown(row));
    expect(first.differences).toEqual([
      { field: "firstName", mysql: "Carlotta", dynamodb: "Ines" },
      { field: "updatedAt", mysql: changed.updatedAt, dynamodb: row.updatedAt },
    ]);
    expect(first.markers.map((marker) => [marker.rule, marker.present, marker.owned])).toEqual([
      ["uq_users_email", true, true],
      ["uq_users_username", true, true],
    ]);

    // A unique and index-keyed attribute: its index key differs, and the new value's marker is not there.
    await mysql.update("User", { id }, { username: "Carla2" });
    const renamed = (await mysql.get("User", { id })) as EntityValue;
    const second = await inspectRecord(services(), "User", { id });
    expect(second.differences).toEqual([
      { field: "username", mysql: "Carla2", dynamodb: "carla" },
      { field: "firstName", mysql: "Carlotta", dynamodb: "Ines" },
      { field: "updatedAt", mysql: renamed.updatedAt, dynamodb: row.updatedAt },
      { field: "GSI1PK", mysql: "USER#USERNAME#carla2", dynamodb: "USER#USERNAME#carla" },
    ]);
    expect(second.item?.keys.find((key) => key.name === "GSI1PK")).toEqual({
      name: "GSI1PK",
      of: "GSI1",
      value: "USER#USERNAME#carla",
    });
    expect(second.markers).toEqual([
      {
        rule: "uq_users_email",
        attributes: ["email"],
        key: "UNIQUE#User#uq_users_email#carla@example.com",
        present: true,
        owner: { PK: `USER#${indexId(id)}`, SK: "USER" },
        owned: true,
      },
      {
        rule: "uq_users_username",
        attributes: ["username"],
        key: "UNIQUE#User#uq_users_username#carla2",
        present: false,
        owned: false,
      },
    ]);
  });

  it("never shows a sensitive attribute's value: a password hash that differs is two tags, on every side", async () => {
    const row = await newUser("hana");
    const id = row.id as bigint;
    const { mysql } = testbed.stores();
    const hashes = ["$scrypt$N=16384,r=8,p=1$mysqlsecret", "$scrypt$N=16384,r=8,p=1$dynamosecret"];
    await mysql.update("User", { id }, { passwordHash: hashes[0] });
    await testbed.stores().dynamodb.update("User", { id }, { passwordHash: hashes[1] });
    const inspection = await inspectRecord(services(), "User", { id });
    const [mysqlTag, dynamoTag] = hashes.map((hash) => tag(hash as string));
    expect(mysqlTag).not.toBe(dynamoTag);
    expect(inspection.differences.filter((d) => d.field === "passwordHash")).toEqual([
      { field: "passwordHash", mysql: mysqlTag, dynamodb: dynamoTag },
    ]);
    expect(inspection.mysql?.passwordHash).toBe(mysqlTag);
    expect(inspection.dynamodb?.passwordHash).toBe(dynamoTag);
    expect(inspection.item?.attributes.passwordHash).toBe(dynamoTag);
    // Nowhere in what the console gets, JSON API included.
    const json = JSON.stringify(inspection, (_, value) => (typeof value === "bigint" ? String(value) : value));
    expect(json).not.toContain("secret");
    expect(json).toContain("hana@example.com");
  });

  it("reports a user deleted from DynamoDB alone as on MySQL only, its markers missing", async () => {
    const row = await newUser("dora");
    const id = row.id as bigint;
    expect(await testbed.stores().dynamodb.delete("User", { id })).toBe(true);
    expect(await inspectRecord(services(), "User", { id })).toEqual({
      entity: "User",
      key: { id },
      presence: "mysql-only",
      mysql: shown(row),
      dynamodb: undefined,
      item: undefined,
      differences: [],
      markers: [
        {
          rule: "uq_users_email",
          attributes: ["email"],
          key: "UNIQUE#User#uq_users_email#dora@example.com",
          present: false,
          owned: false,
        },
        {
          rule: "uq_users_username",
          attributes: ["username"],
          key: "UNIQUE#User#uq_users_username#dora",
          present: false,
          owned: false,
        },
      ],
    });
  });

  it("reports an item without its row as on DynamoDB only, and a key on neither store", async () => {
    const id = 9_000_001n;
    const value = { ...(await newUser("emil", { mysqlOnly: true })), id, username: "emil-ddb", email: "emil@ddb.test" };
    await testbed.stores().dynamodb.create("User", value);
    const inspection = await inspectRecord(services(), "User", { id });
    expect(inspection.presence).toBe("dynamodb-only");
    expect(inspection.mysql).toBeUndefined();
    expect(inspection.dynamodb).toEqual(shown(value));
    expect(inspection.differences).toEqual([]);
    expect(inspection.item?.keys[0]).toEqual({ name: "PK", of: "table", value: `USER#${indexId(id)}` });
    expect(inspection.markers.map((marker) => [marker.key, marker.present, marker.owned])).toEqual([
      ["UNIQUE#User#uq_users_email#emil@ddb.test", true, true],
      ["UNIQUE#User#uq_users_username#emil-ddb", true, true],
    ]);

    expect(await inspectRecord(services(), "User", { id: 9_999_999n })).toEqual({
      entity: "User",
      key: { id: 9_999_999n },
      presence: "neither",
      mysql: undefined,
      dynamodb: undefined,
      item: undefined,
      differences: [],
      markers: [],
    });
  });

  it("says when a marker of the user's value names another item", async () => {
    const codec = testbed.codec().entity("User");
    const owner = await newUser("fritz");
    const other = await newUser("gerda");
    // The email marker taken over by another item (as an operator's hand or an older ferry may leave it).
    const marker = uniqueMarker(codec, "uq_users_email", owner, codec.key(other));
    await stack.dynamodb().send(new PutItemCommand({ TableName: TABLE(), Item: marker ?? {} }));
    const inspection = await inspectRecord(services(), "User", { id: owner.id });
    expect(inspection.presence).toBe("both");
    expect(inspection.differences).toEqual([]);
    expect(inspection.markers).toEqual([
      {
        rule: "uq_users_email",
        attributes: ["email"],
        key: "UNIQUE#User#uq_users_email#fritz@example.com",
        present: true,
        owner: { PK: `USER#${indexId(other.id as bigint)}`, SK: "USER" },
        owned: false,
      },
      {
        rule: "uq_users_username",
        attributes: ["username"],
        key: "UNIQUE#User#uq_users_username#fritz",
        present: true,
        owner: { PK: `USER#${indexId(owner.id as bigint)}`, SK: "USER" },
        owned: true,
      },
    ]);
  });

  it("shows an item of another record under the key, and an item the codec cannot read", async () => {
    const { mysql, dynamodb } = testbed.stores();
    // An order line's key leaves its id out: under the key of a line with another id is this line's item.
    const [line] = (await mysql.list("OrderItem", { limit: 1 })).items;
    if (line === undefined) throw new Error("the demo store has no order line");
    await dynamodb.create("OrderItem", line);
    const otherId = (line.id as bigint) + 100_000n;
    const elsewhere = await inspectRecord(services(), "OrderItem", {
      id: otherId,
      orderId: line.orderId,
      productId: line.productId,
    });
    expect(elsewhere.presence).toBe("neither");
    expect(elsewhere.key).toEqual({ id: otherId, orderId: line.orderId, productId: line.productId });
    expect(elsewhere.item).toBeUndefined();
    expect(elsewhere.otherItem?.attributes.id).toBe(Number(line.id));
    expect(elsewhere.otherItem?.bookkeeping.__entity).toBe("OrderItem");
    expect(elsewhere.markers).toEqual([]);

    const codec = testbed.codec().entity("User");
    const id = 9_000_777n;
    const value = { ...(await newUser("hugo", { mysqlOnly: true })), id, username: "hugo-ddb", email: "hugo@ddb.test" };
    await stack.dynamodb().send(
      new PutItemCommand({
        TableName: TABLE(),
        Item: { ...codec.toItem(value), isSeller: { S: "yes" }, __version: { N: "1" } },
      }),
    );
    const unreadable = await inspectRecord(services(), "User", { id });
    expect(unreadable.presence).toBe("dynamodb-only");
    expect(unreadable.dynamodb).toBeUndefined();
    expect(unreadable.unreadable).toEqual({
      dynamodb: "User.isSeller: expected a DynamoDB BOOL attribute, not S, got an object",
    });
    expect(unreadable.item?.attributes.isSeller).toBe("yes");
    expect(unreadable.item?.bookkeeping).toEqual({ __entity: "User", __version: 1 });
    expect(unreadable.differences).toEqual([]);
    expect(unreadable.markers).toEqual([]);
  });

  it("refuses an unknown entity and a bad key with a message per field, reading nothing", async () => {
    const refusal = async (entity: string, key: EntityValue) => {
      const error = await inspectRecord(services(), entity, key).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(InspectError);
      expect(error).toBeInstanceOf(ValidationError);
      return { message: (error as InspectError).message, fields: (error as InspectError).fields };
    };
    const entities = testbed.codec().entities.join(", ");
    expect(await refusal("Users", { id: 1 })).toEqual({
      message: `the contract has no entity 'Users' (it has ${entities})`,
      fields: { entity: `There is no entity 'Users' in the contract (it has ${entities}).` },
    });
    expect(await refusal("User", {})).toEqual({
      message: "not a key of User: id is missing: User's key is id.",
      fields: { id: "id is missing: User's key is id." },
    });
    expect(await refusal("User", { id: "three" })).toEqual({
      message:
        'not a key of User: User.id: expected a bigint (or an integer string, or a safe integer number), got "three" (string)',
      fields: {
        id: 'User.id: expected a bigint (or an integer string, or a safe integer number), got "three" (string)',
      },
    });
    expect((await refusal("User", { id: 1.5 })).fields).toEqual({
      id: "User.id: is not a safe integer: pass a bigint or a string for values beyond 2^53, got 1.5 (number)",
    });
    expect((await refusal("User", { id: 1, email: "a@b.c" })).fields).toEqual({
      email: "email is not part of User's key (id).",
    });
    expect((await refusal("OrderItem", { id: 1 })).fields).toEqual({
      orderId: "orderId is missing: OrderItem's key is id, orderId, productId.",
      productId: "productId is missing: OrderItem's key is id, orderId, productId.",
    });
  });
});

describe("attributeJson", () => {
  it("renders every DynamoDB attribute type as plain JSON, without losing a digit or a byte", () => {
    expect(attributeJson({ S: "<b>" })).toBe("<b>");
    expect(attributeJson({ N: "42" })).toBe(42);
    expect(attributeJson({ N: "-1.5" })).toBe(-1.5);
    expect(attributeJson({ N: "18446744073709551615" })).toEqual({ $bigint: "18446744073709551615" });
    expect(attributeJson({ N: "0.10000000000000000001" })).toEqual({ $number: "0.10000000000000000001" });
    expect(attributeJson({ BOOL: false })).toBe(false);
    expect(attributeJson({ NULL: true })).toBeNull();
    expect(attributeJson({ B: new Uint8Array([0, 255]) })).toEqual({ $bytes: "AP8=" });
    expect(attributeJson({ SS: ["a", "b"] })).toEqual({ $set: ["a", "b"] });
    expect(attributeJson({ NS: ["1", "9007199254740993"] })).toEqual({ $set: [1, { $bigint: "9007199254740993" }] });
    expect(attributeJson({ BS: [new Uint8Array([1])] })).toEqual({ $set: [{ $bytes: "AQ==" }] });
    expect(attributeJson({ L: [{ S: "x" }, { M: { n: { N: "1" } } }] })).toEqual(["x", { n: 1 }]);
    // Whatever it renders survives JSON as it is.
    const nested = attributeJson({
      M: { big: { N: "123456789012345678901234567890" }, b: { B: new Uint8Array([7]) } },
    });
    expect(JSON.parse(JSON.stringify(nested))).toEqual(nested);
  });
});
