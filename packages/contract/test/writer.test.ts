import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse, parseDocument } from "yaml";
import {
  applyToDocument,
  type Contract,
  createContractDocument,
  type Entity,
  parseContract,
  stringifyContract,
} from "../src/index.ts";

const storeText = readFileSync(new URL("./fixtures/store.yaml", import.meta.url), "utf8");

function loadStore() {
  const result = parseContract(storeText, "store.yaml");
  if (!result.contract) throw new Error("the store fixture must be valid");
  return { document: result.document, contract: structuredClone(result.contract) };
}

function entity(contract: Contract, name: string): Entity {
  const found = contract.entities[name];
  if (!found) throw new Error(`no entity ${name}`);
  return found;
}

describe("applyToDocument + stringifyContract", () => {
  it("changes what changed and keeps comments, key order and untouched formatting", () => {
    const { document, contract: next } = loadStore();
    next.name = "shop"; // changed scalar
    entity(next, "User").source.rows = 1300; // changed fact
    delete next.source.workload; // removed key
    entity(next, "Product").notes = "prices are exact"; // new key
    const isSeller = entity(next, "User").attributes.isSeller;
    if (isSeller) isSeller.type = "integer"; // changed scalar that has a comment
    next.entities.Review = {
      table: "store",
      source: { table: "reviews", primaryKey: ["id"], rows: 0, avgRowBytes: 0 },
      key: { partition: "PRODUCT#{productId}", sort: "REVIEW#{id}" },
      attributes: {
        id: { type: "bigint", column: { name: "id", sqlType: "bigint(20) unsigned", nullable: false } },
        productId: { type: "bigint", column: { name: "product_id", sqlType: "bigint(20) unsigned", nullable: false } },
      },
    }; // new entity

    applyToDocument(document, next);
    const text = stringifyContract(document);

    // It re-parses to exactly `next`, and is still a valid contract.
    expect(parse(text)).toEqual(next);
    expect(parseContract(text, "store.yaml").errors).toEqual([]);

    // Comments survive: the header, before keys, and at the end of lines, also on a changed scalar.
    expect(text.startsWith("# yaml-language-server: $schema=../../schema/contract.schema.json\n")).toBe(true);
    expect(text).toContain("  # One table for everything: item collections per user and per order.\n  store:\n");
    expect(text).toContain("      sort: PROFILE # the user's own item in the collection\n");
    expect(text).toContain("        type: integer # tinyint(1) holds 0/1\n");
    expect(text).toContain("    # A cart line lives with its user: one Query reads the whole cart.\n    key:\n");
    expect(text).toContain("      # Top-level categories have no parent and stay out of the index.\n      GSI1:\n");

    // The changed values, the removed key, the new key at the end of its map, the new entity at the end.
    expect(text).toContain("\nname: shop\n");
    expect(text).toContain("      rows: 1300\n");
    expect(text).not.toContain("workload:");
    expect(text).toMatch(
      / {4}id: \{ strategy: auto-increment, attribute: id \}\n {4}notes: prices are exact\n\n {2}CartItem:/,
    );
    expect(text).toMatch(/ {2}OrderItem:[\s\S]*\n\n {2}Review:\n {4}table: store\n/);
    expect(text.indexOf("\n  Review:")).toBeLessThan(text.indexOf("\naccessPatterns:"));

    // Unchanged lines are byte-for-byte the same: flow maps, quoting, blank lines.
    expect(text).toContain('        column: { name: price, sqlType: "decimal(10,2)", nullable: false }\n');
    expect(text).toContain(
      "      reason: \"LIKE '%…%' search needs a search index (e.g. OpenSearch), not a key lookup\"\n",
    );
    expect(text).toContain("    dynamodb: { operation: Query, index: GSI1, order: desc }\n");
    // Every line that was not changed is still there, as it was.
    const after = new Set(text.split("\n"));
    const changed = /workload:|origin:|seconds:|queries:|digests:|^name:|rows: 1200|# tinyint/;
    expect(storeText.split("\n").filter((line) => !changed.test(line) && !after.has(line))).toEqual([]);
  });

  it("keeps the order of the keys that stay, even when `next` lists them in another order", () => {
    const document = parseDocument("# top\nb: 1 # one\na: 2\nc: 3\n");
    applyToDocument(document, { d: 4, c: 3, a: 5, b: 1 });
    expect(stringifyContract(document)).toBe("# top\nb: 1 # one\na: 5\nc: 3\nd: 4\n");
  });

  it("replaces a node whose kind changes, keeping its comments", () => {
    const document = parseDocument("a: 1 # was a number\nb:\n  # inside\n  x: 1\nc: [1, 2]\n");
    applyToDocument(document, { a: "one", b: { x: 1, y: [1, 2] }, c: [1] });
    expect(stringifyContract(document)).toBe("a: one # was a number\nb:\n  # inside\n  x: 1\n  y: [1, 2]\nc: [1]\n");
    applyToDocument(document, { a: 2, b: "flat", c: [1, 2, 3] });
    expect(parse(stringifyContract(document))).toEqual({ a: 2, b: "flat", c: [1, 2, 3] });
  });

  it("is a no-op when nothing changed", () => {
    const { document, contract } = loadStore();
    applyToDocument(document, contract);
    expect(stringifyContract(document)).toBe(storeText);
  });
});

describe("stringifyContract: line width", () => {
  it("writes a flow collection that would end past column 120 as a block, and leaves the others", () => {
    const long = { name: "a".repeat(50), sqlType: "varchar(255)", nullable: false, default: "'b'".repeat(10) };
    const document = parseDocument("x:\n  short: { a: 1 }\n  long: { a: 1 }\n  list: [a]\n");
    applyToDocument(document, { x: { short: { a: 1 }, long, list: ["c".repeat(60), "d".repeat(60)] } });
    const text = stringifyContract(document);
    expect(text).toBe(
      [
        "x:",
        "  short: { a: 1 }",
        "  long:",
        `    name: ${"a".repeat(50)}`,
        "    sqlType: varchar(255)",
        "    nullable: false",
        `    default: "${"'b'".repeat(10)}"`,
        "  list:",
        `    - ${"c".repeat(60)}`,
        `    - ${"d".repeat(60)}`,
        "",
      ].join("\n"),
    );
    // Printing does not change the document.
    expect(stringifyContract(document)).toBe(text);
    expect((document.getIn(["x", "long"], true) as { flow?: boolean }).flow).toBe(true);
  });

  it("counts the key and the indentation: 120 columns fit, 121 do not", () => {
    const line = (width: number) => `  key: { x: ${"y".repeat(width - 14)} }`;
    expect(line(120)).toHaveLength(120);
    const fits = parseDocument(`a:\n${line(120)}\n`);
    expect(stringifyContract(fits)).toBe(`a:\n${line(120)}\n`);
    const wide = parseDocument(`a:\n${line(121)}\n`);
    expect(stringifyContract(wide)).toBe(`a:\n  key:\n    x: ${"y".repeat(107)}\n`);
  });
});

describe("createContractDocument", () => {
  it("starts with the schema line, spaces sections, and puts comments before their keys", () => {
    const { contract } = loadStore();
    const document = createContractDocument(contract, {
      schemaPath: "../packages/contract/schema/contract.schema.json",
      comments: [
        { path: [], text: "generated by ferry analyze from store@localhost" },
        { path: ["entities", "User"], text: "Shoppers and sellers share one table.\nis_seller tells them apart." },
        { path: ["entities", "User", "attributes", "isSeller", "type"], text: "tinyint(1): boolean or integer" },
        { path: ["entities", "User", "source", "primaryKey", 0], text: "the only key column" },
      ],
    });
    const text = stringifyContract(document);
    expect(parse(text)).toEqual(contract);
    expect(parseContract(text, "contract/store.yaml").errors).toEqual([]);
    const lines = text.split("\n");
    expect(lines.slice(0, 5)).toEqual([
      "# yaml-language-server: $schema=../packages/contract/schema/contract.schema.json",
      "# generated by ferry analyze from store@localhost",
      "",
      "version: 1",
      "name: store",
    ]);
    expect(text).toContain("\n\nsource:\n  engine: mariadb\n");
    expect(text).toContain("\n\ntables:\n");
    expect(text).toContain(
      "\nentities:\n  # Shoppers and sellers share one table.\n  # is_seller tells them apart.\n  User:\n    table: store\n",
    );
    expect(text).toContain("\n\n  Category:\n");
    expect(text).toContain("      isSeller:\n        # tinyint(1): boolean or integer\n        type: boolean\n");
    expect(text).toContain("      primaryKey:\n        # the only key column\n        - id\n");
    expect(text).toContain("        uq_users_username: [username]\n");
    // Long strings are never folded, and need no quotes unless YAML would read them differently.
    expect(text).toContain("    - products.price has a CHECK constraint (price >= 0); DynamoDB will not enforce it\n");
  });

  it("rejects a comment for a path that is not there", () => {
    const { contract } = loadStore();
    expect(() =>
      createContractDocument(contract, { schemaPath: "x.json", comments: [{ path: ["entities", "Nope"], text: "?" }] }),
    ).toThrow("no node at entities.Nope to comment on");
  });
});

describe("stringifyContract: strings survive the round trip", () => {
  const values = [
    "USER#{id}",
    "{id}",
    "{createdAt}#{id}",
    "ORDER#{createdAt}",
    "#META",
    "A #B",
    "a: b",
    "- x",
    "yes",
    "no",
    "null",
    "~",
    "123",
    "0x1F",
    "1e3",
    "true",
    "",
    " padded ",
    "enum('a','it''s')",
    "decimal(10,2)",
    "SELECT * FROM users WHERE id = ? AND name LIKE '%x%'",
    "line one\nline two",
    "tab\there",
    "[not a list]",
    "&anchor",
    "*alias",
    "!tag",
    "%directive",
    "@at",
    "`tick`",
    "'quoted'",
    '"double"',
    "trailing:",
    "key: {nested}",
    "…unicode é",
    "{{literal}}",
  ];

  it.each(values)("%j as a map value, a list item and in a flow list", (value) => {
    const document = createContractDocument({ value, list: [value, "x"], long: [value, "a".repeat(80)] } as never, {
      schemaPath: "s.json",
    });
    expect(parse(stringifyContract(document))).toEqual({ value, list: [value, "x"], long: [value, "a".repeat(80)] });
    const existing = parseDocument("value: old\nlist: [old, x]\n");
    applyToDocument(existing, { value, list: [value, "x"] });
    expect(parse(stringifyContract(existing))).toEqual({ value, list: [value, "x"] });
  });

  it("writes key templates plainly where YAML allows it", () => {
    const document = parseDocument("key:\n  partition: X\n  sort: Y\n");
    applyToDocument(document, { key: { partition: "USER#{id}", sort: "{createdAt}" } });
    expect(stringifyContract(document)).toBe('key:\n  partition: USER#{id}\n  sort: "{createdAt}"\n');
  });
});
