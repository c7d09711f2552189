/**
 * Segment planning (src/backfill/segments.ts) on real MariaDB: boundaries come from the data, so a skewed BIGINT key
 * (past 2^53), `_ci` text and a composite key with odd column names split evenly by rows, and walking the segments
 * with their range SQL reads every row exactly once, in key order. Tables: test/fixtures/backfill-keys.yaml.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadValidContract } from "@ferry/contract";
import { useTestStack } from "@ferry/stack/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { entityKey, keyOf, keyRange, type PlannedSegment, planSegments, segmentRows } from "../src/backfill/index.ts";
import { type Codec, createCodec, type EntityValue, mysqlTypeCast } from "../src/codec/index.ts";
import { BACKFILL_KEYS_DDL } from "./backfill-keys-fixture.ts";

const stack = useTestStack();
const CONTRACT = fileURLToPath(new URL("./fixtures/backfill-keys.yaml", import.meta.url));
let codec: Codec;

const HIGH = 18446744073709551000n;
const tagPrefixes = ["alpha", "Beta", "éclair", "Delta", "zeta", "Ärger"];
/** Lines per order: one big order, thirty small ones of 1 to 5 lines, and a last one of one line. */
const orders: Array<[string, number]> = [
  ["A-big", 150],
  ...Array.from({ length: 30 }, (_, i): [string, number] => [`m-${String(i + 1).padStart(2, "0")}`, (i % 5) + 1]),
  ["z", 1],
];
const LINES = orders.reduce((sum, [, lines]) => sum + lines, 0);

beforeAll(async () => {
  codec = createCodec(await loadValidContract(CONTRACT));
  const db = await stack.mysql();
  await db.query(readFileSync(BACKFILL_KEYS_DDL, "utf8"));
  // 300 dense ids, 100 from a million, 100 near the top of BIGINT UNSIGNED.
  const ids = [
    ...Array.from({ length: 300 }, (_, i) => BigInt(i + 1)),
    ...Array.from({ length: 100 }, (_, i) => 1_000_000n + BigInt(i)),
    ...Array.from({ length: 100 }, (_, i) => HIGH + BigInt(i)),
  ];
  await db.query({ sql: "INSERT INTO readings (id, value) VALUES ?", values: [ids.map((id) => [id.toString(), 1])] });
  const tags = Array.from({ length: 333 }, (_, n) => [`${tagPrefixes[n % 6]}-${String(n).padStart(4, "0")}`]);
  await db.query({ sql: "INSERT INTO tags (name) VALUES ?", values: [tags] });
  const lines = orders.flatMap(([code, count]) => Array.from({ length: count }, (_, i) => [code, i + 1, i * 3]));
  await db.query({ sql: "INSERT INTO `order lines` VALUES ?", values: [lines] });
});

type Row = Record<string, unknown>;

async function keys(entity: string, sql: string, values: unknown[] = []): Promise<EntityValue[]> {
  const [rows] = await (await stack.mysql()).query({ sql, values, typeCast: mysqlTypeCast });
  return (rows as Row[]).map((row) => keyOf(codec, entity, codec.entity(entity).fromRow(row)));
}

/** Every key of the table, in primary-key order, as MariaDB orders them. */
async function everyKey(entity: string): Promise<EntityValue[]> {
  const key = entityKey(codec, entity);
  return keys(entity, `SELECT ${key.columns.join(", ")} FROM ${key.table} ORDER BY ${key.columns.join(", ")}`);
}

/** A segment's keys, read a page at a time with segmentRows, each page after the last key of the one before. */
async function walk(segment: PlannedSegment, pageSize = 7): Promise<EntityValue[]> {
  const walked: EntityValue[] = [];
  let after: EntityValue | undefined;
  for (;;) {
    const page = segmentRows(codec, segment, { after, limit: pageSize });
    const read = await keys(segment.entity, page.sql, page.values);
    walked.push(...read);
    if (read.length < pageSize) return walked;
    after = read.at(-1);
  }
}

/** Walks every segment: each has its estimated rows, its bounds chain up, and together they are the table once. */
async function expectCovering(segments: PlannedSegment[]): Promise<EntityValue[][]> {
  const entity = segments[0]?.entity ?? "";
  const walked: EntityValue[][] = [];
  for (const segment of segments) walked.push(await walk(segment));
  expect(walked.map((part) => part.length)).toEqual(segments.map((segment) => segment.estimatedRows));
  expect(segments.map((segment) => segment.index)).toEqual(segments.map((_, index) => index));
  expect(segments[0]?.after).toBeUndefined();
  expect(segments.at(-1)?.through).toBeUndefined();
  segments.forEach((segment, index) => {
    if (index > 0) expect(segment.after).toEqual(segments[index - 1]?.through);
    if (segment.through !== undefined) expect(segment.through).toEqual(walked[index]?.at(-1));
  });
  expect(walked.flat()).toEqual(await everyKey(entity));
  return walked;
}

describe("planSegments", () => {
  it("splits a skewed BIGINT key by rows, at actual keys past 2^53, not by id arithmetic", async () => {
    const segments = await planSegments(await stack.mysql(), codec, "Reading", { rowsPerSegment: 64 });
    expect(segments.map((segment) => segment.through?.id)).toEqual([
      64n,
      128n,
      192n,
      256n,
      1_000_019n,
      1_000_083n,
      HIGH + 47n,
      undefined,
    ]);
    expect(segments.map((segment) => segment.estimatedRows)).toEqual([64, 64, 64, 64, 64, 64, 64, 52]);
    expect(segments[7]).toEqual({ entity: "Reading", index: 7, after: { id: HIGH + 47n }, estimatedRows: 52 });
    await expectCovering(segments);
  });

  it("splits `_ci` text keys in the collation's order", async () => {
    const segments = await planSegments(await stack.mysql(), codec, "Tag", { rowsPerSegment: 50 });
    expect(segments.map((segment) => segment.estimatedRows)).toEqual([50, 50, 50, 50, 50, 50, 33]);
    const walked = await expectCovering(segments);
    // The collation's order, not the code points': "Ärger-0005" comes before "Beta-0001".
    const first = walked.flat().map((key) => key.name as string);
    expect(first.indexOf("Ärger-0005")).toBeLessThan(first.indexOf("Beta-0001"));
    expect(first.indexOf("éclair-0002")).toBeLessThan(first.indexOf("zeta-0004"));
  });

  it("splits a composite key in the middle of one order's lines, with columns that need quoting", async () => {
    const segments = await planSegments(await stack.mysql(), codec, "Line", { rowsPerSegment: 40 });
    expect(segments.map((segment) => segment.through)).toEqual([
      { orderCode: "A-big", lineNo: 40 },
      { orderCode: "A-big", lineNo: 80 },
      { orderCode: "A-big", lineNo: 120 },
      { orderCode: "m-04", lineNo: 4 },
      { orderCode: "m-18", lineNo: 2 },
      { orderCode: "m-30", lineNo: 5 },
      undefined,
    ]);
    expect(segments.map((segment) => segment.estimatedRows)).toEqual([40, 40, 40, 40, 40, 40, 1]);
    expect(LINES).toBe(241);
    await expectCovering(segments);
  });

  it("grows the segments to stay within maxSegments", async () => {
    const segments = await planSegments(await stack.mysql(), codec, "Reading", { rowsPerSegment: 10, maxSegments: 4 });
    expect(segments.map((segment) => segment.estimatedRows)).toEqual([125, 125, 125, 125]);
    await expectCovering(segments);
    const one = await planSegments(await stack.mysql(), codec, "Reading");
    expect(one).toEqual([{ entity: "Reading", index: 0, estimatedRows: 500 }]);
  });

  it("gives an empty table one unbounded segment, which reads the rows inserted after the plan", async () => {
    const segments = await planSegments(await stack.mysql(), codec, "Empty");
    expect(segments).toEqual([{ entity: "Empty", index: 0, estimatedRows: 0 }]);
    const [segment] = segments as [PlannedSegment];
    expect(await walk(segment)).toEqual([]);
    await (await stack.mysql()).query("INSERT INTO empties (id) VALUES (7), (3)");
    expect(await walk(segment)).toEqual([{ id: 3 }, { id: 7 }]);
    await (await stack.mysql()).query("DELETE FROM empties");
  });

  it("refuses options that are not whole numbers from 1 up", async () => {
    const db = await stack.mysql();
    await expect(planSegments(db, codec, "Reading", { rowsPerSegment: 0 })).rejects.toThrow(
      "rowsPerSegment must be a whole number from 1 up, got 0",
    );
    await expect(planSegments(db, codec, "Reading", { maxSegments: 2.5 })).rejects.toThrow(
      "maxSegments must be a whole number from 1 up, got 2.5",
    );
  });
});

describe("segment range SQL", () => {
  it("writes a composite bound out column by column, escaped, with the codec's parameters", () => {
    const bounds = { after: { orderCode: "A-big", lineNo: 40 }, through: { orderCode: "m-03", lineNo: 1 } };
    expect(keyRange(codec, "Line", bounds)).toEqual({
      sql: "(`order code` > ? OR (`order code` = ? AND `line``no` > ?)) AND (`order code` < ? OR (`order code` = ? AND `line``no` <= ?))",
      values: ["A-big", "A-big", 40, "m-03", "m-03", 1],
    });
    expect(keyRange(codec, "Reading", { through: { id: HIGH } })).toEqual({
      sql: "`id` <= ?",
      values: [HIGH.toString()],
    });
    expect(keyRange(codec, "Reading", {})).toEqual({ sql: "1 = 1", values: [] });
    expect(
      segmentRows(codec, { entity: "Line", ...bounds }, { after: { orderCode: "A-big", lineNo: 77 }, limit: 5 }),
    ).toEqual({
      sql: "SELECT `order code`, `line``no`, `quantity` FROM `order lines` WHERE (`order code` > ? OR (`order code` = ? AND `line``no` > ?)) AND (`order code` < ? OR (`order code` = ? AND `line``no` <= ?)) ORDER BY `order code`, `line``no` LIMIT 5",
      values: ["A-big", "A-big", 77, "m-03", "m-03", 1],
    });
  });

  it("is a range on the primary key for MariaDB (not a scan from the table's start)", async () => {
    const statement = segmentRows(
      codec,
      { entity: "Line", after: { orderCode: "A-big", lineNo: 40 }, through: { orderCode: "m-03", lineNo: 1 } },
      { after: { orderCode: "A-big", lineNo: 100 }, limit: 10 },
    );
    const [plan] = await (await stack.mysql()).query({ sql: `EXPLAIN ${statement.sql}`, values: statement.values });
    expect((plan as Row[]).map((step) => [step.type, step.key])).toEqual([["range", "PRIMARY"]]);
  });
});
