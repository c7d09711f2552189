import { BackfillLedger } from "@ferry/runtime";
import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it } from "vitest";
import { readable, testConsole } from "./console.ts";

const stack = useTestStack();

/** Reads a server-sent event stream one event at a time (undefined once it has ended). */
function sse(response: Response) {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  return {
    async next(): Promise<{ event: string; data: unknown } | undefined> {
      for (;;) {
        const end = text.indexOf("\n\n");
        if (end >= 0) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
          return { event, data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "null") };
        }
        const { done, value } = await reader.read();
        if (done) return undefined;
        text += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel(),
  };
}

/** Up to `count` events of a stream, fewer when it ends first. */
async function events(response: Response, count: number): Promise<Array<{ event: string; data: unknown }>> {
  const stream = sse(response);
  const seen: Array<{ event: string; data: unknown }> = [];
  while (seen.length < count) {
    const next = await stream.next();
    if (next === undefined) break;
    seen.push(next);
  }
  await stream.cancel();
  return seen;
}

const segments = (entity: string, count: number) =>
  Array.from({ length: count }, (_, index) => ({
    entity,
    index,
    ...(index === 0 ? {} : { after: { id: index * 10 } }),
    ...(index === count - 1 ? {} : { through: { id: (index + 1) * 10 } }),
    estimatedRows: 10,
  }));

describe("the backfill pages", () => {
  it("follow the open run live, list the runs, and show a run's rejected rows", async () => {
    const console = await testConsole(stack, "backfill");
    const cookie = await console.logIn("val");
    expect(readable(await (await console.request("/backfill", { cookie })).text())).toContain("No run is open.");
    expect(await events(await console.request("/api/backfill/events", { cookie }), 5)).toEqual([
      { event: "idle", data: {} },
    ]);

    // A run, as `ferry backfill run` makes one (another process: a ledger of its own on the same control table).
    await console.phases.set(2, { who: "ada", force: true, reason: "test setup" });
    const ledger = new BackfillLedger(stack.dynamodb(), { tablePrefix: console.phases.tablePrefix });
    const { id } = await ledger.createRun({
      contract: "store.yaml",
      who: "ops@host",
      entities: ["User", "Product"],
      segments: [...segments("User", 2), ...segments("Product", 1)],
    });
    const first = await ledger.claim(id, "worker-1", { leaseMs: 60_000 });
    if (first.kind !== "claimed") throw new Error(`no segment to claim: ${first.kind}`);
    await ledger.checkpoint(first.claim, { after: { id: 4 }, written: 4, rejected: 1 });
    await ledger.flush(first.claim);
    // Keys are BIGINTs in the store (the codec reads them as bigint).
    await ledger.recordRejected(id, first.claim.segment.entity, { id: 3n }, "<b>price</b> is not a number");

    const page = readable(await (await console.request("/backfill", { cookie })).text());
    expect(page).toContain(`Run ${id} · running`);
    expect(page).toContain("Started");
    expect(page).toMatch(new RegExp(`${first.claim.segment.entity} 4 0 1 0/\\d`));
    // Two tabs follow it: one poller for both; a tab closed is a listener gone.
    const tabs = [
      sse(await console.request("/api/backfill/events", { cookie })),
      sse(await console.request("/api/backfill/events", { cookie })),
    ];
    for (const tab of tabs) {
      expect(await tab.next()).toMatchObject({
        event: "progress",
        data: { id, state: "running", written: 4, rejected: 1 },
      });
      expect(await tab.next()).toMatchObject({ event: "progress", data: { id } });
    }
    expect(console.liveStreams()).toBe(2);
    for (const tab of tabs) await tab.cancel();
    await expect.poll(() => console.liveStreams()).toBe(0);

    // Every segment done, the run finished: the stream sends its last counts and ends.
    await ledger.complete(first.claim, { after: { id: 10 }, written: 5 });
    for (;;) {
      const next = await ledger.claim(id, "worker-1", { leaseMs: 60_000 });
      if (next.kind !== "claimed") break;
      await ledger.complete(next.claim, { written: 10 });
    }
    // A stream that follows the run as it finishes: running, then its last counts, then the end.
    const following = sse(await console.request("/api/backfill/events", { cookie }));
    expect(await following.next()).toMatchObject({ event: "progress", data: { id, state: "running" } });
    const finished = await ledger.finish(id);
    expect(finished.state).toBe("finished");
    let last: { event: string; data: unknown } | undefined;
    for (let event = await following.next(); event !== undefined; event = await following.next()) last = event;
    expect(last).toMatchObject({ event: "progress", data: { id, state: "finished", written: 29 } });

    const runs = await (await console.request("/api/backfill", { cookie })).json();
    expect(runs.current).toBeNull();
    expect(runs.runs.map((r: { id: string; state: string; written: number }) => [r.id, r.state, r.written])).toEqual([
      [id, "finished", 29],
    ]);
    const list = await (await console.request("/backfill", { cookie })).text();
    expect(readable(list)).toContain("ops@host finished 29 1");
    const href = /href="(\/backfill\/[^"]+)"/.exec(list)?.[1];
    expect(href).toBe(`/backfill/${encodeURIComponent(id)}`);
    const detail = await (await console.request(href as string, { cookie })).text();
    expect(readable(detail)).toContain("Rejected rows (1)");
    expect(readable(detail)).toContain(`${first.claim.segment.entity} id=3 <b>price</b> is not a number`);
    expect(detail).not.toContain("<b>price</b>");
    const api = await (await console.request(`/api/backfill/${encodeURIComponent(id)}`, { cookie })).json();
    expect(api.rejected).toMatchObject({
      count: 1,
      rows: [{ key: { id: { $bigint: "3" } }, reason: "<b>price</b> is not a number" }],
    });
    expect((await console.request("/api/backfill/nope", { cookie })).status).toBe(404);
    expect((await console.request(`/backfill/${"x".repeat(1100)}`, { cookie })).status).toBe(404);
    // Every stream has ended: nothing reads the control table for them any more.
    await expect.poll(() => console.liveStreams()).toBe(0);
  });
});
