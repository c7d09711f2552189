/**
 * Moves that change the authoritative store go through the barrier (PhaseStore.set + CachedPhase.beginWrite), and a
 * process out of touch with the control table takes no writes; on DynamoDB Local, several processes' CachedPhases
 * sharing one control table. Interleavings are forced: through the mover's progress reports, write tickets the test
 * finishes, and clocks the test moves.
 */
import { hostname } from "node:os";
import { DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import { dynamoDbClient } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  addShadowCounts,
  CachedPhase,
  type CachedPhaseOptions,
  ensureControlTable,
  type MoveProgress,
  PhaseChangeRefused,
  PhaseMoveTimedOut,
  PhaseStore,
  type PhaseStoreOptions,
  recordValidation,
} from "../src/control/index.ts";
import { WritesSuspended } from "../src/errors.ts";
import type { WriteTicket } from "../src/phases.ts";

const stack = useTestStack();
const who = "tester@ci";
const host = hostname();

const clients: ReturnType<typeof dynamoDbClient>[] = [];
const running: CachedPhase[] = [];
afterEach(async () => {
  for (const cached of running.splice(0)) await cached.stop();
});
afterAll(() => {
  for (const client of clients) client.destroy();
});

/** A PhaseStore as one process has it: its own client, the shared control table of `name`. */
function processStore(name: string, options: Partial<PhaseStoreOptions> = {}): PhaseStore {
  const client = dynamoDbClient(stack.dynamodbEndpoint);
  clients.push(client);
  return new PhaseStore(client, { tablePrefix: `${stack.tablePrefix}${name}_`, ...options });
}

async function started(store: PhaseStore, options: CachedPhaseOptions): Promise<CachedPhase> {
  const cached = new CachedPhase(store, options);
  running.push(cached);
  await cached.start();
  return cached;
}

/** A store in phase 3 whose 3 -> 4 preconditions hold (the outbox as `waiting` says). */
async function readyForCutover(name: string, waiting: { mysql: number; dynamodb: number }, options = {}) {
  // Every process of the test's fleet counts, however slow the machine (staleness is tested elsewhere).
  const mover = processStore(name, {
    pendingWrites: async (store) => waiting[store],
    staleAfterMs: 3_600_000,
    ...options,
  });
  await mover.set(3, { who, force: true, reason: "test setup" });
  await recordValidation(mover.client, mover.tablePrefix, { clean: true, mismatches: 0 });
  await addShadowCounts(mover.client, mover.tablePrefix, { comparisons: 5000, mismatches: 0 });
  return mover;
}

/** Resolves with the first progress report `matches` accepts; `report` is the mover's onProgress. */
function progressWhere(matches: (progress: MoveProgress) => boolean) {
  let resolve: (progress: MoveProgress) => void = () => {};
  const seen = new Promise<MoveProgress>((r) => {
    resolve = r;
  });
  return {
    seen,
    report: (progress: MoveProgress) => {
      if (matches(progress)) resolve(progress);
    },
  };
}

/** A promise and whether it has settled yet. */
function tracked<T>(promise: Promise<T>) {
  const state = { settled: false };
  const settled = promise.finally(() => {
    state.settled = true;
  });
  settled.catch(() => undefined);
  return { state, promise: settled };
}

describe("the barrier of 3 -> 4", () => {
  it("waits for the phase-3 write in flight, holds new writes meanwhile, and runs them under phase 4", async () => {
    const name = "barrier";
    const mover = await readyForCutover(name, { mysql: 0, dynamodb: 0 });
    const a = await started(processStore(name), { app: "store", refreshMs: 100, instanceId: "a" });
    const b = await started(processStore(name), { app: "store", refreshMs: 100, instanceId: "b" });
    const before = (await mover.get()).version;

    const inFlight: WriteTicket = await a.beginWrite();
    expect(inFlight.phase).toBe(3);
    // Both processes have taken the announcement; a still has its phase-3 write in flight.
    const draining = progressWhere(
      (p) => p.waitingFor.join() === `store@${host} (a) has 1 write in flight under phase 3`,
    );
    const move = tracked(mover.set(4, { who, onProgress: draining.report }));
    const progress = await draining.seen;
    expect(progress).toMatchObject({ from: 3, to: 4, version: before + 1, live: 2 });

    // b holds its new write: the move cannot be committed while a's write is in flight.
    const held = tracked(b.beginWrite());
    expect(await mover.get()).toMatchObject({ phase: 3, version: before + 1, pending: { to: 4, by: who } });
    expect(b.state().held).toBe(1);
    expect(a.state().inFlight).toEqual({ [before]: 1 });
    expect([held.state.settled, move.state.settled]).toEqual([false, false]);
    // Nobody else changes the phase meanwhile.
    const busy = await processStore(name)
      .set(2, { who: "bob" })
      .catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(PhaseChangeRefused);
    expect(busy).toMatchObject({
      rule: "in-progress",
      message: `phase 3 -> 2 refused: a move to phase 4 by ${who} is in progress until ${progress.deadline}`,
    });

    inFlight.done();
    expect(await move.promise).toMatchObject({ phase: 4, version: before + 2 });
    expect(move.state.settled).toBe(true);
    expect((await held.promise).phase).toBe(4);
    expect((await a.beginWrite()).phase).toBe(4);
    const history = (await mover.history({ limit: 2 })).entries;
    expect(history.map((e) => [e.version, e.change, e.from, e.to, e.who])).toEqual([
      [before + 2, "phase", 3, 4, who],
      [before + 1, "announce", 3, 4, who],
    ]);
    expect((await mover.get()).pending).toBeUndefined();
  });

  it.each([
    { from: 3, to: 4, becoming: "dynamodb" },
    { from: 4, to: 3, becoming: "mysql" },
  ] as const)(
    "waits for the outbox once the fleet is ready: a failed copy left by the last phase-$from write is replayed before $from -> $to",
    async ({ from, to, becoming }) => {
      const name = `barrier_outbox_${from}${to}`;
      const waiting = { mysql: 0, dynamodb: 0 };
      const mover = await readyForCutover(name, waiting);
      if (from === 4) await mover.set(4, { who });
      const a = await started(processStore(name), { app: "store", refreshMs: 100, instanceId: "a" });
      const before = (await mover.get()).version;
      const inFlight = await a.beginWrite();
      expect(inFlight.phase).toBe(from);
      const draining = progressWhere(
        (p) => p.waitingFor.join() === `store@${host} (a) has 1 write in flight under phase ${from}`,
      );
      const outbox = `1 write for ${becoming} in the outbox, replayed by the fleet`;
      const replaying = progressWhere((p) => p.waitingFor.join() === outbox);
      const move = tracked(
        mover.set(to, {
          who,
          onProgress: (p) => {
            draining.report(p);
            replaying.report(p);
          },
        }),
      );
      await draining.seen;
      const held = tracked(a.beginWrite());

      // The write in flight fails on the store about to become authoritative and records it in the outbox, then finishes.
      waiting[becoming] = 1;
      inFlight.done();
      expect((await replaying.seen).waitingFor).toEqual([outbox]);
      expect(move.state.settled).toBe(false);
      expect(held.state.settled).toBe(false);
      // The fleet's drain (still in the old phase) replays it; then the move commits and the held write runs under it.
      waiting[becoming] = 0;
      expect(await move.promise).toMatchObject({ phase: to, version: before + 2 });
      expect((await held.promise).phase).toBe(to);
      expect((await mover.get()).pending).toBeUndefined();
    },
  );

  it("counts a replay of the outbox as a write in flight, never holds it, and commits only once it has landed", async () => {
    const name = "barrier_replay";
    const mover = await readyForCutover(name, { mysql: 0, dynamodb: 0 });
    const a = await started(processStore(name), { app: "store", refreshMs: 100, instanceId: "a" });
    const before = (await mover.get()).version;
    const replaying = progressWhere(
      (p) => p.waitingFor.join() === `store@${host} (a) has 1 write in flight under phase 3`,
    );
    // A replay began before the announcement; another begins while the move waits: neither is held.
    const first = a.beginReplay();
    const move = tracked(mover.set(4, { who, onProgress: replaying.report }));
    await replaying.seen;
    const second = a.beginReplay();
    expect([first.phase, second.phase]).toEqual([3, 3]);
    first.done();
    expect(move.state.settled).toBe(false);
    second.done();
    expect(await move.promise).toMatchObject({ phase: 4, version: before + 2 });
    expect((await a.beginWrite()).phase).toBe(4);
  });

  it("is cancelled at its deadline when a process never takes the announcement; writes go on under phase 3", async () => {
    const name = "barrier_deadline";
    const clock = { offset: 0 };
    const mover = await readyForCutover(
      name,
      { mysql: 0, dynamodb: 0 },
      { now: () => Date.now() + clock.offset, staleAfterMs: 3_600_000 },
    );
    // Refreshes only when told to: it never sees the announcement.
    const silent = await started(processStore(name), { app: "store", refreshMs: 3_600_000, instanceId: "silent" });
    const unacked = progressWhere((p) => {
      const stuck = p.waitingFor.join() === `store@${host} (silent) has not taken the announcement yet`;
      // Time runs out for the mover: its next look at the fleet is past the deadline.
      if (stuck) clock.offset = 60_000;
      return stuck;
    });
    const error = await mover.set(4, { who, waitMs: 60_000, onProgress: unacked.report }).catch((e: unknown) => e);
    await unacked.seen;
    expect(error).toBeInstanceOf(PhaseMoveTimedOut);
    expect(error).toMatchObject({
      from: 3,
      to: 4,
      waitingFor: [`store@${host} (silent) has not taken the announcement yet`],
    });
    expect((error as Error).message).toMatch(
      /^phase 3 -> 4 cancelled: not every live process was ready before the deadline \(.*Z\): store@.* \(silent\) has not taken the announcement yet; the phase stays 3$/,
    );
    expect((await mover.get()).pending).toBeUndefined();
    expect((await mover.history({ limit: 2 })).entries.map((e) => [e.change, e.from, e.to])).toEqual([
      ["cancel", 3, 4],
      ["announce", 3, 4],
    ]);
    expect((await silent.beginWrite()).phase).toBe(3);
  });

  it("a process past the deadline cancels the move itself, and the mover's late commit then fails", async () => {
    const name = "barrier_late";
    const mover = await readyForCutover(name, { mysql: 0, dynamodb: 0 });
    const clock = { offset: 0 };
    const p = await started(processStore(name), {
      app: "store",
      refreshMs: 100,
      instanceId: "p",
      now: () => Date.now() + clock.offset,
      // Its clock jumps past the deadline below; it must not take itself for out of touch for that.
      staleAfterMs: 86_400_000,
    });
    const ready = progressWhere((progress) => progress.live === 1 && progress.waitingFor.length === 0);
    let held: ReturnType<typeof tracked<WriteTicket>> | undefined;
    // Just before the commit is sent, p's clock passes the deadline and p refreshes: it cancels the move and resumes.
    mover.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "TransactWriteItemsCommand" && held === undefined && (await mover.get()).pending) {
          held = tracked(p.beginWrite());
          clock.offset = 3_600_000;
          await p.refresh();
        }
        return next(args);
      },
      { step: "initialize", name: "lateCommit" },
    );
    const error = await mover.set(4, { who, waitMs: 60_000, onProgress: ready.report }).catch((e: unknown) => e);
    await ready.seen;
    expect(error).toBeInstanceOf(PhaseMoveTimedOut);
    expect((error as PhaseMoveTimedOut).waitingFor[0]).toMatch(/^the move was cancelled before it was committed/);
    expect((await held?.promise)?.phase).toBe(3);
    expect((await mover.get()).phase).toBe(3);
    const [cancel] = (await mover.history({ limit: 1 })).entries;
    expect(cancel).toMatchObject({
      change: "cancel",
      from: 3,
      to: 4,
      who: `store@${host} (p)`,
      reason: "its deadline passed before it was committed",
    });
  });
});

describe("a process out of touch with the control table", () => {
  it("refuses writes after the stale limit, still reads, and takes writes again once a refresh succeeds", async () => {
    const name = "out_of_touch";
    const store = processStore(name);
    // The process's clock stands still unless the test moves it.
    const t0 = Date.now();
    const clock = { offset: 0 };
    const p = await started(store, {
      app: "store",
      refreshMs: 3_600_000,
      staleAfterMs: 3000,
      now: () => t0 + clock.offset,
      onError: () => {},
    });
    const first = await p.beginWrite();
    expect(first.phase).toBe(1);
    first.done();
    const inTouchAt = p.state().inTouchAt;

    await store.client.send(new DeleteTableCommand({ TableName: await store.table() }));
    expect(await p.refresh()).toBe(false);
    // Within the stale limit a failed refresh changes nothing; past it, writes are refused.
    clock.offset = 2000;
    expect((await p.beginWrite()).phase).toBe(1);
    clock.offset = 3001;
    const error = await p.beginWrite().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WritesSuspended);
    expect(error).toMatchObject({ since: inTouchAt });
    expect((error as Error).message).toBe(
      `this process takes no writes: it has not read the phase and written its heartbeat since ${inTouchAt} (over 3000 ms, after which the fleet no longer counts it), so a phase move may have passed it by; last error: ResourceNotFoundException: Cannot do operations on a non-existent table`,
    );
    expect(p.phase()).toBe(1);

    // The control table is back (created by another process): a refresh and a heartbeat succeed, writes resume.
    const other = dynamoDbClient(stack.dynamodbEndpoint);
    clients.push(other);
    await ensureControlTable(other, store.tablePrefix);
    expect(await p.refresh()).toBe(true);
    expect(Date.parse(p.state().inTouchAt ?? "")).toBeGreaterThan(Date.parse(inTouchAt ?? ""));
    expect((await p.beginWrite()).phase).toBe(1);
  });

  it("reads the phase again after a heartbeat that comes later than the stale limit: a move may have passed it by", async () => {
    const name = "straddle";
    const moverClock = { offset: 0 };
    const mover = await readyForCutover(
      name,
      { mysql: 0, dynamodb: 0 },
      { staleAfterMs: 3000, now: () => Date.now() + moverClock.offset },
    );
    const t0 = Date.now();
    const clock = { offset: 0 };
    const store = processStore(name);
    const p = await started(store, {
      app: "store",
      refreshMs: 3_600_000,
      staleAfterMs: 3000,
      now: () => t0 + clock.offset,
    });
    // p's next phase read answers phase 3; before p writes its heartbeat, more than the stale limit passes, and the
    // mover, which no longer counts p, moves to phase 4 without it.
    let armed = true;
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === "GetItemCommand" && armed) {
          armed = false;
          clock.offset = 3001;
          moverClock.offset = 10_000;
          expect(await mover.set(4, { who })).toMatchObject({ phase: 4 });
        }
        return result;
      },
      { step: "initialize", name: "straddle" },
    );
    expect(await p.refresh()).toBe(true);
    expect(armed).toBe(false);
    expect((await p.beginWrite()).phase).toBe(4);
  });

  it("rejects the writes it holds for a move once it is out of touch, and every write once it is stopped", async () => {
    const name = "held_out_of_touch";
    const moverClock = { offset: 0 };
    const mover = await readyForCutover(name, { mysql: 0, dynamodb: 0 }, { now: () => Date.now() + moverClock.offset });
    // A process that never takes the announcement keeps the move open while the test looks at p.
    await started(processStore(name), { app: "store", refreshMs: 3_600_000, instanceId: "silent" });
    const t0 = Date.now();
    const clock = { offset: 0 };
    const store = processStore(name);
    const p = await started(store, {
      app: "store",
      refreshMs: 3_600_000,
      instanceId: "p",
      staleAfterMs: 3000,
      now: () => t0 + clock.offset,
      onError: () => {},
    });
    const announced = progressWhere((progress) => progress.waitingFor.length === 2);
    const move = tracked(mover.set(4, { who, waitMs: 60_000, onProgress: announced.report }));
    await announced.seen;
    expect(await p.refresh()).toBe(true);
    const held = tracked(p.beginWrite());
    expect(p.state().held).toBe(1);

    // p loses the control table, and more than the stale limit passes.
    store.client.middlewareStack.add(
      () => async () => {
        throw new Error("the network is down");
      },
      { step: "initialize", name: "down" },
    );
    clock.offset = 3001;
    expect(await p.refresh()).toBe(false);
    const error = await held.promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WritesSuspended);
    expect((error as Error).message).toMatch(
      /^this process takes no writes: .*; last error: Error: the network is down$/,
    );
    expect(p.state().held).toBe(0);

    await p.stop();
    await expect(p.beginWrite()).rejects.toThrow(
      new WritesSuspended("this process's CachedPhase is not running (stopped): it takes no writes", undefined),
    );
    moverClock.offset = 60_000;
    expect(await move.promise.catch((e: unknown) => e)).toBeInstanceOf(PhaseMoveTimedOut);
  });
});
