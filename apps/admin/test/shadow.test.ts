/**
 * The shadow reads page over the control table a store's shadow readers write (their counters, the per-minute counts,
 * the mismatch log), on DynamoDB Local: the counts against the 3 -> 4 threshold, the chart's data, the mismatches with
 * their fields side by side, correlation ids and a link to the record inspector; data from the stores escaped.
 */
import { addShadowCounts, addShadowMinute, MismatchLog } from "@ferry/runtime";
import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it } from "vitest";
import { readable, testConsole } from "./console.ts";

const stack = useTestStack();

describe("the shadow reads page", () => {
  it("shows the counts against the threshold, by the minute, and the latest mismatches", async () => {
    const console = await testConsole(stack, "shadow");
    const val = await console.logIn("val");
    const { client, tablePrefix } = console.phases;
    const before = readable(await (await console.request("/shadow", { cookie: val })).text());
    expect(before).toContain("No shadow read was counted in these minutes");
    expect(before).toContain(
      "The 3 -> 4 move's shadow check applies in phase 3 (its counters start afresh on entering it); the phase is 1.",
    );
    await console.phases.set(3, { who: "ada", force: true, reason: "test setup" });
    // What the store's shadow readers write as they compare (two flushes in two minutes).
    const at = console.clock.now;
    await addShadowCounts(client, tablePrefix, { comparisons: 1500, mismatches: 1, errors: 2, timeouts: 3 });
    await addShadowMinute(client, tablePrefix, at - 60_000, { comparisons: 1000, mismatches: 0, errors: 2 });
    await addShadowMinute(client, tablePrefix, at, { comparisons: 500, mismatches: 1, timeouts: 3 });
    const log = new MismatchLog(client, { tablePrefix, flushIntervalMs: 1 });
    log.record({
      id: "m-1",
      at: new Date(at).toISOString(),
      entity: "User",
      key: { id: "42" },
      servedBy: "mysql",
      shadowFrom: "dynamodb",
      correlationId: "req-7f3a",
      fields: [{ field: "firstName", served: "<b>Ada</b>", shadow: "Eve" }],
    });
    await log.flush();

    const api = (await (await console.request("/api/shadow", { cookie: val })).json()) as {
      counts: unknown;
      threshold: number;
      minComparisons: number;
      minutes: unknown[];
      mismatches: Array<{ id: string; correlationId: string }>;
    };
    expect(api.counts).toMatchObject({ comparisons: 1500, mismatches: 1, errors: 2, timeouts: 3 });
    expect([api.threshold, api.minComparisons]).toEqual([0.001, 1000]);
    expect(api.minutes).toHaveLength(2);
    expect(api.minutes.map((m) => (m as { comparisons: number }).comparisons)).toEqual([1000, 500]);
    expect(api.mismatches.map((m) => [m.id, m.correlationId])).toEqual([["m-1", "req-7f3a"]]);

    const html = await (await console.request("/shadow", { cookie: val })).text();
    const page = readable(html);
    expect(page).toContain(
      "Comparisons Mismatches Mismatch rate 3 -> 4 threshold Errors Timeouts 1500 1 0.0667% below 0.10%, over at least 1000 comparisons 2 3",
    );
    // The guard rail's own check and words (phase 3).
    expect(page).toContain(
      "The 3 -> 4 move's shadow check is met: the shadow mismatch rate is 0.0667% (1 of 1500 comparisons), below the threshold of 0.1%.",
    );
    expect(page).toContain("User id=42 · ");
    expect(page).toContain("served by mysql, shadow from dynamodb · request req-7f3a · inspect");
    expect(page).toContain("Field Served (mysql) Shadow (dynamodb) firstName <b>Ada</b> Eve");
    expect(html).toContain("&lt;b&gt;Ada&lt;/b&gt;");
    expect(html).not.toContain("<b>Ada</b>");
    expect(html).toContain('href="/inspect?entity=User&amp;id=42"');
    // The chart's series: two minutes, the rate in % per minute, the threshold in %.
    const series = JSON.parse((/data-shadow-chart="([^"]*)"/.exec(html)?.[1] ?? "{}").replace(/&quot;/g, '"')) as {
      comparisons: number[];
      rate: number[];
      errors: number[];
      threshold: number;
    };
    // Every minute of the last hour, the two counted ones last.
    expect(series.comparisons).toEqual([...Array(58).fill(0), 1000, 500]);
    expect(series.rate).toEqual([...Array(59).fill(0), 0.2]);
    expect(series.errors).toEqual([...Array(58).fill(0), 2, 3]);
    expect(series.threshold).toBe(0.1);

    const bad = await console.request("/api/shadow?minutes=0", { cookie: val });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { fields: unknown } }).error.fields).toEqual({
      minutes: "The span is a whole number of minutes, from 1 to 10080.",
    });
    expect((await console.request("/api/shadow")).status).toBe(401);
    expect((await console.request("/shadow")).status).toBe(303);
  });
});
