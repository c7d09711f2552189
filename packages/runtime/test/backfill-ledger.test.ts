/**
 * BackfillLedger's runs on real DynamoDB Local: created once and joined by the workers that come after, one open at a
 * time, finished only when every segment is done (with the backfill status the 2 -> 3 guard rail reads), failed,
 * listed and followed by processes that did not start them; rejected rows kept up to the limit. Each test has a
 * control table of its own.
 */
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it } from "vitest";
import {
  BackfillError,
  BackfillNotFinished,
  BackfillRunClosed,
  BackfillRunNotFound,
  BackfillRunOpen,
  type EntityProgress,
  type RunReport,
} from "../src/backfill/index.ts";
import { PhaseStore, readBackfillStatus } from "../src/control/index.ts";
import { claimed, ledgers, rejection, segmentsOf, TestClock } from "./backfill-fixtures.ts";

const stack = useTestStack();
const who = "ops@host-1";
const lease = { leaseMs: 60_000 };

function entity(name: string, counts: Partial<EntityProgress> = {}): EntityProgress {
  return {
    entity: name,
    segments: 0,
    segmentsDone: 0,
    segmentsLeased: 0,
    rowsEstimated: 0,
    written: 0,
    skipped: 0,
    rejected: 0,
    errors: 0,
    itemsPerSecond: 0,
    ...counts,
  };
}

/** A report's sums from its entities. */
function sums(perEntity: EntityProgress[]) {
  const sum = (field: Exclude<keyof EntityProgress, "entity">) => perEntity.reduce((t, e) => t + e[field], 0);
  return {
    perEntity,
    segments: sum("segments"),
    segmentsDone: sum("segmentsDone"),
    segmentsLeased: sum("segmentsLeased"),
    rowsEstimated: sum("rowsEstimated"),
    written: sum("written"),
    skipped: sum("skipped"),
    rejected: sum("rejected"),
    errors: sum("errors"),
    itemsPerSecond: sum("itemsPerSecond"),
  };
}

describe("BackfillLedger runs", () => {
  it("creates a run in the current run of dual writes, records it running, and later workers join it", async () => {
    const clock = new TestClock();
    const { ledger, process, tablePrefix } = ledgers(stack, "create", { now: clock.now });
    await new PhaseStore(stack.dynamodb(), { tablePrefix }).set(2, { who, force: true, reason: "test setup" });
    const first = ledger();
    const created = await first.createRun({
      contract: "store",
      who,
      entities: ["User", "Order"],
      segments: [...segmentsOf("Order", 3, 7), ...segmentsOf("User", 2, 5)],
      options: { rate: 500, entities: ["User", "Order"] },
    });
    expect(created.joined).toBe(false);
    expect(created.id).toMatch(/^20300102T030405678Z-[0-9a-f]{6}$/);
    expect(await readBackfillStatus(stack.dynamodb(), tablePrefix)).toEqual({
      state: "running",
      at: clock.iso(),
      dualWriteSince: 1,
    });

    // Another process joins without planning (its entities in another order), and one of other entities is refused.
    const second = process();
    const plan = async () => {
      throw new Error("a worker that joins does not plan");
    };
    expect(
      await second.createRun({ contract: "store", who: "host-2", entities: ["Order", "User"], segments: plan }),
    ).toEqual({
      id: created.id,
      joined: true,
    });
    const refused = await rejection(
      second.createRun({ contract: "store", who: "host-2", entities: ["User"], segments: plan }),
      BackfillRunOpen,
    );
    expect(refused.message).toBe(
      `backfill run ${created.id} (contract store, entities User, Order, started by ${who} at ${clock.iso()}) is still open, and one run is open at a time`,
    );
    expect(refused.hint).toBe(
      "run the backfill of contract store with --entities User,Order to finish it, or mark it failed",
    );

    clock.t += 2000;
    const expected: RunReport = {
      id: created.id,
      contract: "store",
      entities: ["User", "Order"],
      who,
      state: "running",
      startedAt: clock.iso(),
      dualWriteSince: 1,
      options: { rate: 500, entities: ["User", "Order"] },
      ...sums([
        entity("User", { segments: 2, rowsEstimated: 10 }),
        entity("Order", { segments: 3, rowsEstimated: 21 }),
      ]),
    };
    expect(await second.progress(created.id)).toEqual(expected);
    expect(await second.current()).toEqual(expected);
    expect(await second.runs()).toEqual([expected]);
  });

  it("refuses a run without who, entities or a segment plan that covers them", async () => {
    const { ledger } = ledgers(stack, "invalid");
    const base = { contract: "store", who, entities: ["User"], segments: segmentsOf("User", 2) };
    const message = async (input: Partial<typeof base>) =>
      (await rejection(ledger().createRun({ ...base, ...input }), BackfillError)).message;
    expect(await message({ who: " " })).toBe("a backfill run must say who starts it");
    expect(await message({ entities: [] })).toBe("a backfill run needs at least one entity");
    expect(await message({ entities: ["User", "User"] })).toBe("a backfill run names each entity once, got User, User");
    expect(await message({ entities: ["User", "Order"] })).toBe("Order has no segments (an empty table has one)");
    expect(await message({ segments: segmentsOf("User", 3).slice(1) })).toBe(
      "User's segments are numbered 0 to 1, found 1",
    );
    expect(await message({ segments: [...segmentsOf("User", 1), ...segmentsOf("Order", 1)] })).toBe(
      "a segment of Order, which is not among the run's entities",
    );
    expect(await ledger().runs()).toEqual([]);
    expect(await ledger().current()).toBeUndefined();
  });

  it("makes one run of two workers that start at the same moment, the other's segments taken back", async () => {
    const { process } = ledgers(stack, "race");
    // Both have found no open run (each plans only then) before either creates one.
    let planned = 0;
    let bothPlanning: () => void = () => {};
    const together = new Promise<void>((resolve) => {
      bothPlanning = resolve;
    });
    const plan = async () => {
      if (++planned === 2) bothPlanning();
      await together;
      return segmentsOf("User", 4);
    };
    const input = { contract: "store", who, entities: ["User"], segments: plan };
    const [a, b] = await Promise.all([process().createRun(input), process().createRun(input)]);
    expect(planned).toBe(2);
    expect(a.id).toBe(b.id);
    expect([a.joined, b.joined].sort()).toEqual([false, true]);
    const table = await process().table();
    const items =
      (await stack.dynamodb().send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items ?? [];
    const segmentPartitions = items.filter((item) => item.sk?.S?.startsWith("SEG#")).map((item) => item.pk?.S);
    expect(segmentPartitions).toEqual(Array(4).fill(`BACKFILL#RUN#${a.id}`));
    expect((await process().runs()).map((run) => run.id)).toEqual([a.id]);
  });

  it("finishes only when every segment is done, recording the finished backfill for the 2 -> 3 guard rail", async () => {
    const clock = new TestClock();
    const { ledger, tablePrefix } = ledgers(stack, "finish", { now: clock.now, checkpointIntervalMs: 0 });
    const phases = new PhaseStore(stack.dynamodb(), { tablePrefix });
    await phases.set(2, { who, force: true, reason: "test setup" });
    const run = ledger();
    const { id } = await run.createRun({
      contract: "store",
      who,
      entities: ["User", "Order"],
      segments: [...segmentsOf("User", 1, 40), ...segmentsOf("Order", 2, 30)],
    });
    const user = await claimed(run.claim(id, "w1", lease));
    const order0 = await claimed(run.claim(id, "w1", lease));
    const order1 = await claimed(run.claim(id, "w2", lease));
    await run.complete(user, { after: { id: 40 }, written: 40 });
    await run.complete(order0, { after: { id: 10 }, written: 28, skipped: 2 });
    await run.checkpoint(order1, { after: { id: 15 }, written: 5 });
    const refused = await rejection(run.finish(id), BackfillNotFinished);
    expect(refused.message).toBe(
      `backfill run ${id} cannot finish: 1 of 3 segments are not done (Order #1 (held by w2))`,
    );
    expect(refused.hint).toBe("let its workers finish them (a run started again with the same entities joins it)");
    expect((await readBackfillStatus(stack.dynamodb(), tablePrefix))?.state).toBe("running");
    expect((await phases.preconditions(3)).find((check) => check.name === "backfill")).toMatchObject({
      met: false,
      reason: "it needs a finished backfill; the last one is still running",
    });

    clock.t += 10_000;
    await run.complete(order1, { after: { id: 33 }, written: 26, rejected: 1 });
    const finished = await run.finish(id);
    const perEntity = [
      entity("User", { segments: 1, segmentsDone: 1, rowsEstimated: 40, written: 40, itemsPerSecond: 4 }),
      entity("Order", {
        segments: 2,
        segmentsDone: 2,
        rowsEstimated: 60,
        written: 59,
        skipped: 2,
        rejected: 1,
        itemsPerSecond: 5.9,
      }),
    ];
    const expected: RunReport = {
      id,
      contract: "store",
      entities: ["User", "Order"],
      who,
      state: "finished",
      startedAt: clock.iso(),
      finishedAt: clock.iso(10_000),
      dualWriteSince: 1,
      options: {},
      ...sums(perEntity),
    };
    expected.itemsPerSecond = 9.9;
    expect(finished).toEqual(expected);
    expect(await readBackfillStatus(stack.dynamodb(), tablePrefix)).toEqual({
      state: "finished",
      at: clock.iso(10_000),
      finishedAt: clock.iso(10_000),
      dualWriteSince: 1,
    });
    expect((await phases.preconditions(3)).find((check) => check.name === "backfill")).toMatchObject({
      met: true,
      reason: `the last backfill finished (at ${clock.iso(10_000)})`,
    });
    // Ended: nothing open, the same report however often it is asked, by whoever asks.
    clock.t += 60_000;
    expect(await run.current()).toBeUndefined();
    expect(await run.finish(id)).toEqual(expected);
    expect(await run.runs(5)).toEqual([expected]);
    expect(await run.progress(id)).toEqual(expected);
    expect(await run.claim(id, "w3", lease)).toEqual({ kind: "done" });
  });

  it("fails a run: recorded failed, its claims refused, and a new run may start", async () => {
    const clock = new TestClock();
    const { ledger, tablePrefix } = ledgers(stack, "fail", { now: clock.now });
    const run = ledger();
    const failed = await run.createRun({ contract: "store", who, entities: ["User"], segments: segmentsOf("User", 2) });
    clock.t += 4000;
    expect(await rejection(run.fail(failed.id, " "), BackfillError)).toHaveProperty(
      "message",
      "failing a backfill run needs a reason",
    );
    const report = await run.fail(failed.id, "more than 10 rejected rows (--max-rejected 10)");
    const expected: RunReport = {
      id: failed.id,
      contract: "store",
      entities: ["User"],
      who,
      state: "failed",
      startedAt: clock.iso(),
      finishedAt: clock.iso(4000),
      failure: "more than 10 rejected rows (--max-rejected 10)",
      options: {},
      ...sums([entity("User", { segments: 2, rowsEstimated: 20 })]),
    };
    expect(report).toEqual(expected);
    expect(await run.fail(failed.id, "again")).toEqual(expected);
    expect(await readBackfillStatus(stack.dynamodb(), tablePrefix)).toEqual({
      state: "failed",
      at: clock.iso(4000),
      finishedAt: clock.iso(4000),
    });
    const closed = await rejection(run.claim(failed.id, "w1", lease), BackfillRunClosed);
    expect(closed.message).toBe(
      `backfill run ${failed.id} failed (at ${clock.iso(4000)}: more than 10 rejected rows (--max-rejected 10)); nothing more is done in it`,
    );
    await rejection(run.finish(failed.id), BackfillRunClosed);

    clock.t += 1000;
    const next = await run.createRun({
      contract: "store",
      who: "ops2",
      entities: ["Order"],
      segments: segmentsOf("Order", 1),
    });
    expect(next.joined).toBe(false);
    expect((await run.runs()).map((listed) => [listed.id, listed.state])).toEqual([
      [next.id, "running"],
      [failed.id, "failed"],
    ]);
    expect((await run.runs(1)).map((listed) => listed.id)).toEqual([next.id]);
    expect((await run.current())?.id).toBe(next.id);
    await rejection(run.progress("20300102T000000000Z-000000"), BackfillRunNotFound);
    expect(await rejection(run.runs(0), BackfillError)).toHaveProperty(
      "message",
      "a runs limit is a whole number from 1 to 1000, got 0",
    );
  });

  it("keeps the first rejected rows up to the limit, once per key, and counts them all with the checkpoints", async () => {
    const clock = new TestClock();
    const { ledger, process } = ledgers(stack, "rejected", {
      now: clock.now,
      rejectedLimit: 3,
      checkpointIntervalMs: 0,
    });
    const run = ledger();
    const { id } = await run.createRun({ contract: "store", who, entities: ["User"], segments: segmentsOf("User", 1) });
    const long = "x".repeat(1200);
    for (const [key, reason] of [
      [{ id: 2n ** 60n }, "email: is required (its column is NOT NULL) but has no value"],
      [{ id: 2n ** 60n }, "the same row met again after a takeover"],
      [{ id: 3 }, long],
      [{ id: 4 }, "createdAt: not a date"],
      [{ id: 5 }, "past the limit"],
    ] as const) {
      clock.t += 1;
      await run.recordRejected(id, "User", key, reason);
    }
    // Other processes at the same moment find it full too.
    await Promise.all(
      Array.from({ length: 6 }, (_, n) => process().recordRejected(id, "User", { id: 100 + n }, "late")),
    );
    await run.complete(await claimed(run.claim(id, "w1", lease)), { rejected: 11, written: 3 });
    expect(await process().rejected(id)).toEqual({
      count: 11,
      limit: 3,
      rows: [
        {
          entity: "User",
          key: { id: 2n ** 60n },
          reason: "email: is required (its column is NOT NULL) but has no value",
          at: clock.iso(1),
        },
        { entity: "User", key: { id: 3 }, reason: `${"x".repeat(997)}...`, at: clock.iso(3) },
        { entity: "User", key: { id: 4 }, reason: "createdAt: not a date", at: clock.iso(4) },
      ],
    });
  });

  it("keeps exactly the limit when many processes record at once", async () => {
    const { ledger, process } = ledgers(stack, "rejected_race", { rejectedLimit: 4 });
    const { id } = await ledger().createRun({
      contract: "store",
      who,
      entities: ["User"],
      segments: segmentsOf("User", 1),
    });
    await Promise.all(
      Array.from({ length: 12 }, (_, n) => process().recordRejected(id, "User", { id: n }, `row ${n}`)),
    );
    expect((await ledger().rejected(id)).rows).toHaveLength(4);
  });
});
