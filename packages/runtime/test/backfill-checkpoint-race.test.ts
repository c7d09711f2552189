/**
 * A claim's writes overlap in a real worker: the lease keeper flushes every third of the lease while the worker
 * checkpoints its pages. Forced here with a gate that holds the keeper's UpdateItem on its way to DynamoDB Local: a
 * checkpoint made meanwhile is neither lost (the keeper's write resetting the counts it did not send) nor sent twice
 * (a second write sending what the first has on its way). And a write that landed but whose answer was lost (the SDK
 * sends it again) counts once.
 */

import { dynamoDbClient } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { afterAll, describe, expect, it } from "vitest";
import { BackfillLedger } from "../src/backfill/index.ts";
import { claimed, segmentsOf, TestClock } from "./backfill-fixtures.ts";

const stack = useTestStack();
const clients: ReturnType<typeof dynamoDbClient>[] = [];
afterAll(() => {
  for (const client of clients) client.destroy();
});

/** A ledger whose next UpdateItem of a segment waits at the gate until released (armed by `hold`). */
function gatedLedger(name: string, clock: TestClock) {
  const client = dynamoDbClient(stack.dynamodbEndpoint);
  clients.push(client);
  let armed = false;
  let open: () => void = () => {};
  let reached: () => void = () => {};
  let arrived = Promise.resolve();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = (args as { input?: { Key?: { sk?: { S?: string } } } }).input;
      if (armed && context.commandName === "UpdateItemCommand" && input?.Key?.sk?.S?.startsWith("SEG#")) {
        armed = false;
        const gate = new Promise<void>((resolve) => {
          open = resolve;
        });
        reached();
        await gate;
      }
      return next(args);
    },
    { step: "initialize", name: "testGate" },
  );
  const ledger = new BackfillLedger(client, {
    tablePrefix: `${stack.tablePrefix}${name}_`,
    now: clock.now,
    checkpointIntervalMs: 1000,
  });
  return {
    ledger,
    /** Holds the next segment write; resolves once it is held. */
    hold(): Promise<void> {
      armed = true;
      arrived = new Promise<void>((resolve) => {
        reached = resolve;
      });
      return arrived;
    },
    release: () => open(),
  };
}

describe("a claim's checkpoint while its lease keeper's write is on its way", () => {
  it("is kept for the next write, not lost", async () => {
    const clock = new TestClock();
    const { ledger, hold, release } = gatedLedger("race_lost", clock);
    const { id } = await ledger.createRun({
      contract: "store",
      who: "t",
      entities: ["User"],
      segments: segmentsOf("User", 1),
    });
    const claim = await claimed(ledger.claim(id, "w", { leaseMs: 60_000 }));
    const held = hold();
    const keeper = ledger.flush(claim); // nothing pending yet: it only extends the lease
    await held;
    // Meanwhile a page is checkpointed (throttled: the last write was just now, so it waits for the next one).
    expect(await ledger.checkpoint(claim, { after: { id: 5 }, written: 5 })).toBe(false);
    release();
    await keeper;
    await ledger.complete(claim, { after: { id: 10 }, written: 5 });
    const report = await ledger.progress(id);
    expect(report.written).toBe(10);
    expect(report.segmentsDone).toBe(1);
  });

  it("is sent once, after the write on its way", async () => {
    const clock = new TestClock();
    const { ledger, hold, release } = gatedLedger("race_twice", clock);
    const { id } = await ledger.createRun({
      contract: "store",
      who: "t",
      entities: ["User"],
      segments: segmentsOf("User", 1),
    });
    const claim = await claimed(ledger.claim(id, "w", { leaseMs: 60_000 }));
    expect(await ledger.checkpoint(claim, { after: { id: 3 }, written: 3 })).toBe(false);
    const held = hold();
    const keeper = ledger.flush(claim); // sends the 3
    await held;
    clock.t += 1000;
    // Due now: written while the keeper's 3 are on their way; it must send its 4 only.
    const checkpoint = ledger.checkpoint(claim, { after: { id: 7 }, written: 4 });
    release();
    await keeper;
    expect(await checkpoint).toBe(true);
    const report = await ledger.progress(id);
    expect(report.written).toBe(7);
    await ledger.complete(claim);
    expect((await ledger.progress(id)).written).toBe(7);
  });
});

describe("a checkpoint whose answer is lost after it landed", () => {
  it("is sent again by the SDK and counts once", async () => {
    const clock = new TestClock();
    const client = dynamoDbClient(stack.dynamodbEndpoint);
    clients.push(client);
    let lose = 0;
    let sent = 0;
    // Inside the SDK's retries: the request reaches DynamoDB Local and is applied, then its answer is "lost".
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = (args as { input?: { Key?: { sk?: { S?: string } } } }).input;
        const segment = context.commandName === "UpdateItemCommand" && input?.Key?.sk?.S?.startsWith("SEG#") === true;
        if (segment) sent++;
        const result = await next(args);
        if (segment && lose > 0) {
          lose--;
          throw Object.assign(new Error("the answer was lost on its way back"), {
            name: "TimeoutError",
            $metadata: {},
          });
        }
        return result;
      },
      { step: "deserialize", name: "testLoseAnswer" },
    );
    const ledger = new BackfillLedger(client, {
      tablePrefix: `${stack.tablePrefix}race_lost_answer_`,
      now: clock.now,
      checkpointIntervalMs: 1000,
    });
    const { id } = await ledger.createRun({
      contract: "store",
      who: "t",
      entities: ["User"],
      segments: segmentsOf("User", 1),
    });
    const claim = await claimed(ledger.claim(id, "w", { leaseMs: 60_000 }));
    clock.t += 1000;
    lose = 1;
    sent = 0;
    expect(await ledger.checkpoint(claim, { after: { id: 4 }, written: 4 })).toBe(true);
    expect(sent).toBe(2); // the first attempt landed, its answer was lost, the SDK sent it again
    expect((await ledger.progress(id)).written).toBe(4);
    // The same for the segment's end.
    lose = 1;
    sent = 0;
    await ledger.complete(claim, { after: { id: 10 }, written: 6 });
    expect(sent).toBe(2);
    const report = await ledger.progress(id);
    expect([report.written, report.segmentsDone]).toEqual([10, 1]);
  });
});
