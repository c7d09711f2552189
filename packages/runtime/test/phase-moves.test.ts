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
  // Tests leave write tickets unfinished: stop() (afterEach) need not wait for them long.
  const cached = new CachedPhase(store, { stopDrainMs: 200, ...options });
  running.push(cached);
  await cached.start();
  return cached;
}

/** How long the barrier tests' moves may wait for the fleet: a ceiling for CI's loaded cores, not a goal. */
const MOVE_CEILING_MS = 240_000;

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
    const move = tracked(mover.set(4, { who, waitMs: MOVE_CEILING_MS, onProgress: draining.report }));
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
          waitMs: MOVE_CEILING_MS,
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
    const move = tracked(mover.set(4, { who, waitMs: MOVE_CEILING_MS, onProgress: replaying.report }));
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
    // Refreshes only when told to: it never sees the announcement. Its lease outlasts the test however slow the
    // machine.
    const silent = await started(processStore(name), {
      app: "store",
      refreshMs: 3_600_000,
      instanceId: "silent",
      writeLeaseMs: 600_000,
    });
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
      writeLeaseMs: 86_400_000,
      heartbeatTtlSeconds: 172_800,
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
  it("goes on writing within its write lease, refuses writes after it, still reads, and takes writes again once a refresh succeeds", async () => {
    const name = "out_of_touch";
    const store = processStore(name);
    // The process's clock stands still unless the test moves it.
    const t0 = Date.now();
    const clock = { offset: 0 };
    const p = await started(store, {
      app: "store",
      refreshMs: 3_600_000,
      staleAfterMs: 3000,
      writeLeaseMs: 10_000,
      now: () => t0 + clock.offset,
      onError: () => {},
    });
    const first = await p.beginWrite();
    expect(first.phase).toBe(1);
    first.done();
    const inTouchAt = p.state().inTouchAt;

    await store.client.send(new DeleteTableCommand({ TableName: await store.table() }));
    expect(await p.refresh()).toBe(false);
    // Within the write lease a failed refresh changes nothing, past the stale limit too; past the lease, writes are
    // refused.
    clock.offset = 2000;
    expect((await p.beginWrite()).phase).toBe(1);
    clock.offset = 9000;
    expect(await p.refresh()).toBe(false);
    expect((await p.beginWrite()).phase).toBe(1);
    clock.offset = 10_001;
    const error = await p.beginWrite().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WritesSuspended);
    expect(error).toMatchObject({ since: inTouchAt });
    expect((error as Error).message).toBe(
      `this process takes no writes: it has not read the phase and written its heartbeat since ${inTouchAt} (over its write lease of 10000 ms, after which a phase move may pass it by); last error: ResourceNotFoundException: Cannot do operations on a non-existent table`,
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
      writeLeaseMs: 3000,
      now: () => t0 + clock.offset,
    });
    // p's next phase read answers phase 3; before p writes its heartbeat, more than its write lease passes, and the
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

  it("rejects the writes it holds for a move once its write lease is over, and every write once it is stopped", async () => {
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
      writeLeaseMs: 10_000,
      now: () => t0 + clock.offset,
      onError: () => {},
    });
    const announced = progressWhere((progress) => progress.waitingFor.length === 2);
    const move = tracked(mover.set(4, { who, waitMs: 60_000, onProgress: announced.report }));
    await announced.seen;
    expect(await p.refresh()).toBe(true);
    const held = tracked(p.beginWrite());
    expect(p.state().held).toBe(1);

    // p loses the control table: past the stale limit it still holds the write (its lease runs); past its lease, not.
    store.client.middlewareStack.add(
      () => async () => {
        throw new Error("the network is down");
      },
      { step: "initialize", name: "down" },
    );
    clock.offset = 5000;
    expect(await p.refresh()).toBe(false);
    expect(held.state.settled).toBe(false);
    expect(p.state().held).toBe(1);
    clock.offset = 10_001;
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

  it("within its write lease: a silent process writes on, a move of the authoritative store waits for it until the lease is over, then commits without it", async () => {
    const name = "silent_lease";
    // The mover's clock: real time until t0, then t0 plus the offsets the test sets (however long the test takes).
    const moverClock: { base?: number; offset: number } = { offset: 0 };
    const mover = await readyForCutover(
      name,
      { mysql: 0, dynamodb: 0 },
      { staleAfterMs: 3000, now: () => (moverClock.base ?? Date.now()) + moverClock.offset },
    );
    const t0 = Date.now();
    moverClock.base = t0;
    const clock = { offset: 0 };
    const store = processStore(name);
    const p = await started(store, {
      app: "store",
      refreshMs: 3_600_000,
      instanceId: "p",
      staleAfterMs: 3000,
      writeLeaseMs: 20_000,
      now: () => t0 + clock.offset,
      onError: () => {},
    });
    const writesUntil = new Date(Date.parse(p.state().inTouchAt ?? "") + 20_000).toISOString();
    // p loses the control table; 5 s pass for both: p is stale, but silent within its lease.
    store.client.middlewareStack.add(
      () => async () => {
        throw new Error("the network is down");
      },
      { step: "initialize", name: "down" },
    );
    clock.offset = 5000;
    moverClock.offset = 5000;
    expect(await p.refresh()).toBe(false);
    const view = await mover.fleet();
    expect(view.instances).toEqual([]);
    expect(view.silent).toMatchObject([{ instanceId: "p", versionSeen: (await mover.get()).version, writesUntil }]);
    expect(view.allCurrent).toBe(true);

    const waiting = progressWhere((progress) => progress.waitingFor.length === 1);
    const move = tracked(mover.set(4, { who, waitMs: 60_000, onProgress: waiting.report }));
    expect((await waiting.seen).waitingFor).toEqual([
      `store@${host} (p) has not been heard from since ${p.state().inTouchAt} and may write under phase 3 until ${writesUntil} (nothing announced yet)`,
    ]);
    // Nothing is announced while the move waits for p: no process holds its writes, and p writes on under phase 3.
    expect((await mover.get()).pending).toBeUndefined();
    const write = await p.beginWrite();
    expect(write.phase).toBe(3);
    write.done();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(move.state.settled).toBe(false);
    // Past p's lease but within the margin (2 s) the move still waits: the mover's clock set to 20.5 s after p was
    // last in touch.
    moverClock.offset = 20_500;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(move.state.settled).toBe(false);

    // The lease and the margin pass by the mover's clock: the move commits without p, which writes no more.
    moverClock.offset = 22_100;
    expect(await move.promise).toMatchObject({ phase: 4 });
    clock.offset = 20_001;
    await expect(p.beginWrite()).rejects.toBeInstanceOf(WritesSuspended);
  });

  it("a move within MySQL's side is refused while a silent process has not picked up the current version", async () => {
    const name = "silent_behind";
    const t0 = Date.now();
    // The mover's clock: t0 plus the offsets the test sets, however long the test takes.
    const moverClock = { offset: 0 };
    const mover = processStore(name, { staleAfterMs: 3000, now: () => t0 + moverClock.offset });
    const store = processStore(name);
    const p = await started(store, {
      app: "store",
      refreshMs: 3_600_000,
      staleAfterMs: 3000,
      writeLeaseMs: 20_000,
      now: () => t0,
      onError: () => {},
    });
    store.client.middlewareStack.add(
      () => async () => {
        throw new Error("the network is down");
      },
      { step: "initialize", name: "down" },
    );
    moverClock.offset = 5000;
    // p is silent on the current version: 1 -> 2 goes through (p is like a process about to refresh)...
    expect(await mover.set(2, { who })).toMatchObject({ phase: 2 });
    // ...but then p is behind, and writes under phase 1 until its lease is over: 2 -> 1 waits for that.
    const stillOne = await p.beginWrite();
    expect(stillOne.phase).toBe(1);
    stillOne.done();
    const refused = await mover.set(1, { who }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PhaseChangeRefused);
    expect((refused as Error).message).toContain(
      "1 silent process has not picked up version 1 and may still write under an older phase: store@",
    );
    moverClock.offset = 22_100;
    expect(await mover.set(1, { who })).toMatchObject({ phase: 1 });
  });

  it("a move whose wait a silent process's lease outlasts times out at once, announcing nothing", async () => {
    const name = "silent_outlasts";
    const mover = await readyForCutover(
      name,
      { mysql: 0, dynamodb: 0 },
      { staleAfterMs: 3000, now: () => Date.now() + 5000 },
    );
    const store = processStore(name);
    await started(store, {
      app: "store",
      refreshMs: 3_600_000,
      instanceId: "p",
      writeLeaseMs: 60_000,
      onError: () => {},
    });
    const before = await mover.get();
    const error = await mover.set(4, { who, waitMs: 10_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhaseMoveTimedOut);
    expect((error as PhaseMoveTimedOut).waitingFor).toEqual([
      expect.stringMatching(
        /^store@.* \(p\) has not been heard from since .* and may write under phase 3 until .* \(nothing announced yet\)$/,
      ),
    ]);
    // Nothing was announced or cancelled: the phase item is as it was.
    expect(await mover.get()).toEqual(before);
  });
});

describe("a process that stops", () => {
  it("drains first: takes no new write, keeps its heartbeat (its write in flight counted) until stop()", async () => {
    const name = "drain";
    const watcher = processStore(name, { staleAfterMs: 3_600_000 });
    const p = await started(processStore(name), { app: "store", refreshMs: 50, instanceId: "p", stopDrainMs: 200_000 });
    const ticket = await p.beginWrite();
    const draining = tracked(p.drain());
    await expect(p.beginWrite()).rejects.toThrow(
      new WritesSuspended("this process is stopping: it takes no writes", undefined),
    );
    expect(p.state()).toMatchObject({ running: true, draining: true });
    // It goes on refreshing and writing its heartbeat, which counts the write in flight.
    const beats = p.state().heartbeats;
    await expect.poll(() => p.state().heartbeats).toBeGreaterThan(beats);
    expect((await watcher.fleet()).instances).toMatchObject([{ instanceId: "p", inFlight: 1 }]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(draining.state.settled).toBe(false);
    ticket.done();
    await draining.promise;
    // Drained, not stopped: the heartbeat stays until stop(), which does not wait again.
    await expect.poll(async () => (await watcher.fleet()).instances.map((i) => i.inFlight)).toEqual([0]);
    await p.stop();
    expect((await watcher.fleet()).instances).toEqual([]);
  });

  it("keeps its heartbeat until its writes in flight have finished, and takes no new write meanwhile", async () => {
    const name = "stop_drains";
    const watcher = processStore(name, { staleAfterMs: 3_600_000 });
    const p = await started(processStore(name), {
      app: "store",
      refreshMs: 3_600_000,
      instanceId: "draining",
      stopDrainMs: 200_000,
    });
    const ids = async () => (await watcher.fleet()).instances.map((instance) => instance.instanceId);
    expect(await ids()).toEqual(["draining"]);
    const ticket = await p.beginWrite();
    const stopping = tracked(p.stop());
    // While its write is in flight, a mover waiting for the fleet still sees the process (its heartbeat).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(stopping.state.settled).toBe(false);
    expect(await ids()).toEqual(["draining"]);
    await expect(p.beginWrite()).rejects.toBeInstanceOf(WritesSuspended);
    ticket.done();
    await stopping.promise;
    expect(await ids()).toEqual([]);
  });
});
