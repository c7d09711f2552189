import { type Contract, KeyTemplateError, loadValidContract } from "@ferry/contract";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Codec, createCodec, type EntityCodec, type EntityValue } from "../src/codec/index.ts";
import { EVERY_TYPE_CONTRACT, full, POINT_1_2 } from "../src/testing/index.ts";
import { CODEC_EDGES_CONTRACT, codecError } from "./codec-fixtures.ts";

let contract: Contract;
let codec: Codec;
let owner: EntityCodec;
let edge: EntityCodec;
let word: EntityCodec;
let sample: EntityCodec;

// Contracts are read once; codecs are compiled before each test, so that a test fails (rather than a whole file being
// skipped) when compiling breaks, and the compile counts toward each test's coverage in mutation runs.
let everyType: Contract;

beforeAll(async () => {
  contract = await loadValidContract(CODEC_EDGES_CONTRACT);
  everyType = await loadValidContract(EVERY_TYPE_CONTRACT);
});

beforeEach(() => {
  codec = createCodec(contract);
  owner = codec.entity("Owner");
  edge = codec.entity("Edge");
  word = codec.entity("Word");
  sample = createCodec(everyType).entity("Sample");
});

/** An Edge with its NOT NULL attributes, its sparse indexes' placeholders and its denormalised copies. */
function anEdge(overrides: EntityValue = {}): EntityValue {
  return {
    ownerId: 7,
    code: "ÀbC ",
    exact: "MiXed",
    kind: "Alpha",
    at: "2026-01-02T03:04:05Z",
    tiny: -1,
    ownerName: "Ann",
    ownerSince: "2020-01-01T00:00:00.000Z",
    ownerRank: -3,
    ownerLevel: "high",
    ...overrides,
  };
}

describe("what an entity's codec knows", () => {
  it("its entities, tables, attributes, copies, key names and identity", () => {
    expect(codec.contract).toBe(contract);
    expect(codec.entities).toEqual(["Owner", "Edge", "Word"]);
    expect(edge.name).toBe("Edge");
    expect(edge.definition).toBe(contract.entities.Edge);
    expect(edge.table).toBe("main");
    expect(word.table).toBe("words");
    expect(edge.copies.map((copy) => copy.name)).toEqual(["ownerName", "ownerSince", "ownerRank", "ownerLevel"]);
    expect(edge.attributes.map((attribute) => attribute.name).slice(0, 4)).toEqual([
      "ownerId",
      "code",
      "exact",
      "kind",
    ]);
    expect(edge.attributes).toHaveLength(Object.keys(contract.entities.Edge?.attributes ?? {}).length);
    expect(edge.attribute("ownerRank").type).toBe("integer");
    expect(edge.keyNames).toEqual({ partition: "PK", sort: "SK" });
    expect(word.keyNames).toEqual({ partition: "PK" });
    expect(edge.indexKeyNames("GSI1")).toEqual({ partition: "GSI1PK", sort: "GSI1SK" });
    expect(edge.indexKeyNames("GSI2")).toEqual({ partition: "GSI2PK" });
    expect(edge.identity).toEqual(["ownerId", "code"]);
    expect(edge.checkedIdentity).toEqual([]);
    expect(word.identity).toEqual(["text", "sense"]);
    expect(word.checkedIdentity).toEqual(["sense"]);
  });

  it("refuses an index the entity does not use, listing the ones it does", () => {
    expect(codecError(() => edge.indexKey("GSI3", {})).message).toBe(
      "Edge: uses no index 'GSI3' (its indexes: GSI1, GSI2)",
    );
    expect(codecError(() => word.indexKeyNames("GSI1")).message).toBe("Word: uses no index 'GSI1' (its indexes: none)");
    expect(codecError(() => owner.indexKey("GSI2", {})).message).toBe(
      "Owner: uses no index 'GSI2' (its indexes: GSI1)",
    );
  });

  it("tells an item's entity by its __entity attribute", () => {
    expect(codec.entityOf(edge.toItem(anEdge()))).toBe("Edge");
    expect(codec.entityOf({ PK: { S: "x" } })).toBeUndefined();
  });
});

describe("items: attributes, keys, sparse indexes and copies", () => {
  it("writes every key, folding _ci text, and the copies it is given", () => {
    expect(edge.toItem(anEdge())).toEqual({
      ownerId: { N: "7" },
      code: { S: "ÀbC " },
      exact: { S: "MiXed" },
      kind: { S: "Alpha" },
      tiny: { N: "-1" },
      at: { S: "2026-01-02T03:04:05Z" },
      ownerName: { S: "Ann" },
      ownerSince: { S: "2020-01-01T00:00:00.000Z" },
      ownerRank: { N: "-3" },
      ownerLevel: { S: "high" },
      PK: { S: "OWNER#00000000000000000007" },
      SK: { S: "EDGE#abc" },
      GSI1PK: { S: "EDGE#KIND#alpha" },
      GSI1SK: { S: "2026-01-02T03:04:05Z#-99999999999999999999" },
      GSI2PK: { S: "MiXed" },
      __entity: { S: "Edge" },
    });
  });

  it("leaves out a sparse index whose placeholder is undefined or null", () => {
    for (const tiny of [undefined, null]) {
      const item = edge.toItem(anEdge({ tiny }));
      expect(Object.keys(item).filter((name) => name.startsWith("GSI"))).toEqual(["GSI2PK"]);
      expect(item).not.toHaveProperty("tiny");
    }
    const { tiny: _tiny, ...without } = anEdge();
    expect(edge.toItem(without)).not.toHaveProperty("GSI1PK");
  });

  it("leaves out an index key that renders as the empty string, partition or sort", () => {
    const item = edge.toItem(anEdge({ exact: "" }));
    expect(item).not.toHaveProperty("GSI2PK");
    expect(item.exact).toEqual({ S: "" });
    expect(item.GSI1PK).toEqual({ S: "EDGE#KIND#alpha" });
    const unnamed = owner.toItem({ id: 1, name: "", since: "2020-01-01T00:00:00Z", rank: 0, level: "low" });
    expect(unnamed).not.toHaveProperty("GSI1PK");
    expect(unnamed).not.toHaveProperty("GSI1SK");
    const named = owner.toItem({ id: 1, name: "Bo", since: "2020-01-01T00:00:00Z", rank: 0, level: "low" });
    expect([named.GSI1PK, named.GSI1SK]).toEqual([{ S: "OWNERS" }, { S: "Bo" }]);
  });

  it("refuses a primary key that renders as the empty string", () => {
    const error = codecError(() => word.toItem({ text: "", sense: "x" }));
    expect(error.message).toBe('Word: its primary key renders as an empty string, got "" (string)');
    expect(error.attribute).toBeUndefined();
    expect(error.value).toBe("");
  });

  it("writes a partition-only key with no sort attribute", () => {
    expect(word.toItem({ text: "Straße ", sense: "road" })).toEqual({
      text: { S: "Straße " },
      sense: { S: "road" },
      PK: { S: "strasse" },
      __entity: { S: "Word" },
    });
    expect(word.key({ text: "ÉTÉ" })).toEqual({ PK: { S: "ete" } });
    expect(edge.indexKey("GSI2", { exact: "MiXed" })).toEqual({ GSI2PK: { S: "MiXed" } });
  });

  it("leaves null copies out of the item, and reads back only the copies the item has", () => {
    const item = edge.toItem(anEdge({ ownerName: null, ownerRank: undefined }));
    expect(item).not.toHaveProperty("ownerName");
    expect(item).not.toHaveProperty("ownerRank");
    const value = edge.fromItem({ ...item, ownerLevel: { NULL: true } });
    expect(Object.keys(value).filter((name) => name.startsWith("owner"))).toEqual(["ownerId", "ownerSince"]);
    expect(value.ownerSince).toBe("2020-01-01T00:00:00.000Z");
  });

  it("reads an item back equal, with or without its __entity attribute", () => {
    const value = anEdge();
    const read = edge.fromItem(edge.toItem(value));
    const nulls = Object.fromEntries(Object.keys(contract.entities.Edge?.attributes ?? {}).map((name) => [name, null]));
    expect(read).toStrictEqual({ ...nulls, ...value });
    const { __entity: _tag, ...untagged } = edge.toItem(value);
    expect(edge.fromItem(untagged)).toEqual(read);
    expect(codecError(() => edge.fromItem({ ...untagged, __entity: { S: "Owner" } })).message).toBe(
      "Edge: cannot read an item of entity 'Owner'",
    );
  });
});

describe("keys and templates", () => {
  it("fold _ci text in every key: primary, index and rendered", () => {
    expect(edge.key({ ownerId: 7, code: "MiXeD" })).toEqual({
      PK: { S: "OWNER#00000000000000000007" },
      SK: { S: "EDGE#mixed" },
    });
    expect(edge.key({ ownerId: 7, code: "mixed" })).toEqual(edge.key({ ownerId: 7, code: "MIXED  " }));
    expect(edge.indexKey("GSI1", { kind: "beta", at: "2026-01-02T03:04:05Z", tiny: 0 })).toEqual({
      GSI1PK: { S: "EDGE#KIND#beta" },
      GSI1SK: { S: "2026-01-02T03:04:05Z#00000000000000000000" },
    });
    expect(edge.render("{code}|{exact}|{kind}", { code: "ÀB", exact: "ÀB", kind: "Alpha" })).toBe("ab|ÀB|alpha");
  });

  it("render a template of the entity's attributes and copies, stopping early only for a prefix", () => {
    expect(edge.render("BY#{ownerName}", { ownerName: "Ann" })).toBe("BY#Ann");
    expect(edge.render("A#{tiny}#B#{code}", { tiny: 1 }, { prefixOnly: true })).toBe("A#00000000000000000001#B#");
    expect(edge.render("A#{tiny}#B", { tiny: undefined }, { prefixOnly: true })).toBe("A#");
    expect(edge.render("A#{tiny}#B", { tiny: 1 }, { prefixOnly: false })).toBe("A#00000000000000000001#B");
    const error = codecError(() => edge.render("A#{tiny}#B", {}, {}));
    expect(error.message).toBe("Edge.tiny: has no value, and key 'A#{tiny}#B' needs it");
    expect(error.attribute).toBe("tiny");
    expect(codecError(() => edge.render("A#{tiny}", { tiny: null })).message).toBe(
      "Edge.tiny: has no value, and key 'A#{tiny}' needs it",
    );
  });

  it("refuse malformed templates and placeholders that are not keyable attributes", () => {
    const malformed = codecError(() => edge.render("A#{code", {}));
    expect(malformed.message).toBe("Edge: key template 'A#{code' is malformed");
    expect(malformed.attribute).toBeUndefined();
    expect(malformed.cause).toBeInstanceOf(KeyTemplateError);
    const unknown = codecError(() => edge.render("A#{nope}", {}));
    expect(unknown.message).toBe("Edge.nope: key template 'A#{nope}' names an attribute that does not exist");
    expect(unknown.attribute).toBe("nope");
    const set = codecError(() => edge.render("A#{colors}", {}));
    expect(set.message).toBe("Edge.colors: a set attribute cannot be part of a key ('A#{colors}')");
    expect(set.attribute).toBe("colors");
  });
});

describe("MySQL rows", () => {
  it("leave out what the value or the row does not have", () => {
    expect(edge.toRow({ code: "x", tiny: undefined, exact: null, ownerName: "Ann" })).toEqual({
      code: "x",
      exact: null,
    });
    expect(edge.fromRow({ code: "x", tiny: null, narrow_big: "5", unrelated: 1 })).toEqual({
      code: "x",
      tiny: null,
      narrowBig: 5n,
    });
  });
});

/** full.payload's comparison text: sorted keys, exact integers. */
const PAYLOAD =
  '{"big":12345678901234567890,"fraction":0.1,"negative":-9223372036854775807,"nested":{"empty":{},"list":[1,null,"x",true,{"deep":[]}]},"nothing":null,"unicodé":"✓"}';

describe("normalize: the comparison form shadow reads and validation diff", () => {
  it("gives every type its canonical text", () => {
    expect(sample.normalize({ ...full, tenantName: "Acme" })).toEqual({
      tenantId: "18446744073709551615",
      seq: "42",
      label: "Zoë's sample #1 — ✓",
      note: "two\nlines, 'quotes' and \\backslashes\\",
      smallCount: "65535",
      builtYear: "2026",
      signedBig: "-9223372036854775808",
      unsignedBig: "18446744073709551615",
      amount: "12345678901234.123400",
      price: "10.50",
      ratio: "1.5",
      score: "0.30000000000000004",
      active: "true",
      flag: "true",
      mask: "517",
      createdAt: "2026-01-02T03:04:05.123Z",
      preciseAt: "2026-01-02T03:04:05.123456Z",
      touchedAt: "2026-03-04T05:06:07Z",
      birthday: "1999-12-31",
      opensAt: "09:30:00.250",
      status: "live",
      tags: "red,blue",
      extras: "x,y",
      payload: PAYLOAD,
      blob: "AAEA/wA=",
      digest: "AAcAAA==",
      location: "AAAAAAEBAAAAAAAAAAAA8D8AAAAAAAAAQA==",
      tenantName: "Acme",
    });
    expect(POINT_1_2).toHaveLength(25);
  });

  it("includes copies the value has, null ones too, and no others", () => {
    expect(Object.keys(edge.normalize(anEdge({ ownerName: null, ownerRank: undefined }))).slice(-3)).toEqual([
      "ownerName",
      "ownerSince",
      "ownerLevel",
    ]);
    expect(edge.normalize(anEdge({ ownerName: null })).ownerName).toBeNull();
    expect(edge.normalize(anEdge()).ownerSince).toBe("2020-01-01T00:00:00.000Z");
    expect(edge.normalize(anEdge()).ownerRank).toBe("-3");
  });

  const changes: Array<[string, unknown, string | null, string | null]> = [
    ["seq", 43, "42", "43"],
    ["smallCount", 0, "65535", "0"],
    ["builtYear", 1901, "2026", "1901"],
    ["mask", 516, "517", "516"],
    ["signedBig", -9223372036854775807n, "-9223372036854775808", "-9223372036854775807"],
    ["unsignedBig", 18446744073709551614n, "18446744073709551615", "18446744073709551614"],
    ["tenantId", "18446744073709551614", "18446744073709551615", "18446744073709551614"],
    ["amount", "12345678901234.123401", "12345678901234.123400", "12345678901234.123401"],
    ["price", "-10.50", "10.50", "-10.50"],
    ["ratio", 1.25, "1.5", "1.25"],
    ["score", 0.3, "0.30000000000000004", "0.3"],
    ["score", -0.1 - 0.2, "0.30000000000000004", "-0.30000000000000004"],
    ["active", false, "true", "false"],
    ["flag", null, "true", null],
    ["createdAt", "2026-01-02T03:04:05.124Z", "2026-01-02T03:04:05.123Z", "2026-01-02T03:04:05.124Z"],
    ["preciseAt", "2026-01-02T03:04:05.123457Z", "2026-01-02T03:04:05.123456Z", "2026-01-02T03:04:05.123457Z"],
    ["touchedAt", "2026-03-04T05:06:08Z", "2026-03-04T05:06:07Z", "2026-03-04T05:06:08Z"],
    ["birthday", "2000-01-01", "1999-12-31", "2000-01-01"],
    ["opensAt", "09:30:00.251", "09:30:00.250", "09:30:00.251"],
    ["opensAt", "-09:30:00.250", "09:30:00.250", "-09:30:00.250"],
    ["status", "archived", "live", "archived"],
    ["tags", ["red"], "red,blue", "red"],
    ["extras", null, "x,y", null],
    [
      "payload",
      { ...(full.payload as object), big: 12345678901234567891n },
      PAYLOAD,
      PAYLOAD.replace("4567890,", "4567891,"),
    ],
    [
      "payload",
      { ...(full.payload as object), nothing: false },
      PAYLOAD,
      PAYLOAD.replace('"nothing":null', '"nothing":false'),
    ],
    ["blob", new Uint8Array([0, 1, 0, 255, 1]), "AAEA/wA=", "AAEA/wE="],
    ["digest", new Uint8Array([0, 7, 0, 1]), "AAcAAA==", "AAcAAQ=="],
    ["label", "zoë's sample #1 — ✓", "Zoë's sample #1 — ✓", "zoë's sample #1 — ✓"],
    ["note", null, "two\nlines, 'quotes' and \\backslashes\\", null],
    ["location", new Uint8Array(25), "AAAAAAEBAAAAAAAAAAAA8D8AAAAAAAAAQA==", `${"A".repeat(34)}==`],
  ];
  it.each(changes)("diff sees a change of %s", (field, value, left, right) => {
    const changed = { ...full, [field]: value };
    expect(sample.diff(full, changed)).toEqual([{ field, left, right }]);
    expect(sample.diff(changed, full)).toEqual([{ field, left: right, right: left }]);
  });

  const respellings: Array<[string, unknown]> = [
    ["seq", -0 + 42],
    ["tenantId", "18446744073709551615"],
    ["signedBig", "-9223372036854775808"],
    ["amount", "12345678901234.1234"],
    ["price", 10.5],
    ["ratio", 1.5000001],
    ["createdAt", "2026-01-02T04:04:05.123+01:00"],
    ["preciseAt", "2026-01-02T03:04:05.123456-00:00"],
    ["touchedAt", "2026-03-04T06:06:07+01:00"],
    ["birthday", new Date("1999-12-31T00:00:00Z")],
    ["opensAt", "009:30:00.25"],
    ["tags", ["blue", "red"]],
    ["payload", { nothing: null, ...(full.payload as object) }],
    ["blob", Buffer.from([0, 1, 0, 255, 0])],
  ];
  it.each(respellings)("diff ignores a respelling of %s", (field, value) => {
    expect(sample.diff(full, { ...full, [field]: value })).toEqual([]);
  });

  it("compares denormalised copies when both sides have them", () => {
    const left = anEdge();
    expect(edge.diff(left, anEdge())).toEqual([]);
    expect(edge.diff(left, anEdge({ ownerSince: "2020-01-01T01:00:00+01:00" }))).toEqual([]);
    expect(edge.diff(left, anEdge({ ownerRank: 4 }))).toEqual([{ field: "ownerRank", left: "-3", right: "4" }]);
    expect(edge.diff(left, anEdge({ ownerLevel: "low", ownerName: null }))).toEqual([
      { field: "ownerName", left: "Ann", right: null },
      { field: "ownerLevel", left: "high", right: "low" },
    ]);
    expect(edge.diff(anEdge({ ownerName: undefined }), anEdge({ ownerName: "Bob" }))).toEqual([]);
    expect(edge.diff(anEdge({ ownerName: "Bob" }), anEdge({ ownerName: undefined }))).toEqual([]);
  });

  it("sees attributes and copies in contract order, null on either side", () => {
    expect(edge.diff(anEdge({ tiny: null, ownerRank: 1 }), anEdge({ code: "x", tiny: 5 }))).toEqual([
      { field: "code", left: "ÀbC ", right: "x" },
      { field: "tiny", left: null, right: "5" },
      { field: "ownerRank", left: "1", right: "-3" },
    ]);
  });
});

describe("createCodec refuses a contract whose entities do not fit their tables", () => {
  /** The fixture contract with one change made by `edit`. */
  const edited = (edit: (copy: Contract) => void): Contract => {
    const copy = structuredClone(contract);
    edit(copy);
    return copy;
  };
  const entity = (copy: Contract, name: string) => {
    const found = copy.entities[name];
    if (!found) throw new Error(`no entity ${name}`);
    return found;
  };
  const attribute = (copy: Contract) => structuredClone(entity(copy, "Edge").attributes.text);

  const refusals: Array<[string, (copy: Contract) => void, string]> = [
    [
      "a missing table",
      (copy) => {
        entity(copy, "Edge").table = "nope";
      },
      "Edge: its table 'nope' is not in the contract",
    ],
    ...["PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "__entity"].map(
      (name): [string, (copy: Contract) => void, string] => [
        `an attribute named ${name}`,
        (copy) => {
          const text = attribute(copy);
          if (text) entity(copy, "Edge").attributes[name] = text;
        },
        `Edge.${name}: its name is taken by a key attribute, another attribute or __entity`,
      ],
    ),
    [
      "an attribute named after an index key the entity does not use",
      (copy) => {
        const text = attribute(copy);
        if (text) entity(copy, "Owner").attributes.GSI2PK = text;
      },
      "Owner.GSI2PK: its name is taken by a key attribute, another attribute or __entity",
    ],
    [
      "a copy named like an attribute",
      (copy) => {
        const denormalized = entity(copy, "Edge").denormalized ?? {};
        denormalized.code = { from: "Owner", attribute: "name", via: "ownerId" };
        entity(copy, "Edge").denormalized = denormalized;
      },
      "Edge.code: its name is taken by a key attribute, another attribute or __entity",
    ],
    [
      "a copy of an attribute that does not exist",
      (copy) => {
        const copies = entity(copy, "Edge").denormalized;
        if (copies?.ownerName) copies.ownerName.attribute = "nickname";
      },
      "Edge.ownerName: copies Owner.nickname, which is not in the contract",
    ],
    [
      "a copy of an entity that does not exist",
      (copy) => {
        const copies = entity(copy, "Edge").denormalized;
        if (copies?.ownerName) copies.ownerName.from = "Nobody";
      },
      "Edge.ownerName: copies Nobody.name, which is not in the contract",
    ],
    [
      "no sort template for the table's sort key",
      (copy) => {
        delete entity(copy, "Edge").key.sort;
      },
      "Edge: the table has a sort key 'SK' and the entity no sort template",
    ],
    [
      "a sort template for a table without a sort key",
      (copy) => {
        entity(copy, "Word").key.sort = "WORD";
      },
      "Word: the table has no sort key for the template 'WORD'",
    ],
    [
      "no sort template for an index's sort key",
      (copy) => {
        const index = entity(copy, "Edge").indexes?.GSI1;
        if (index) delete index.sort;
      },
      "Edge: index GSI1 has a sort key 'GSI1SK' and the entity no sort template",
    ],
    [
      "a sort template for an index without a sort key",
      (copy) => {
        const index = entity(copy, "Edge").indexes?.GSI2;
        if (index) index.sort = "{code}";
      },
      "Edge: index GSI2 has no sort key for the template '{code}'",
    ],
    [
      "an index the table does not have",
      (copy) => {
        const indexes = entity(copy, "Edge").indexes ?? {};
        indexes.GSI9 = { partition: "X" };
      },
      "Edge: index 'GSI9' is not an index of table 'main'",
    ],
    [
      "an index on a table without indexes",
      (copy) => {
        entity(copy, "Word").indexes = { GSI1: { partition: "X" } };
      },
      "Word: index 'GSI1' is not an index of table 'words'",
    ],
    [
      "a key placeholder naming a copy",
      (copy) => {
        const index = entity(copy, "Edge").indexes?.GSI2;
        if (index) index.partition = "{ownerName}";
      },
      "Edge.ownerName: key template '{ownerName}' names an attribute that does not exist",
    ],
    [
      "a malformed key template",
      (copy) => {
        entity(copy, "Edge").key.sort = "EDGE#{code";
      },
      "Edge: key template 'EDGE#{code' is malformed",
    ],
  ];
  it.each(refusals)("%s", (_name, edit, message) => {
    const broken = edited(edit);
    expect(codecError(() => createCodec(broken)).message).toBe(message);
  });

  it("lets attributes use the names of sort keys the table does not have", () => {
    const fine = edited((copy) => {
      const text = attribute(copy);
      if (!text) return;
      entity(copy, "Word").attributes.SK = text;
      entity(copy, "Edge").attributes.GSI2SK = text;
    });
    expect(createCodec(fine).entity("Word").attribute("SK").name).toBe("SK");
    expect(createCodec(fine).entity("Edge").attribute("GSI2SK").name).toBe("GSI2SK");
  });
});
