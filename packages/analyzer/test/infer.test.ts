/**
 * A schema shaped like real ones (test/fixtures/inferred: a self-reference, a cycle, nullable foreign keys, a foreign
 * key to a unique key that is not the primary key, a composite key, a link table, a child too large to keep with its
 * parent) and no workload: the whole proposed contract is test/fixtures/inferred/contract.yaml, line for line (that
 * file is also what the codegen tests generate repositories from). `FERRY_WRITE_FIXTURE=1` rewrites it, for review.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { type Contract, parseContract, validateContract } from "@ferry/contract";
import { useTestStack } from "@ferry/stack/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { contractText } from "../src/analyze.ts";
import { introspect } from "../src/facts/index.ts";
import { mergeContract } from "../src/merge/index.ts";
import { type Proposal, proposeContract } from "../src/propose/index.ts";
import { buildWorkload } from "../src/workload/index.ts";

const stack = useTestStack();
const fixture = (name: string) => new URL(`./fixtures/inferred/${name}`, import.meta.url);

beforeAll(async () => {
  const db = await stack.mysql();
  await db.query(readFileSync(fixture("schema.sql"), "utf8"));
  await db.query(readFileSync(fixture("data.sql"), "utf8"));
});

/** The proposal, with the facts that name this server and this test's database made fixed. */
async function propose(statements: Array<[string, number]> = []): Promise<Proposal> {
  const facts = await introspect(await stack.mysql(), stack.database);
  const workload =
    statements.length === 0
      ? undefined
      : buildWorkload(
          statements.flatMap(([sql, n]) => Array.from({ length: n }, () => ({ sql }))),
          { origin: "test", database: stack.database, seconds: 10 },
        );
  const proposal = proposeContract(facts, workload, { name: "shop" });
  proposal.contract.source.database = "shop";
  proposal.contract.source.serverVersion = "10.11";
  return proposal;
}

const problems = (c: Contract) => validateContract(c).map((p) => `${p.path.join(".")}: ${p.message}`);

describe("a schema without a workload", () => {
  it("is proposed as test/fixtures/inferred/contract.yaml, which passes its own check", async () => {
    const { text } = contractText(undefined, await propose(), false);
    if (process.env.FERRY_WRITE_FIXTURE === "1") writeFileSync(fixture("contract.yaml"), text);
    expect(text).toBe(readFileSync(fixture("contract.yaml"), "utf8"));
    expect(parseContract(text, "contract.yaml").errors).toEqual([]);
  });

  it("marks every pattern inferred, with what from, without a rate", async () => {
    const { contract } = await propose();
    const patterns = Object.values(contract.accessPatterns ?? {});
    expect(patterns.length).toBeGreaterThan(0);
    for (const pattern of patterns) {
      expect(pattern.observed).toBeUndefined();
      expect(pattern.inferred?.from).toMatch(/^(unique key|foreign key|index) \w+\.\w+ \(/);
    }
    expect(contract.source.workload).toBeUndefined();
    // Remembered by table and columns, whatever the key or index is called.
    expect(contract.source.inferred).toContain("orders(status)");
    expect(contract.source.inferred).toContain("line_returns(line_no, order_id)");
    expect(contract.source.inferred?.length).toBe(patterns.length);
  });

  it("keeps a child with its parent when that is small and safe, and says why each is where it is", async () => {
    const { contract, comments } = await propose();
    const { OrderLine, Order, ProductTag, Category, Employee, Department, UserEvent } = contract.entities;
    // An order's lines in the order's collection; the order then keeps a partition of its own (one level).
    expect(OrderLine?.parent).toEqual({ entity: "Order", attributes: { orderId: "id" } });
    expect(Order?.parent).toBeUndefined();
    // The link table: under a product, and found by tag through an index.
    expect(ProductTag?.key).toEqual({ partition: "PRODUCT#{productId}", sort: "PRODUCT_TAG#{tagId}" });
    expect(ProductTag?.indexes).toEqual({ GSI1: { partition: "PRODUCT_TAG#TAG_ID#{tagId}", sort: "{productId}" } });
    // A self-reference, a cycle, and a child too large for one collection: partitions of their own.
    for (const entity of [Category, Employee, Department, UserEvent]) expect(entity?.parent).toBeUndefined();
    const said = (entity: string) => comments.find((c) => c.path.join(".") === `entities.${entity}`)?.text ?? "";
    expect(said("Category")).toContain("refers to its own table (a tree)");
    expect(said("Employee")).toContain("is part of a cycle (employees -> departments -> employees)");
    expect(said("UserEvent")).toMatch(/the busiest User's item collection would hold 3,000 of its items \(1\.\d MB/);
    expect(said("Order")).toContain("its foreign key fk_orders_coupon may be NULL");
    expect(said("LineReturn")).toContain("OrderLine's primary key has 2 columns");
    expect(said("OrderLine")).toContain("listed through foreign key fk_lines_order (inferred from the schema)");
    // The user's events, newest first, through an index.
    expect(UserEvent?.indexes).toEqual({
      GSI1: { partition: "USER_EVENT#USER_ID#{userId}", sort: "{happenedAt}#{id}" },
    });
    expect(contract.accessPatterns?.listUserEventsByUserId?.dynamodb).toEqual({
      operation: "Query",
      index: "GSI1",
      order: "desc",
    });
  });
});

describe("a skewed one-to-many", () => {
  it("keeps a child out of its parent's collection when the busiest parent's would be too large, however small the average", async () => {
    const db = await stack.mysql();
    await db.query(`
      CREATE TABLE notes (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        user_id INT UNSIGNED NOT NULL,
        body VARCHAR(600) NOT NULL,
        CONSTRAINT fk_notes_user FOREIGN KEY (user_id) REFERENCES users (id)
      );
      INSERT INTO notes (user_id, body) SELECT 1, RPAD('n', 600, 'x') FROM user_events WHERE user_id = 1 LIMIT 2500;
      INSERT INTO notes (user_id, body) VALUES (2, 'one'), (3, 'two');
      ANALYZE TABLE notes;`);
    try {
      const { contract, comments } = await propose();
      const note = contract.entities.Note;
      const said = comments.find((c) => c.path.join(".") === "entities.Note")?.text ?? "";
      // On average a user has 834 notes (under 1 MB); the busiest has 2,500 (over it).
      expect(note?.source.rows).toBe(2_502);
      expect(note?.parent).toBeUndefined();
      expect(said).toMatch(/the busiest User's item collection would hold 2,500 of its items \([\d.]+ MB/);
      expect(note?.indexes).toEqual({ GSI1: { partition: "NOTE#USER_ID#{userId}", sort: "{id}" } });
    } finally {
      await db.query("DROP TABLE notes");
    }
  });
});

describe("analyzing again", () => {
  it("keeps a deleted or renamed inferred pattern as it was left, and a workload makes one observed", async () => {
    const first = (await propose()).contract;
    const patterns = first.accessPatterns ?? {};
    // A person renames one, deletes another, and changes how a third is served.
    patterns.userByEmail = patterns.getUserByEmail as NonNullable<(typeof patterns)[string]>;
    delete patterns.getUserByEmail;
    delete patterns.listOrdersByStatus;
    (patterns.getTagByLabel as NonNullable<(typeof patterns)[string]>).notes = "labels are few";
    expect(problems(first)).toEqual([]);

    const again = mergeContract(first, (await propose()).contract, { workloadGiven: false });
    expect(again.drift.workload).toEqual([]);
    expect(Object.keys(again.contract.accessPatterns ?? {}).sort()).toEqual(Object.keys(patterns).sort());
    expect(again.contract.accessPatterns?.getUserByEmail).toBeUndefined();
    expect(again.contract.accessPatterns?.listOrdersByStatus).toBeUndefined();
    expect(again.contract.accessPatterns?.getTagByLabel?.notes).toBe("labels are few");

    // The workload asks for the renamed lookup, and for a listing nobody inferred.
    const sql = "SELECT * FROM users WHERE email = 'ada@example.com'";
    const later = (
      await propose([
        [sql, 7],
        ["SELECT * FROM orders WHERE placed_at > '2026-01-01'", 3],
      ])
    ).contract;
    // In the proposal itself the observed statement stands for the inferred one: no twin.
    expect(Object.entries(later.accessPatterns ?? {}).filter(([, p]) => p.entity === "User")).toEqual([
      ["getUserByEmail", expect.objectContaining({ observed: expect.objectContaining({ count: 7 }) })],
    ]);
    const { contract, drift } = mergeContract(again.contract, later, { workloadGiven: true });
    const upgraded = contract.accessPatterns?.userByEmail;
    expect(upgraded?.inferred).toBeUndefined();
    expect(upgraded?.observed).toEqual({
      digest: expect.stringMatching(/^[0-9a-f]{16}$/),
      sql: "SELECT * FROM users WHERE email = ?",
      count: 7,
      perSecond: 0.7,
    });
    expect(Object.keys(upgraded ?? {})).toEqual(["entity", "parameters", "returns", "dynamodb", "observed"]);
    expect(contract.accessPatterns?.getUserByEmail).toBeUndefined();
    expect(drift.workload).toContain(
      "access pattern userByEmail (inferred from unique key users.uq_users_email (email)) is now observed: SELECT * FROM users WHERE email = ?",
    );
    expect(problems(contract)).toEqual([]);
  });

  it("lets no count, join, filter or other order take an inferred pattern over: those are patterns of their own", async () => {
    const first = (await propose()).contract;
    const later = (
      await propose([
        ["SELECT COUNT(*) FROM orders WHERE user_id = 1", 9],
        ["SELECT * FROM orders WHERE user_id = 1 ORDER BY id DESC", 8],
        ["SELECT * FROM orders WHERE user_id = 1 AND coupon_id IS NULL", 6],
        ["SELECT o.* FROM orders o JOIN users u ON u.id = o.user_id WHERE o.user_id = 1", 7],
      ])
    ).contract;
    const { contract } = mergeContract(first, later, { workloadGiven: true });
    // The inferred listing stays as inferred, newest first.
    expect(contract.accessPatterns?.listOrdersByUserId).toEqual(first.accessPatterns?.listOrdersByUserId);
    const observed = Object.values(contract.accessPatterns ?? {}).filter((p) => p.observed !== undefined);
    expect(observed.map((p) => p.observed?.sql).sort()).toEqual([
      "SELECT * FROM orders WHERE user_id = ? AND coupon_id IS NULL",
      "SELECT * FROM orders WHERE user_id = ? ORDER BY id DESC",
      "SELECT COUNT(*) FROM orders WHERE user_id = ?",
      "SELECT o.* FROM orders o JOIN users u ON u.id = o.user_id WHERE o.user_id = ?",
    ]);
    expect(problems(contract)).toEqual([]);
  });

  it("does not bring a deleted inferred pattern back when its index is renamed", async () => {
    const first = (await propose()).contract;
    delete first.accessPatterns?.listOrdersByStatus;
    const db = await stack.mysql();
    await db.query(
      "ALTER TABLE orders DROP INDEX idx_orders_status_placed, ADD INDEX idx_orders_by_status (status, placed_at)",
    );
    try {
      const renamed = (await propose()).contract;
      // The fresh proposal infers the listing again, from the index under its new name.
      expect(renamed.accessPatterns?.listOrdersByStatus?.inferred?.from).toBe(
        "index orders.idx_orders_by_status (status, placed_at)",
      );
      const { contract } = mergeContract(first, renamed, { workloadGiven: false });
      expect(Object.values(contract.accessPatterns ?? {}).filter((p) => p.entity === "Order").length).toBe(
        Object.values(first.accessPatterns ?? {}).filter((p) => p.entity === "Order").length,
      );
      expect(contract.accessPatterns?.listOrdersByStatus).toBeUndefined();
    } finally {
      await db.query(
        "ALTER TABLE orders DROP INDEX idx_orders_by_status, ADD INDEX idx_orders_status_placed (status, placed_at)",
      );
    }
  });
});
