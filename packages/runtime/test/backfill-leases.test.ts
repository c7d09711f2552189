/**
 * Segment leases on real DynamoDB Local (and, for a resumed run, real MariaDB): concurrent workers never hold the same
 * segment, a lease that ran out is taken over and its old holder's checkpoint refused, pins, throttled checkpoints
 * whose counts accumulate, and a worker killed mid-segment whose successor resumes from the checkpoint so that every
 * row is counted exactly once.
 */
import { fileURLToPath } from "node:url";
import { loadValidContract } from "@ferry/contract";
import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it } from "vitest";
import {
  BackfillError,
  type BackfillLedger,
  keyOf,
  LeaseLost,
  planSegments,
  type SegmentClaim,
  segmentRows,
} from "../src/backfill/index.ts";
import { createCodec, type EntityValue, mysqlTypeCast } from "../src/codec/index.ts";
import { claimed, ledgers, rejection, segmentsOf, TestClock } from "./backfill-fixtures.ts";

const stack = useTestStack();
const who = "ops@host-1";
const run = (ledger: BackfillLedger, segments = segmentsOf("User", 4)) =>
  ledger.createRun({ contract: "store", who, entities: [...new Set(segments.map((s) => s.entity))], segments });

describe("segment leases", () => {
  it("never gives two concurrent workers the same segment", async () => {
    const { process } = ledgers(stack, "concurrent");
    const { id } = await run(process(), [...segmentsOf("User", 7), ...segmentsOf("Order", 5)]);
    const workers = ["a", "b", "c"].map((name) => ({ name, ledger: process(), held: [] as SegmentClaim[] }));
    await Promise.all(
      workers.map(async (worker) => {
        for (;;) {
          const result = await worker.ledger.claim(id, worker.name, { leaseMs: 60_000 });
          if (result.kind !== "claimed") return;
          worker.held.push(result.claim);
        }
      }),
    );
    const numbers = workers.flatMap((worker) => worker.held.map((claim) => claim.segment.number));
    expect(numbers.sort((x, y) => x - y)).toEqual([...Array(12).keys()]);
    const expiries = workers.flatMap((worker) => worker.held.map((claim) => claim.leaseExpires));
    expect(await process().claim(id, "d", { leaseMs: 60_000 })).toEqual({
      kind: "leased",
      retryAt: Math.min(...expiries),
    });
  });

  it("takes over a lease that ran out; the old holder's checkpoint is refused and its unrecorded counts dropped", async () => {
    const clock = new TestClock();
    const { process } = ledgers(stack, "takeover", { now: clock.now, checkpointIntervalMs: 1000 });
    const [a, b] = [process(), process()];
    const { id } = await run(a, segmentsOf("User", 1, 30));
    const first = await claimed(a.claim(id, "worker-a", { leaseMs: 5000 }));
    expect(first).toMatchObject({ worker: "worker-a", leaseExpires: clock.t + 5000, counts: { written: 0 } });
    expect(first.checkpoint).toBeUndefined();
    clock.t += 1000;
    expect(await a.checkpoint(first, { after: { id: 5 }, written: 5 })).toBe(true);
    clock.t += 500;
    expect(await a.checkpoint(first, { after: { id: 8 }, written: 3 })).toBe(false);
    // The lease runs to 1000 + 5000: held until then.
    clock.t = clock.t - 1500 + 5999;
    expect(await b.claim(id, "worker-b", { leaseMs: 5000 })).toEqual({ kind: "leased", retryAt: clock.t + 1 });
    clock.t += 1;
    const second = await claimed(b.claim(id, "worker-b", { leaseMs: 5000 }));
    expect(second).toMatchObject({
      runId: id,
      worker: "worker-b",
      segment: { entity: "User", index: 0, number: 0, estimatedRows: 30 },
      checkpoint: { id: 5 },
      counts: { written: 5, skipped: 0, rejected: 0, errors: 0 },
      takenOverFrom: "worker-a",
    });
    const lost = await rejection(a.checkpoint(first, { after: { id: 9 }, written: 1 }), LeaseLost);
    expect(lost.message).toBe(
      `segment User #0 of backfill run ${id} is no longer held by worker-a: its lease ran out and worker-b took it over at ${clock.iso(6000)}; its checkpoint was not recorded`,
    );
    expect(lost.hint).toBe(
      "stop writing this segment: its holder resumes it from the last recorded checkpoint (a longer lease, or checkpoints more often, avoid this)",
    );
    expect(await a.release(first)).toBe(false);
    await rejection(a.complete(first), LeaseLost);
    await b.complete(second, { after: { id: 30 }, written: 25 });
    expect((await b.progress(id)).perEntity[0]).toMatchObject({ segmentsDone: 1, written: 30 });
    expect(await b.claim(id, "worker-b", { leaseMs: 5000 })).toEqual({ kind: "done" });
  });

  it("throttles checkpoints, extends the lease with each write, and accumulates counts across claims", async () => {
    const clock = new TestClock();
    const { ledger } = ledgers(stack, "throttle", { now: clock.now, checkpointIntervalMs: 1000 });
    const store = ledger();
    const { id } = await run(store, segmentsOf("User", 1, 100));
    const counts = async () => (await store.progress(id)).perEntity[0];
    const claim = await claimed(store.claim(id, "w1", { leaseMs: 3000 }));
    expect(await store.checkpoint(claim, { after: { id: 10 }, written: 9, skipped: 1 })).toBe(false);
    expect(await counts()).toMatchObject({ written: 0, skipped: 0, segmentsLeased: 1 });
    clock.t += 1000;
    expect(await store.checkpoint(claim, { after: { id: 20 }, written: 10, rejected: 2 })).toBe(true);
    expect(await counts()).toMatchObject({ written: 19, skipped: 1, rejected: 2 });
    // Leased to 1000 + 3000 now, not 3000.
    clock.t += 2500;
    expect(await store.claim(id, "w2", { leaseMs: 3000 })).toEqual({ kind: "leased", retryAt: clock.t + 500 });
    expect(await store.checkpoint(claim, { after: { id: 30 }, written: 10, errors: 1 })).toBe(true);
    expect(await store.checkpoint(claim, { after: { id: 31 }, written: 1 })).toBe(false);
    await store.flush(claim);
    expect(await counts()).toMatchObject({ written: 30, skipped: 1, rejected: 2, errors: 1 });
    expect(await store.release(claim, { error: new Error("MySQL went away") })).toBe(true);
    expect(await counts()).toMatchObject({ written: 30, errors: 2, segmentsLeased: 0 });
    const again = await claimed(store.claim(id, "w2", { leaseMs: 3000 }));
    expect(again.checkpoint).toEqual({ id: 31 });
    expect(again.counts).toEqual({ written: 30, skipped: 1, rejected: 2, errors: 2 });
    expect(again.takenOverFrom).toBeUndefined();
    expect(await rejection(store.checkpoint(again, { written: -1 }), BackfillError)).toHaveProperty(
      "message",
      "a checkpoint's written must be a whole number from 0 up, got -1",
    );
    await store.complete(again, { after: { id: 100 }, written: 70 });
    expect(await counts()).toMatchObject({ segmentsDone: 1, written: 100, skipped: 1, rejected: 2, errors: 2 });
    expect(await rejection(store.claim(id, "w3", { leaseMs: 1000 }), BackfillError)).toHaveProperty(
      "message",
      "a lease must be a whole number of milliseconds above the checkpoint interval (1000 ms), got 1000",
    );
  });

  it("pins a worker to the segments of its share, numbered across the run's entities", async () => {
    const { ledger } = ledgers(stack, "pins");
    const store = ledger();
    const { id } = await run(store, [...segmentsOf("User", 6), ...segmentsOf("Order", 4)]);
    const pin = { index: 1, total: 3 };
    const mine: SegmentClaim[] = [];
    for (;;) {
      const result = await store.claim(id, "pinned", { leaseMs: 60_000, pin });
      if (result.kind !== "claimed") {
        expect(result.kind).toBe("leased");
        break;
      }
      mine.push(result.claim);
    }
    expect(mine.map((claim) => [claim.segment.number, claim.segment.entity, claim.segment.index])).toEqual([
      [1, "User", 1],
      [4, "User", 4],
      [7, "Order", 1],
    ]);
    for (const claim of mine) await store.complete(claim);
    expect(await store.claim(id, "pinned", { leaseMs: 60_000, pin })).toEqual({ kind: "done" });
    const other = await claimed(store.claim(id, "free", { leaseMs: 60_000 }));
    expect(other.segment.number).toBe(0);
  });
});

describe("a run resumed after a worker is killed", () => {
  it("continues from the checkpoint: every row read, each counted once", async () => {
    const codec = createCodec(
      await loadValidContract(fileURLToPath(new URL("./fixtures/backfill-keys.yaml", import.meta.url))),
    );
    const db = await stack.mysql();
    await db.query("CREATE TABLE readings (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, value INT NOT NULL)");
    const ids = Array.from({ length: 95 }, (_, i) => [String(i * i + 1), i]);
    await db.query({ sql: "INSERT INTO readings (id, value) VALUES ?", values: [ids] });
    const clock = new TestClock();
    const { process } = ledgers(stack, "resume", { now: clock.now, checkpointIntervalMs: 0 });
    const [first, second] = [process(), process()];
    const { id } = await first.createRun({
      contract: "backfill_keys",
      who,
      entities: ["Reading"],
      segments: () => planSegments(db, codec, "Reading", { rowsPerSegment: 30 }),
    });
    /** Reads the claim's segment from its checkpoint a page at a time, checkpointing each page; stops after `pages`. */
    const work = async (ledger: BackfillLedger, claim: SegmentClaim, pages = Number.POSITIVE_INFINITY) => {
      const read: EntityValue[] = [];
      let after = claim.checkpoint;
      for (let page = 0; page < pages; page++) {
        const statement = segmentRows(codec, claim.segment, { after, limit: 8 });
        const [rows] = await db.query({ ...statement, typeCast: mysqlTypeCast });
        const keys = (rows as Record<string, unknown>[]).map((row) =>
          keyOf(codec, "Reading", codec.entity("Reading").fromRow(row)),
        );
        read.push(...keys);
        if (keys.length < 8) {
          await ledger.complete(claim, { ...(keys.length > 0 ? { after: keys.at(-1) } : {}), written: keys.length });
          return read;
        }
        after = keys.at(-1);
        await ledger.checkpoint(claim, { after, written: keys.length });
      }
      return read;
    };
    // Worker 1 does segment 0, then is killed two pages and a bit into segment 1 (its last page never checkpointed).
    const read1 = await work(first, await claimed(first.claim(id, "w1", { leaseMs: 10_000 })));
    const killed = await claimed(first.claim(id, "w1", { leaseMs: 10_000 }));
    const done1 = await work(first, killed, 2);
    const unrecorded = await db.query({ ...segmentRows(codec, killed.segment, { after: done1.at(-1), limit: 8 }) });
    expect((unrecorded[0] as unknown[]).length).toBe(8);
    // Worker 2 comes later and finds segment 1's lease run out: it resumes after worker 1's last checkpoint.
    clock.t += 10_001;
    const read2: EntityValue[] = [];
    for (;;) {
      const result = await second.claim(id, "w2", { leaseMs: 10_000 });
      if (result.kind === "done") break;
      if (result.kind !== "claimed") throw new Error(`expected a claim, found ${result.kind}`);
      if (result.claim.segment.index === 1) {
        expect(result.claim).toMatchObject({ takenOverFrom: "w1", checkpoint: done1.at(-1), counts: { written: 16 } });
      }
      read2.push(...(await work(second, result.claim)));
    }
    const everyId = ids.map(([value]) => BigInt(value as string));
    expect([...read1, ...done1, ...read2].map((key) => key.id)).toEqual(everyId);
    const finished = await second.finish(id);
    expect(finished).toMatchObject({ state: "finished", segments: 4, segmentsDone: 4, written: 95, rowsEstimated: 95 });
  });
});
