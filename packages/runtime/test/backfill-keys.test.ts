/**
 * The backfill on keys that are not small integers (test/fixtures/backfill-keys.yaml): a skewed BIGINT UNSIGNED past
 * 2^53, text under a `_ci` collation, a composite key whose columns need quoting, and an empty table, split into many
 * segments: every row arrives once, equal, and nothing else does.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it } from "vitest";
import { runBackfill } from "../src/backfill/index.ts";
import { useContractStores } from "../src/testing/index.ts";
import { differencesOf, setPhase } from "./backfill-fixtures-run.ts";
import { BACKFILL_KEYS_DDL } from "./backfill-keys-fixture.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: fileURLToPath(new URL("./fixtures/backfill-keys.yaml", import.meta.url)),
  prepare: async () => {
    const db = await stack.mysql();
    await db.query(readFileSync(BACKFILL_KEYS_DDL, "utf8"));
    const ids = [
      ...Array.from({ length: 150 }, (_, i) => BigInt(i + 1)),
      ...Array.from({ length: 50 }, (_, i) => 18446744073709551000n + BigInt(i)),
    ];
    await db.query({ sql: "INSERT INTO readings (id, value) VALUES ?", values: [ids.map((id) => [id.toString(), 1])] });
    const prefixes = ["alpha", "Beta", "éclair", "Delta", "zeta", "Ärger"];
    const tags = Array.from({ length: 120 }, (_, n) => [`${prefixes[n % 6]}-${String(n).padStart(4, "0")}`]);
    await db.query({ sql: "INSERT INTO tags (name) VALUES ?", values: [tags] });
    const lines = [
      ...Array.from({ length: 60 }, (_, i) => ["A-big", i + 1, i]),
      ...Array.from({ length: 20 }, (_, i) => [`m-${i}`, 1, i]),
    ];
    await db.query({ sql: "INSERT INTO `order lines` VALUES ?", values: [lines] });
  },
});

describe("the backfill on keys that are not small integers", () => {
  it("moves every row once, in many segments, with nothing missing and nothing extra", async () => {
    await setPhase(stack, stack.tablePrefix, 2);
    const result = await runBackfill(
      { codec: testbed.codec(), mysql: testbed.connection(), client: stack.dynamodb(), tablePrefix: stack.tablePrefix },
      { contract: "backfill-keys", who: "test", rowsPerSegment: 17, pageRows: 6 },
    );
    expect(result.report.state).toBe("finished");
    expect(result.report.segments).toBeGreaterThan(20);
    expect(result.rejected).toBe(0);
    expect(result.written).toBe(200 + 120 + 80);
    for (const entity of testbed.codec().entities) {
      expect(await differencesOf(stack, testbed, entity), entity).toEqual([]);
    }
  });
});
