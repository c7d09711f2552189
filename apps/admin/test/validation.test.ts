import { storeValidationReport, type ValidationReport } from "@ferry/runtime";
import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it } from "vitest";
import { readable, testConsole } from "./console.ts";

const stack = useTestStack();

const totals = {
  rows: 0,
  items: 0,
  markers: 0,
  matched: 0,
  missing: 0,
  extra: 0,
  mismatched: 0,
  unreadable: 0,
  unclaimed: 0,
  differences: 0,
};
const entityCounts = {
  rows: 0,
  items: 0,
  markers: 0,
  matched: 0,
  missing: 0,
  extra: 0,
  mismatched: 0,
  unreadable: 0,
  settled: 0,
  staleCopies: 0,
  differences: [],
};

/** A report as `ferry validate` keeps it (stored with the runtime's own function). */
function report(at: string, changes: Partial<ValidationReport>): ValidationReport {
  return {
    id: `${at}#0000abcd`,
    at,
    who: "ci@host",
    contract: "store.yaml",
    sample: 1,
    full: true,
    entities: [],
    clean: true,
    totals,
    itemsPerSecond: 1234,
    durationMs: 4200,
    ...changes,
  };
}

describe("the validation pages", () => {
  it("list the reports and show one with its counts per entity and each difference's fields side by side", async () => {
    const console = await testConsole(stack, "validation");
    const cookie = await console.logIn("val");
    const empty = readable(await (await console.request("/validation", { cookie })).text());
    expect(empty).toContain("No validation yet: run pnpm ferry validate --contract contract/store.yaml .");

    const clean = report("2026-12-04T08:00:00.000Z", {
      entities: [{ entity: "User", ...entityCounts, rows: 3, items: 3, matched: 3 }],
      totals: { ...totals, rows: 3, items: 3, matched: 3 },
      guardRail: { recorded: true },
    });
    const dirty = report("2026-12-04T09:00:00.000Z", {
      clean: false,
      totals: { ...totals, rows: 10, matched: 8, missing: 1, mismatched: 1, differences: 2 },
      entities: [
        {
          entity: "Product",
          ...entityCounts,
          rows: 10,
          items: 9,
          matched: 8,
          missing: 1,
          mismatched: 1,
          differences: [
            {
              entity: "Product",
              kind: "mismatched",
              key: { id: 7 },
              fields: [
                { field: "name", mysql: "<script>alert(1)</script>", dynamodb: "Lamp" },
                { field: "price", mysql: "19.90", dynamodb: null },
              ],
            },
            { entity: "Product", kind: "missing-item", key: { id: 9 }, fields: [] },
            {
              entity: "Product",
              kind: "orphan-marker",
              key: { PK: "PRODUCT#00000000000000000011", SK: "PRODUCT" },
              marker: "UNIQUE#Product#uq_products_sku#A-1",
              fields: [],
            },
          ],
        },
      ],
      repair: {
        at: "2026-12-04T09:05:00.000Z",
        who: "ada",
        phase: 2,
        target: "dynamodb",
        created: 1,
        updated: 1,
        deleted: 0,
        unchanged: 0,
        markersRestored: 0,
        markersFreed: 0,
        failed: 0,
        skipped: 0,
        changes: [],
        left: 0,
      },
    });
    await storeValidationReport(stack.dynamodb(), console.phases.tablePrefix, clean);
    await storeValidationReport(stack.dynamodb(), console.phases.tablePrefix, dirty);

    const list = readable(await (await console.request("/validation", { cookie })).text());
    expect(list).toContain("2026-12-04 09:00:00 UTC ci@host full 10 2 differences 2 changed, 0 left");
    expect(list).toContain("2026-12-04 08:00:00 UTC ci@host full 3 clean");

    const listHtml = await (await console.request("/validation", { cookie })).text();
    const href = /href="(\/validation\/[^"]+)">2026-12-04 09:00:00 UTC/.exec(listHtml)?.[1];
    expect(href).toBe(`/validation/${encodeURIComponent(dirty.id)}`);
    const page = await console.request(href as string, { cookie });
    expect(page.status).toBe(200);
    const html = await page.text();
    const text = readable(html);
    expect(text).toContain("Product 10 8 1 0 1 0");
    expect(text).toContain('mismatched · Product {"id":7}');
    expect(text).toContain("name <script>alert(1)</script> Lamp");
    expect(text).toContain("price 19.90 absent");
    expect(text).toContain('missing-item · Product {"id":9}');
    expect(text).toContain("in phase 2, on DynamoDB: 1 created, 1 updated, 0 deleted, 0 failed; 0 differences left.");
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html.match(/<tr class="differs">/g)).toHaveLength(2);
    // Each difference with a record links to it in the inspector; an orphan marker has none (the item it names is not
    // there, and its key is a table key, not the record's).
    expect([...html.matchAll(/href="(\/inspect\?[^"]+)"/g)].map((match) => decodeURIComponent(match[1] ?? ""))).toEqual(
      ['/inspect?entity=Product&amp;key={"id":7}', '/inspect?entity=Product&amp;key={"id":9}'],
    );

    const api = await (await console.request("/api/validation", { cookie })).json();
    expect(api.reports.map((r: ValidationReport) => r.id)).toEqual([dirty.id, clean.id]);
    expect(await (await console.request(`/api/validation/${encodeURIComponent(clean.id)}`, { cookie })).json()).toEqual(
      clean,
    );
    const missing = await console.request("/api/validation/2020-01-01T00%3A00%3A00.000Z%23nope", { cookie });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: { code: "not_found", message: "There is no validation report with this id." },
    });
    expect((await console.request("/validation?cursor=nonsense", { cookie })).status).toBe(400);
  });
});
