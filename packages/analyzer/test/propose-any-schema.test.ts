import { readFileSync } from "node:fs";
import { parseContract } from "@ferry/contract";
import { useTestStack } from "@ferry/stack/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { contractText } from "../src/analyze.ts";
import { introspect } from "../src/facts/index.ts";
import { proposeContract } from "../src/propose/index.ts";
import { buildWorkload } from "../src/workload/index.ts";

const stack = useTestStack();
// Composite keys, a link table, every column type, reserved words, non-ASCII names, an FK cycle,
// a table without a primary key, a view and a trigger (the same DDL the facts tests use).
const schemaSql = readFileSync(new URL("./fixtures/mysql8/schema.sql", import.meta.url), "utf8");

beforeAll(async () => {
  const db = await stack.mysql();
  await db.query(schemaSql);
});

async function propose() {
  const facts = await introspect(await stack.mysql(), stack.database);
  const statements: Array<[string, number]> = [
    ["SELECT * FROM customer_product WHERE customer_id = 1", 30],
    ["SELECT * FROM customer_product WHERE product_id = 2", 10],
    ["SELECT * FROM `order` WHERE `select` = 1 AND `key` = 'a'", 20],
    ["SELECT * FROM customer WHERE email = 'x@example.com'", 5],
    ["SELECT * FROM event_log WHERE happened_at > '2020-01-01'", 5],
  ];
  const workload = buildWorkload(
    statements.flatMap(([sql, n]) => Array.from({ length: n }, () => ({ sql }))),
    { origin: "test", database: stack.database, seconds: 10 },
  );
  return proposeContract(facts, workload, { name: "anything" });
}

describe("a schema with every kind of thing in it", () => {
  it("gives a contract that passes its own checks", async () => {
    const proposal = await propose();
    const loaded = parseContract(contractText(undefined, proposal, true).text, "any.yaml");
    expect(loaded.errors.map((e) => `${e.line}:${e.column} ${e.message}`)).toEqual([]);
  });

  it("leaves a table without a primary key out with the reason, and analyses the rest", async () => {
    const { contract } = await propose();
    expect(contract.source.skippedTables).toEqual({
      event_log: "no primary key: ferry keys every item by it; add one (e.g. an AUTO_INCREMENT id) and analyze again",
    });
    expect(Object.keys(contract.entities).sort()).toEqual([
      "Customer",
      "CustomerProduct",
      "EveryType",
      "Order",
      "OrderNote",
      "Product",
    ]);
    expect(
      contract.accessPatterns &&
        Object.values(contract.accessPatterns).some((p) => p.observed?.sql.includes("event_log")),
    ).toBe(false);
  });

  it("keys composite primary keys and link tables", async () => {
    const { contract } = await propose();
    expect(contract.entities.Order?.key).toEqual({ partition: "ORDER#{select}", sort: "ORDER#{key}" });
    // The link table is read by customer: in the customer's item collection, found by product through GSI1.
    expect(contract.entities.CustomerProduct?.key).toEqual({
      partition: "CUSTOMER#{customerId}",
      sort: "CUSTOMER_PRODUCT#{productId}",
    });
    expect(contract.entities.CustomerProduct?.indexes).toEqual({
      GSI1: { partition: "CUSTOMER_PRODUCT#PRODUCT_ID#{productId}", sort: "{customerId}" },
    });
    const patterns = Object.values(contract.accessPatterns ?? {}).map(
      (p) => `${p.entity} ${p.dynamodb.operation} ${p.dynamodb.index ?? "-"} ${p.observed ? "observed" : "inferred"}`,
    );
    expect(patterns).toEqual([
      "CustomerProduct Query - observed",
      "Order GetItem - observed",
      "CustomerProduct Query GSI1 observed",
      "Customer Query GSI1 observed",
      // What the schema implies beyond the workload: by the referrer (a self-reference), by the favourite product, by
      // the unique code and label, the notes of an order (its two-column key), the products of an owner and by name.
      "Customer Query GSI2 inferred",
      "Customer Query GSI3 inferred",
      "EveryType Query GSI1 inferred",
      "OrderNote Query GSI1 inferred",
      "Product Query GSI2 inferred",
      "Product Query GSI1 inferred",
    ]);
  });

  it("types every column as docs/architecture.md maps it, and names non-ASCII columns safely", async () => {
    const { contract } = await propose();
    const types = Object.fromEntries(
      Object.entries(contract.entities.EveryType?.attributes ?? {}).map(([name, a]) => [name, a.type]),
    );
    expect(types).toMatchObject({
      flag: "boolean",
      active: "boolean",
      big: "bigint",
      qty: "integer",
      amount: "decimal",
      ratio: "float",
      bit1: "boolean",
      bit8: "integer",
      code: "string",
      huge: "string",
      doc: "json",
      settings: "json",
      mood: "enum",
      tags: "set",
      yr: "integer",
      day: "date",
      clock: "time",
      happened: "datetime",
      updated: "datetime",
      uuid: "binary",
      smallBlob: "binary",
      shape: "geometry",
      spot: "geometry",
    });
    const order = contract.entities.Order?.attributes ?? {};
    expect(Object.entries(order).map(([name, a]) => `${a.column.name} -> ${name}`)).toEqual(
      ["select -> select", "key -> key", "café -> cafe", "名前 -> col2a2b1e", "naïve_column -> naiveColumn"].map(
        (line) => (line.startsWith("名前") ? expect.stringMatching(/^名前 -> col[0-9a-f]{6}$/) : line),
      ),
    );
  });

  it("warns about views, triggers, items that may outgrow 400 KB, and spatial columns", async () => {
    const { contract } = await propose();
    expect(contract.source.warnings).toEqual([
      "table event_log is not migrated: no primary key: ferry keys every item by it; add one (e.g. an AUTO_INCREMENT id) and analyze again",
      "view customer_products: its logic will not run on DynamoDB; serve its reads from the entities it reads",
      "trigger product_name_trim (BEFORE INSERT on product): its logic will not run on DynamoDB; move it into the application",
      // The average row size is the server's statistics (the table is empty): its number is the server's to say.
      expect.stringMatching(
        /^entity EveryType \(table every_type\): body \(mediumtext\), huge \(longtext\), doc \(json\), settings \(json\), big_blob \(longblob\) can hold more than DynamoDB's 400 KB item limit \(average row today: [\d,]+ bytes\)$/,
      ),
      "entity EveryType: shape (geometry) is kept as WKB bytes; DynamoDB has no spatial queries",
      "entity EveryType: spot (point) is kept as WKB bytes; DynamoDB has no spatial queries",
    ]);
    expect(contract.source.views).toEqual(["customer_products"]);
    expect(contract.source.triggers).toEqual({
      product_name_trim: { table: "product", timing: "BEFORE", event: "INSERT" },
    });
  });
});
