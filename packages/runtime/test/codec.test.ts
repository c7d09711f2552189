import { fileURLToPath } from "node:url";
import { type Contract, loadValidContract } from "@ferry/contract";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type Codec,
  CodecError,
  createCodec,
  type EntityCodec,
  parseJson,
  sortableInteger,
  writeJson,
} from "../src/codec/index.ts";
import { EVERY_TYPE_CONTRACT } from "../src/testing/index.ts";
import { codecError } from "./codec-fixtures.ts";

const storeContract = fileURLToPath(new URL("../../../contract/store.yaml", import.meta.url));

// Contracts are read once; codecs are compiled before each test, so that a test fails (rather than a whole file being
// skipped) when compiling breaks, and the compile counts toward each test's coverage in mutation runs.
let everyType: Contract;
let storeDefinition: Contract;
let codec: Codec;
let sample: EntityCodec;
let store: Codec;

beforeAll(async () => {
  everyType = await loadValidContract(EVERY_TYPE_CONTRACT);
  storeDefinition = await loadValidContract(storeContract);
});

beforeEach(() => {
  codec = createCodec(everyType);
  sample = codec.entity("Sample");
  store = createCodec(storeDefinition);
});

/** The smallest valid Sample: every NOT NULL attribute, every nullable one null. */
function minimal(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tenantId: 1n,
    seq: 1,
    label: "a",
    note: null,
    smallCount: null,
    builtYear: null,
    signedBig: 0n,
    unsignedBig: null,
    amount: "0.000000",
    price: null,
    ratio: null,
    score: 0,
    active: false,
    flag: null,
    mask: null,
    createdAt: "2026-01-02T03:04:05.123Z",
    preciseAt: null,
    touchedAt: null,
    birthday: null,
    opensAt: null,
    status: "draft",
    tags: [],
    extras: null,
    payload: null,
    blob: null,
    digest: new Uint8Array([0, 0, 0, 0]),
    location: null,
    ...overrides,
  };
}

describe("the key placeholder rule", () => {
  it("pads integers to 20 digits and writes negatives so that they sort first", () => {
    expect(sortableInteger(0)).toBe("00000000000000000000");
    expect(sortableInteger(42)).toBe("00000000000000000042");
    expect(sortableInteger(42n)).toBe("00000000000000000042");
    expect(sortableInteger(-1)).toBe("-99999999999999999999");
    expect(sortableInteger(-0)).toBe("00000000000000000000");
    expect(sortableInteger(18446744073709551615n)).toBe("18446744073709551615");
    expect(sortableInteger(-9223372036854775808n)).toBe("-90776627963145224192");
  });

  it("sorts as strings exactly as the numbers sort", () => {
    const values = [
      -9223372036854775808n,
      -9223372036854775807n,
      -1000n,
      -999n,
      -10n,
      -2n,
      -1n,
      0n,
      1n,
      9n,
      10n,
      99n,
      100n,
      9007199254740993n,
      9223372036854775807n,
      18446744073709551615n,
    ];
    const shuffled = [...values].sort(() => Math.random() - 0.5);
    const byKey = shuffled.sort((a, b) => (sortableInteger(a) < sortableInteger(b) ? -1 : 1));
    expect(byKey).toEqual(values);
  });

  it("renders every keyable type by one rule", () => {
    expect(sample.render("{seq}|{tenantId}", { seq: -3, tenantId: "42" })).toBe(
      "-99999999999999999997|00000000000000000042",
    );
    expect(sample.render("{amount}", { amount: "12.5" })).toBe("00000000000012.500000");
    expect(sample.render("{active}/{flag}", { active: true, flag: false })).toBe("true/false");
    expect(sample.render("{createdAt}", { createdAt: "2026-01-02T03:04:05.1Z" })).toBe("2026-01-02T03:04:05.100Z");
    expect(codecError(() => sample.render("{opensAt}", { opensAt: "7:05:00" })).message).toBe(
      'Sample.opensAt: is not a time like 03:04:05.000, got "7:05:00" (string)',
    );
    expect(sample.render("{birthday}#{opensAt}", { birthday: "2000-02-29", opensAt: "07:05:00" })).toBe(
      "2000-02-29#07:05:00.000",
    );
    expect(sample.render("{status}#{label}", { status: "live", label: "x#y" })).toBe("live#x#y");
    expect(sample.render("{{literal}}#{seq}", { seq: 1 })).toBe("{literal}#00000000000000000001");
  });

  it("refuses types that cannot be in keys", () => {
    expect(codecError(() => sample.render("{tags}", { tags: ["red"] })).message).toMatch(
      /Sample\.tags: a set attribute cannot be part of a key/,
    );
    expect(codecError(() => sample.render("{nope}", {})).message).toBe(
      "Sample.nope: key template '{nope}' names an attribute that does not exist",
    );
  });
});

describe("keys", () => {
  it("renders the primary key from the key attributes alone", () => {
    expect(sample.key({ tenantId: 7n, seq: -1 })).toEqual({
      PK: { S: "TENANT#00000000000000000007" },
      SK: { S: "SAMPLE#-99999999999999999999" },
    });
    expect(sample.keyNames).toEqual({ partition: "PK", sort: "SK" });
  });

  it("names the missing attribute", () => {
    const error = codecError(() => sample.key({ tenantId: 7n }));
    expect(error.attribute).toBe("seq");
    expect(error.message).toBe("Sample.seq: has no value, and key 'SAMPLE#{seq}' needs it");
  });

  it("renders index keys, and refuses an index the entity does not use", () => {
    expect(sample.indexKey("GSI1", { status: "live", createdAt: "2026-01-02T03:04:05.123Z", seq: 5 })).toEqual({
      GSI1PK: { S: "SAMPLE#STATUS#live" },
      GSI1SK: { S: "2026-01-02T03:04:05.123Z#00000000000000000005" },
    });
    expect(sample.indexKeyNames("GSI2")).toEqual({ partition: "GSI2PK", sort: "GSI2SK" });
    expect(codecError(() => sample.indexKey("GSI9", {})).message).toMatch(
      /uses no index 'GSI9' \(its indexes: GSI1, GSI2\)/,
    );
  });

  it("renders a partial template up to the first placeholder without a value (begins_with)", () => {
    expect(sample.render("SAMPLE#STATUS#{status}", {}, { prefixOnly: true })).toBe("SAMPLE#STATUS#");
    expect(sample.render("{createdAt}#{seq}", {}, { prefixOnly: true })).toBe("");
    expect(sample.render("{createdAt}#{seq}", { createdAt: "2026-01-02T03:04:05Z" }, { prefixOnly: true })).toBe(
      "2026-01-02T03:04:05.000Z#",
    );
    expect(
      sample.render("{createdAt}#{seq}", { createdAt: "2026-01-02T03:04:05.123Z", seq: 2 }, { prefixOnly: true }),
    ).toBe("2026-01-02T03:04:05.123Z#00000000000000000002");
    expect(sample.render("SAMPLE#{seq}", { seq: null }, { prefixOnly: true })).toBe("SAMPLE#");
  });
});

describe("toItem", () => {
  it("writes attributes, keys, sparse index keys and the discriminator", () => {
    const item = sample.toItem(minimal({ birthday: "2001-01-01", opensAt: "08:00:00", tenantName: "Acme" }));
    expect(item).toMatchObject({
      PK: { S: "TENANT#00000000000000000001" },
      SK: { S: "SAMPLE#00000000000000000001" },
      GSI1PK: { S: "SAMPLE#STATUS#draft" },
      GSI1SK: { S: "2026-01-02T03:04:05.123Z#00000000000000000001" },
      GSI2PK: { S: "SAMPLE#BIRTHDAY#2001-01-01" },
      GSI2SK: { S: "false#08:00:00.000#00000000000000.000000" },
      __entity: { S: "Sample" },
      tenantName: { S: "Acme" },
      amount: { N: "0.000000" },
      signedBig: { N: "0" },
      active: { BOOL: false },
      digest: { B: new Uint8Array([0, 0, 0, 0]) },
    });
    // NULL and the empty set are absent attributes.
    for (const absent of ["note", "price", "payload", "tags", "extras", "location", "preciseAt"]) {
      expect(item).not.toHaveProperty(absent);
    }
  });

  it("leaves a sparse index out when one of its placeholders has no value", () => {
    const item = sample.toItem(minimal({ birthday: "2001-01-01" }));
    expect(item).not.toHaveProperty("GSI2PK");
    expect(item).not.toHaveProperty("GSI2SK");
    expect(item).toHaveProperty("GSI1PK");
  });

  it("requires every NOT NULL attribute", () => {
    const { label: _label, ...rest } = minimal();
    const error = codecError(() => sample.toItem(rest));
    expect(error.message).toBe("Sample.label: is required (its column is NOT NULL) but has no value");
  });

  it("matches the store contract's keys", () => {
    const user = store.entity("User").toItem({
      id: 42,
      username: "alice",
      email: "alice@example.com",
      passwordHash: "x",
      firstName: "Alice",
      lastName: null,
      isSeller: true,
      createdAt: "2026-01-02T03:04:05.123Z",
      updatedAt: new Date("2026-01-02T03:04:05.123Z"),
    });
    expect(user).toEqual({
      PK: { S: "USER#00000000000000000042" },
      SK: { S: "USER" },
      GSI1PK: { S: "USER#USERNAME#alice" },
      GSI1SK: { S: "00000000000000000042" },
      GSI2PK: { S: "USER#EMAIL#alice@example.com" },
      GSI2SK: { S: "00000000000000000042" },
      __entity: { S: "User" },
      id: { N: "42" },
      username: { S: "alice" },
      email: { S: "alice@example.com" },
      passwordHash: { S: "x" },
      firstName: { S: "Alice" },
      isSeller: { BOOL: true },
      createdAt: { S: "2026-01-02T03:04:05.123Z" },
      updatedAt: { S: "2026-01-02T03:04:05.123Z" },
    });

    const product = store.entity("Product").toItem({
      id: 42n,
      sellerId: 3n,
      categoryId: 7n,
      name: "Lamp",
      description: null,
      price: "19.9",
      inventoryQuantity: 5,
      imageUrl: null,
      createdAt: "2026-01-02T03:04:05.123Z",
      updatedAt: "2026-01-02T03:04:05.123Z",
      sellerName: "bob",
    });
    expect(product).toMatchObject({
      PK: { S: "PRODUCT#00000000000000000042" },
      SK: { S: "PRODUCT" },
      GSI1PK: { S: "PRODUCT#CATEGORY_ID#00000000000000000007" },
      GSI1SK: { S: "2026-01-02T03:04:05.123Z#00000000000000000042" },
      GSI2PK: { S: "PRODUCT#SELLER_ID#00000000000000000003" },
      price: { N: "19.90" },
      sellerName: { S: "bob" },
    });

    expect(store.entity("OrderItem").key({ orderId: 5n, productId: 42n })).toEqual({
      PK: { S: "ORDER#00000000000000000005" },
      SK: { S: "ORDER_ITEM#00000000000000000042" },
    });
    expect(store.entity("ShoppingCart").render("SHOPPING_CART#{productId}", {}, { prefixOnly: true })).toBe(
      "SHOPPING_CART#",
    );
    // A root category (no parent) is in the listing index GSI1, and only the by-parent index GSI2 is sparse.
    const root = store
      .entity("Category")
      .toItem({ id: 1n, parentId: null, name: "All", createdAt: "2026-01-02T00:00:00Z" });
    expect(root.GSI1PK).toEqual({ S: "CATEGORY" });
    expect(root.GSI1SK).toEqual({ S: "00000000000000000001" });
    expect(root).not.toHaveProperty("GSI2PK");
    expect(root).not.toHaveProperty("GSI2SK");
  });
});

describe("fromItem", () => {
  it("puts back what DynamoDB normalises (decimal scale, set order) and ignores bookkeeping", () => {
    const value = sample.fromItem({
      ...sample.toItem(minimal()),
      amount: { N: "12.5" },
      price: { N: "10" },
      tags: { SS: ["blue", "red"] },
      version: { N: "3" },
    });
    expect(value.amount).toBe("12.500000");
    expect(value.price).toBe("10.00");
    expect(value.tags).toEqual(["red", "blue"]);
    expect(value).not.toHaveProperty("version");
    expect(value).not.toHaveProperty("PK");
    expect(value).not.toHaveProperty("tenantName");
  });

  it("reads absent attributes as null, and an absent NOT NULL set as the empty set", () => {
    const value = sample.fromItem(sample.toItem(minimal()));
    expect(value).toEqual(minimal());
  });

  it("refuses another entity's item and an item missing a NOT NULL attribute", () => {
    const tenant = codec.entity("Tenant").toItem({ id: 1n, name: "Acme" });
    expect(codecError(() => sample.fromItem(tenant)).message).toBe("Sample: cannot read an item of entity 'Tenant'");
    expect(codec.entityOf(tenant)).toBe("Tenant");
    const { score: _score, ...item } = sample.toItem(minimal());
    expect(codecError(() => sample.fromItem(item)).attribute).toBe("score");
  });

  it("refuses a DynamoDB attribute of the wrong kind", () => {
    const item = { ...sample.toItem(minimal()), seq: { S: "1" } };
    expect(codecError(() => sample.fromItem(item)).message).toBe(
      "Sample.seq: expected a DynamoDB N attribute, not S, got an object",
    );
  });
});

describe("canonical values", () => {
  const canonical = (attribute: string, value: unknown) => sample.attribute(attribute).check(value);

  it("decimals: exact text at the column's scale, from strings, safe numbers and bigints", () => {
    expect(canonical("amount", "12345678901234.1234")).toBe("12345678901234.123400");
    expect(canonical("amount", "-0.5")).toBe("-0.500000");
    expect(canonical("amount", "-0")).toBe("0.000000");
    expect(canonical("price", 10.5)).toBe("10.50");
    expect(canonical("price", "1e2")).toBe("100.00");
    expect(canonical("price", "10.500")).toBe("10.50");
    expect(canonical("price", 7n)).toBe("7.00");
  });

  it("bigints: from bigint, integer strings and safe numbers", () => {
    expect(canonical("unsignedBig", "18446744073709551615")).toBe(18446744073709551615n);
    expect(canonical("unsignedBig", 42)).toBe(42n);
    expect(canonical("signedBig", -9223372036854775808n)).toBe(-9223372036854775808n);
  });

  it("datetimes: UTC ISO text with the column's fraction digits", () => {
    expect(canonical("createdAt", "2026-01-02T03:04:05Z")).toBe("2026-01-02T03:04:05.000Z");
    expect(canonical("createdAt", "2026-01-02T03:04:05.120000Z")).toBe("2026-01-02T03:04:05.120Z");
    expect(canonical("createdAt", "2026-01-02T01:04:05.5+02:00")).toBe("2026-01-01T23:04:05.500Z");
    expect(canonical("createdAt", new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)))).toBe("2026-01-02T03:04:05.006Z");
    expect(canonical("preciseAt", "2026-01-02T03:04:05.123456Z")).toBe("2026-01-02T03:04:05.123456Z");
    expect(canonical("touchedAt", "2026-01-02T03:04:05.000Z")).toBe("2026-01-02T03:04:05Z");
    expect(canonical("opensAt", "-838:59:59")).toBe("-838:59:59.000");
    expect(canonical("birthday", new Date("2000-02-29T00:00:00Z"))).toBe("2000-02-29");
  });

  it("sets: declared order; JSON: bigints a double holds become numbers", () => {
    expect(canonical("tags", ["blue", "red"])).toEqual(["red", "blue"]);
    expect(canonical("payload", { a: 5n, b: 12345678901234567890n, c: undefined })).toEqual({
      a: 5,
      b: 12345678901234567890n,
    });
    expect(canonical("digest", Buffer.from([1, 2, 3, 4]))).toEqual(new Uint8Array([1, 2, 3, 4]));
  });
});

describe("bad values are errors naming entity.attribute and the value", () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ["price", 10.555, /^Sample\.price: has more than 2 fraction digits \(decimal\(10,2\)\), got 10\.555 \(number\)$/],
    ["price", "0.1 ", /^Sample\.price: expected a decimal string like "12\.50", got "0\.1 " \(string\)$/],
    ["price", "123456789.00", /^Sample\.price: is out of range for decimal\(10,2\)/],
    ["amount", 0.1 + 0.2, /^Sample\.amount: has more than 6 fraction digits/],
    ["status", "deleted", /^Sample\.status: expected one of 'draft', 'live', 'archived', got "deleted" \(string\)$/],
    ["active", "true", /^Sample\.active: expected true or false, got "true" \(string\)$/],
    ["active", 1, /^Sample\.active: expected true or false, got 1 \(number\)$/],
    ["seq", 1.5, /^Sample\.seq: expected an integer from -2147483648 to 2147483647 \(int\), got 1\.5 \(number\)$/],
    ["seq", "1", /^Sample\.seq: expected an integer number, got "1" \(string\)$/],
    ["smallCount", 65536, /^Sample\.smallCount: expected an integer from 0 to 65535/],
    ["mask", 1024, /^Sample\.mask: expected an integer from 0 to 1023/],
    ["unsignedBig", -1n, /^Sample\.unsignedBig: is out of range for bigint unsigned/],
    ["unsignedBig", 2 ** 60, /^Sample\.unsignedBig: is not a safe integer/],
    ["signedBig", "9223372036854775808", /^Sample\.signedBig: is out of range for bigint/],
    ["signedBig", 1.5, /^Sample\.signedBig: is not a safe integer/],
    [
      "createdAt",
      "2026-01-02 03:04:05",
      /^Sample\.createdAt: is not an ISO-8601 timestamp like 2026-01-02T03:04:05\.123Z/,
    ],
    ["createdAt", "2026-02-30T03:04:05Z", /^Sample\.createdAt: is not a calendar date/],
    ["createdAt", "2026-01-02T03:04:05.1234Z", /^Sample\.createdAt: has more than 3 fractional-second digits/],
    ["touchedAt", new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)), /^Sample\.touchedAt: has fractional seconds/],
    ["birthday", "2026-1-2", /^Sample\.birthday: is not a date like 2026-01-02/],
    ["opensAt", "25:61:00", /^Sample\.opensAt: is out of range for TIME/],
    ["tags", ["red", "pink"], /^Sample\.tags: has a member "pink" that is not one of 'red', 'green', 'blue'/],
    ["tags", ["red", "red"], /^Sample\.tags: has 'red' twice/],
    ["tags", "red", /^Sample\.tags: expected an array of 'red', 'green', 'blue'/],
    ["payload", { f: () => 1 }, /^Sample\.payload: is not JSON: \$\.f a function is not JSON/],
    ["payload", [1, Number.NaN], /^Sample\.payload: is not JSON: \$\[1\] NaN is not a JSON number/],
    ["payload", new Map(), /^Sample\.payload: is not JSON: \$ is not a plain object/],
    ["payload", { id: 2n ** 64n }, /^Sample\.payload: is not JSON: \$\.id 18446744073709551616n is beyond 64 bits/],
    ["blob", [0, 1], /^Sample\.blob: expected a Uint8Array, got an array of 2$/],
    ["score", Number.POSITIVE_INFINITY, /^Sample\.score: expected a finite number/],
    ["label", 5, /^Sample\.label: expected a string, got 5 \(number\)$/],
  ];
  it.each(cases)("%s = %o", (attribute, value, message) => {
    const error = codecError(() => sample.toItem(minimal({ [attribute]: value })));
    expect(error).toBeInstanceOf(CodecError);
    expect(error.entity).toBe("Sample");
    expect(error.attribute).toBe(attribute);
    expect(error.value).toBe(value);
    expect(error.message).toMatch(message);
    // The same check guards every direction.
    expect(() => sample.toRow({ [attribute]: value })).toThrow(message);
    expect(() => sample.normalize(minimal({ [attribute]: value }))).toThrow(message);
  });

  it("values DynamoDB cannot hold, which MySQL can", () => {
    expect(codecError(() => sample.toItem(minimal({ score: 1e300 }))).message).toBe(
      "Sample.score: is beyond what a DynamoDB number holds (magnitudes 1e-130 to 9.99e125), got 1e+300 (number)",
    );
    expect(codecError(() => sample.toItem(minimal({ payload: { a: [5e-324] } }))).message).toMatch(
      /^Sample\.payload: cannot be stored: \$\.a\[0\] 5e-324 is beyond what a DynamoDB number holds/,
    );
    expect(sample.toRow({ score: 1e300 })).toEqual({ score: 1e300 });
  });

  it("from MySQL too", () => {
    expect(codecError(() => sample.fromRow({ active: 2 })).message).toBe(
      "Sample.active: is neither 0 nor 1 in a boolean column, got 2 (number)",
    );
    expect(codecError(() => sample.fromRow({ created_at: "0000-00-00 00:00:00.000" })).message).toMatch(
      /Sample\.createdAt: is not a calendar date/,
    );
    expect(codecError(() => sample.fromRow({ location: { x: 1, y: 2 } })).message).toMatch(
      /Sample\.location: mysql2 parsed this geometry/,
    );
    expect(codecError(() => sample.fromRow({ status: "" })).attribute).toBe("status");
  });

  it("unknown entities and attributes", () => {
    expect(codecError(() => codec.entity("Nope")).message).toBe(
      "Nope: is not an entity of contract 'every_type' (Tenant, Sample)",
    );
    expect(codecError(() => sample.attribute("nope")).message).toBe("Sample.nope: is not an attribute of the entity");
  });
});

describe("MySQL forms", () => {
  it("toRow writes parameters keyed by column, leaving undefined attributes out", () => {
    const row = sample.toRow({
      tenantId: 18446744073709551615n,
      seq: -1,
      amount: 1.5,
      active: true,
      flag: false,
      mask: 517,
      createdAt: "2026-01-02T03:04:05.123Z",
      touchedAt: "2026-01-02T03:04:05Z",
      tags: ["blue", "red"],
      extras: [],
      payload: { big: 12345678901234567890n, list: [null] },
      digest: new Uint8Array([0, 1, 0, 2]),
      note: null,
      price: undefined,
    });
    expect(row).toEqual({
      tenant_id: "18446744073709551615",
      seq: -1,
      amount: "1.500000",
      active: 1,
      flag: 0,
      mask: Buffer.from([0x02, 0x05]),
      created_at: "2026-01-02 03:04:05.123",
      touched_at: "2026-01-02 03:04:05",
      tags: "red,blue",
      extras: "",
      payload: '{"big":12345678901234567890,"list":[null]}',
      digest: Buffer.from([0, 1, 0, 2]),
      note: null,
    });
    expect(Buffer.isBuffer(row.digest)).toBe(true);
    expect(codecError(() => sample.toRow({ label: null })).message).toBe(
      "Sample.label: is required (its column is NOT NULL) but has no value",
    );
  });

  it("fromRow reads mysql2's forms, and leaves out columns the row does not have", () => {
    expect(
      sample.fromRow({
        tenant_id: "18446744073709551615",
        seq: -1,
        amount: "12.500000",
        active: 1,
        flag: Buffer.from([1]),
        mask: Buffer.from([0x02, 0x05]),
        created_at: "2026-01-02 03:04:05.123",
        opens_at: "-01:02:03.500",
        tags: "",
        extras: "x,y",
        payload: '{"n":12345678901234567890,"x":[1.5,null]}',
        digest: Buffer.from([0, 0, 1, 0]),
        note: null,
        unrelated: "ignored",
      }),
    ).toEqual({
      tenantId: 18446744073709551615n,
      seq: -1,
      amount: "12.500000",
      active: true,
      flag: true,
      mask: 517,
      createdAt: "2026-01-02T03:04:05.123Z",
      opensAt: "-01:02:03.500",
      tags: [],
      extras: ["x", "y"],
      payload: { n: 12345678901234567890n, x: [1.5, null] },
      digest: new Uint8Array([0, 0, 1, 0]),
      note: null,
    });
  });

  it("fromRow accepts JSON mysql2 already parsed", () => {
    expect(sample.fromRow({ payload: { a: [1, { b: null }] } }).payload).toEqual({ a: [1, { b: null }] });
  });
});

describe("normalize and diff", () => {
  it("finds exactly the changed field", () => {
    const left = minimal({ payload: { a: 1, b: [true] }, tags: ["red", "blue"] });
    expect(sample.diff(left, { ...left })).toEqual([]);
    expect(sample.diff(left, { ...left, label: "b" })).toEqual([{ field: "label", left: "a", right: "b" }]);
    expect(sample.diff(left, { ...left, payload: { a: 1, b: [false] } })).toEqual([
      { field: "payload", left: '{"a":1,"b":[true]}', right: '{"a":1,"b":[false]}' },
    ]);
    expect(sample.diff(left, { ...left, price: "1.00" })).toEqual([{ field: "price", left: null, right: "1.00" }]);
  });

  it("ignores differences of spelling only", () => {
    const left = minimal({
      price: "10.50",
      ratio: 1.23456789,
      createdAt: "2026-01-02T03:04:05.1Z",
      payload: { a: 1, b: 2 },
      tags: ["red", "blue"],
      extras: [],
      tenantId: 1n,
    });
    const right = minimal({
      price: "10.5",
      ratio: 1.23457,
      createdAt: "2026-01-02T04:04:05.100+01:00",
      payload: { b: 2, a: 1n },
      tags: ["blue", "red"],
      extras: null,
      tenantId: "1",
    });
    expect(sample.diff(left, right)).toEqual([]);
    expect(sample.normalize(left)).toMatchObject({
      price: "10.50",
      ratio: "1.23457",
      createdAt: "2026-01-02T03:04:05.100Z",
      payload: '{"a":1,"b":2}',
      tags: "red,blue",
      extras: null,
      tenantId: "1",
      digest: "AAAAAA==",
      active: "false",
    });
  });

  it("compares denormalised copies only when both sides have them", () => {
    const left = minimal();
    expect(sample.diff(left, { ...left, tenantName: "Acme" })).toEqual([]);
    expect(sample.diff({ ...left, tenantName: "Old" }, { ...left, tenantName: "Acme" })).toEqual([
      { field: "tenantName", left: "Old", right: "Acme" },
    ]);
  });
});

describe("JSON text", () => {
  it("keeps integers beyond 2^53 exact, and everything else as JSON.parse does", () => {
    const text =
      '{"big":12345678901234567890,"neg":-9223372036854775807,"double":-9223372036854775808,"huge":123456789012345678901234567890,"safe":9007199254740991,"f":0.1,"e":1e3,"s":"12345678901234567890","n":null,"l":[{}],"__proto__":1}';
    const value = parseJson(text);
    expect(value).toEqual({
      big: 12345678901234567890n,
      // Beyond 2^53: exact as a bigint unless a double holds the value exactly (-2^63 does); beyond 64 bits a double.
      neg: -9223372036854775807n,
      double: -(2 ** 63),
      huge: 1.2345678901234568e29,
      safe: 9007199254740991,
      f: 0.1,
      e: 1000,
      s: "12345678901234567890",
      n: null,
      l: [{}],
      ["__proto__"]: 1,
    });
    // "__proto__" is an own key like any other, not the prototype.
    expect(Object.keys(value as object)).toEqual([
      "big",
      "neg",
      "double",
      "huge",
      "safe",
      "f",
      "e",
      "s",
      "n",
      "l",
      "__proto__",
    ]);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(writeJson(value)).toBe(
      '{"big":12345678901234567890,"neg":-9223372036854775807,"double":-9223372036854775808,"huge":123456789012345680000000000000,"safe":9007199254740991,"f":0.1,"e":1000,"s":"12345678901234567890","n":null,"l":[{}],"__proto__":1}',
    );
    expect(() => parseJson('{"a":12345678901234567890,}')).toThrow(
      new SyntaxError("expected a property name at position 26"),
    );
    expect(parseJson("18014398509481984")).toBe(2 ** 54);
    expect(writeJson([2 ** 63, 1e21, 1.5e-7, -0])).toBe("[9223372036854775808,1000000000000000000000,0.00000015,0]");
    expect(parseJson(writeJson([2 ** 63, 1e21, 1.5e-7]))).toEqual([2 ** 63, 1e21, 1.5e-7]);
  });
});
