import { hostname } from "node:os";
import {
  DeleteTableCommand,
  DescribeTimeToLiveCommand,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { dynamoDbClient } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  CachedPhase,
  type CachedPhaseOptions,
  CONTROL_TTL_ATTRIBUTE,
  controlKey,
  ensureControlTable,
  INSTANCE_PARTITION,
  PhaseStore,
} from "../src/control/index.ts";

const stack = useTestStack();
const who = "tester@ci";

const clients: ReturnType<typeof dynamoDbClient>[] = [];
const running: CachedPhase[] = [];
afterEach(async () => {
  for (const cached of running.splice(0)) await cached.stop();
});
afterAll(() => {
  for (const client of clients) client.destroy();
});

/** A PhaseStore as one process of the fleet has it: its own client, the shared control table. */
function processStore(name: string): PhaseStore {
  const client = dynamoDbClient(stack.dynamodbEndpoint);
  clients.push(client);
  return new PhaseStore(client, { tablePrefix: `${stack.tablePrefix}${name}_` });
}

async function started(store: PhaseStore, options: CachedPhaseOptions): Promise<CachedPhase> {
  const cached = new CachedPhase(store, options);
  running.push(cached);
  await cached.start();
  return cached;
}

/** Polls `condition` until it holds; fails after a generous deadline (this is not a timing assertion). */
async function eventually(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 240_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("CachedPhase", () => {
  it("two instances converge on a phase change within two refreshes of it", async () => {
    const name = "converge";
    const a = await started(processStore(name), { app: "store", refreshMs: 100 });
    const b = await started(processStore(name), { app: "store", refreshMs: 100 });
    expect([a.phase(), b.phase()]).toEqual([1, 1]);

    const admin = processStore(name);
    const before = [a.state().refreshes, b.state().refreshes];
    const changed = await admin.set(2, { who });
    // Of the refreshes after these, the one in flight may have read before the change; the next one must see it.
    const after = [a.state().refreshes, b.state().refreshes];
    await eventually("both instances run phase 2", () => a.phase() === 2 && b.phase() === 2);
    for (const [i, cached] of [a, b].entries()) {
      const state = cached.state();
      expect(state.current?.version).toBe(changed.version);
      expect(state.versionSeenAtRefresh).toBeGreaterThan(before[i] ?? Number.NaN);
      expect(state.versionSeenAtRefresh).toBeLessThanOrEqual((after[i] ?? Number.NaN) + 2);
      expect(state.failures).toBe(0);
    }
  });

  it("a version first read again after a late heartbeat counts as seen at that refresh", async () => {
    const name = "late_confirm";
    const clock = { offset: 0 };
    const store = processStore(name);
    const cached = await started(store, {
      app: "store",
      refreshMs: 3_600_000,
      staleAfterMs: 3000,
      now: () => Date.now() + clock.offset,
    });
    const admin = processStore(name);
    // The next refresh's heartbeat comes later than the stale limit, and the phase changes while it is written: the
    // phase is read once more after it, and that read finds the new version.
    clock.offset = 10_000;
    let moved = false;
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (!moved && context.commandName === "PutItemCommand") {
          moved = true;
          await admin.set(2, { who });
        }
        return next(args);
      },
      { step: "initialize", name: "move_during_heartbeat" },
    );
    const before = cached.state().refreshes;
    expect(await cached.refresh()).toBe(true);
    expect(moved).toBe(true);
    expect(cached.phase()).toBe(2);
    expect(cached.state()).toMatchObject({ refreshes: before + 1, versionSeenAtRefresh: before + 1 });
  });

  it("writes a heartbeat with the version it has seen, and removes it at stop()", async () => {
    const store = processStore("heartbeat");
    const cached = await started(store, { app: "admin", refreshMs: 3_600_000, instanceId: "admin-1" });
    const table = await store.table();
    const read = () =>
      store.client.send(
        new GetItemCommand({
          TableName: table,
          Key: controlKey({ pk: INSTANCE_PARTITION, sk: "admin-1" }),
          ConsistentRead: true,
        }),
      );
    const item = (await read()).Item;
    expect(item?.instanceId?.S).toBe("admin-1");
    expect(item?.app?.S).toBe("admin");
    expect(item?.host?.S).toBe(hostname());
    expect(item?.versionSeen?.N).toBe("0");
    expect(item?.phaseSeen?.N).toBe("1");
    expect(item?.startedAt?.S).toBe(item?.lastSeen?.S);
    const expires = Number(item?.[CONTROL_TTL_ATTRIBUTE]?.N);
    // An hour after the heartbeat, in whole seconds; the heartbeat itself is recent (bounds: it is the clock's now).
    expect(expires).toBe(Math.ceil(Date.parse(item?.lastSeen?.S ?? "") / 1000) + 3600);
    expect(expires).toBeGreaterThan(Date.now() / 1000 + 3000);
    expect(expires).toBeLessThan(Date.now() / 1000 + 3700);

    await store.set(2, { who });
    expect(await cached.refresh()).toBe(true);
    const after = (await read()).Item;
    expect([after?.versionSeen?.N, after?.phaseSeen?.N]).toEqual(["1", "2"]);
    expect(after?.startedAt?.S).toBe(item?.startedAt?.S);
    expect(cached.state()).toMatchObject({ heartbeats: 2, refreshes: 2, versionSeenAtRefresh: 2, running: true });

    await cached.stop();
    expect((await read()).Item).toBeUndefined();
    expect(cached.state().running).toBe(false);
    // A stopped instance keeps its last value but no longer writes heartbeats.
    expect(await cached.refresh()).toBe(true);
    expect((await read()).Item).toBeUndefined();
    expect(cached.phase()).toBe(2);
  });

  it("keeps the last phase when a refresh fails, and counts and exposes the error", async () => {
    const store = processStore("failing");
    await store.set(2, { who });
    const errors: unknown[] = [];
    const what: string[] = [];
    const worked: string[] = [];
    const cached = await started(store, {
      app: "store",
      refreshMs: 100,
      onError: (error, failed) => {
        errors.push(error);
        what.push(failed);
      },
      onSuccess: (done) => worked.push(done),
    });
    expect(cached.phase()).toBe(2);
    // Started: a phase read and a heartbeat that worked.
    expect(new Set(worked)).toEqual(new Set(["phase", "heartbeat"]));

    await store.client.send(new DeleteTableCommand({ TableName: await store.table() }));
    // A refresh in flight while the table went may still have worked; this one (queued behind it) cannot.
    expect(await cached.refresh()).toBe(false);
    const workedBefore = worked.length;
    await eventually("two refreshes have failed", () => cached.state().failures >= 2);
    const state = cached.state();
    expect(cached.phase()).toBe(2);
    expect(state.running).toBe(true);
    expect(state.lastError?.message).toBe("ResourceNotFoundException: Cannot do operations on a non-existent table");
    // A bound: the refresh loop goes on failing while the test looks; every failure is the missing table.
    expect(errors.length).toBeGreaterThanOrEqual(2);
    for (const error of errors) expect((error as Error).name).toBe("ResourceNotFoundException");
    // Each failure says what failed; nothing worked meanwhile.
    expect(new Set(what)).toContain("phase");
    expect(what.every((each) => each === "phase" || each === "heartbeat")).toBe(true);
    expect(worked.length).toBe(workedBefore);
    // Removing the heartbeat fails too (the table is gone): counted, not thrown.
    const heartbeatFailures = state.heartbeatFailures;
    await cached.stop();
    expect(cached.state().heartbeatFailures).toBe(heartbeatFailures + 1);
  });

  it("start() fails when the phase cannot be read at all, and phase() before start() says so", async () => {
    const unreachable = dynamoDbClient("http://127.0.0.1:1");
    clients.push(unreachable);
    const cached = new CachedPhase(new PhaseStore(unreachable, { tablePrefix: `${stack.tablePrefix}nowhere_` }), {
      app: "store",
    });
    expect(() => cached.phase()).toThrow("CachedPhase has no phase yet: await start() first");
    // Nothing listens on port 1: the connection is refused, and that error reaches the caller as it is.
    await expect(cached.start()).rejects.toThrow(/^connect ECONNREFUSED 127\.0\.0\.1:1$/);
    expect(cached.state().running).toBe(false);
    expect(() => new CachedPhase(processStore("x"), { app: "store", refreshMs: 0 })).toThrow(
      new RangeError("refreshMs must be a positive number of milliseconds, got 0"),
    );
  });
});

describe("PhaseStore.fleet()", () => {
  it("lists the live instances and whether each has seen the current version; a stopped one disappears", async () => {
    const name = "fleet";
    const admin = processStore(name);
    await started(processStore(name), { app: "store", refreshMs: 100, instanceId: "i-fast" });
    // Refreshes only when told to: it keeps reporting the version it started with.
    const slow = await started(processStore(name), { app: "store", refreshMs: 600_000, instanceId: "i-slow" });

    const first = await admin.fleet({ staleAfterMs: 600_000 });
    expect(first).toMatchObject({ phase: 1, version: 0, allCurrent: true });
    expect(first.instances.map((i) => [i.instanceId, i.app, i.host, i.versionSeen, i.phaseSeen, i.current])).toEqual([
      ["i-fast", "store", hostname(), 0, 1, true],
      ["i-slow", "store", hostname(), 0, 1, true],
    ]);

    const changed = await admin.set(2, { who });
    const behind = await admin.fleet({ staleAfterMs: 600_000 });
    expect(behind).toMatchObject({ phase: 2, version: changed.version, allCurrent: false });
    expect(behind.instances.find((i) => i.instanceId === "i-slow")).toMatchObject({ versionSeen: 0, current: false });

    await eventually("the fast instance reports the new version", async () => {
      const view = await admin.fleet({ staleAfterMs: 600_000 });
      return view.instances.find((i) => i.instanceId === "i-fast")?.current === true;
    });
    expect((await admin.fleet({ staleAfterMs: 600_000 })).allCurrent).toBe(false);
    await slow.refresh();
    const current = await admin.fleet({ staleAfterMs: 600_000 });
    expect(current.allCurrent).toBe(true);
    expect(current.instances.map((i) => [i.instanceId, i.versionSeen, i.phaseSeen])).toEqual([
      ["i-fast", changed.version, 2],
      ["i-slow", changed.version, 2],
    ]);
    expect(current.stale).toEqual([]);
    // Not heard from within the window: listed apart as stale, never counted as the fleet.
    await new Promise((resolve) => setTimeout(resolve, 60));
    const strict = await admin.fleet({ staleAfterMs: 30 });
    expect(strict.stale.map((h) => [h.instanceId, h.versionSeen])).toContainEqual(["i-slow", changed.version]);
    expect(strict.instances.map((i) => i.instanceId)).not.toContain("i-slow");
    // A heartbeat past its expiry (DynamoDB removes those only eventually) is gone, not stale.
    const lastSeen = new Date(Date.now() - 7_200_000).toISOString();
    await stack.dynamodb().send(
      new PutItemCommand({
        TableName: await ensureControlTable(stack.dynamodb(), `${stack.tablePrefix}${name}_`),
        Item: {
          ...controlKey({ pk: INSTANCE_PARTITION, sk: "i-expired" }),
          instanceId: { S: "i-expired" },
          host: { S: "h" },
          app: { S: "store" },
          versionSeen: { N: "0" },
          inFlight: { N: "0" },
          startedAt: { S: lastSeen },
          lastSeen: { S: lastSeen },
          [CONTROL_TTL_ATTRIBUTE]: { N: String(Math.floor(Date.now() / 1000) - 3600) },
        },
      }),
    );
    expect((await admin.fleet({ staleAfterMs: 30 })).stale.map((h) => h.instanceId)).not.toContain("i-expired");

    await slow.stop();
    expect((await admin.fleet({ staleAfterMs: 600_000 })).instances.map((i) => i.instanceId)).toEqual(["i-fast"]);
  });

  it("leaves out instances not heard from within staleAfterMs", async () => {
    const name = "stale";
    const admin = processStore(name);
    await started(processStore(name), { app: "store", refreshMs: 100, instanceId: "i-alive" });
    const quiet = await started(processStore(name), { app: "store", refreshMs: 600_000, instanceId: "i-quiet" });
    const quietSince = Date.parse(quiet.state().refreshedAt ?? "");
    await eventually("the quiet instance has been silent for over a second", () => Date.now() - quietSince > 1500);
    await eventually("only the live instance is listed", async () => {
      const view = await admin.fleet({ staleAfterMs: 1000 });
      return view.instances.map((i) => i.instanceId).join() === "i-alive";
    });
    // With a longer window, the quiet one is still there.
    const wide = await admin.fleet({ staleAfterMs: 600_000 });
    expect(wide.instances.map((i) => i.instanceId)).toEqual(["i-alive", "i-quiet"]);
  });
});

describe("the control table", () => {
  it("expires items by expiresAt (heartbeats of stopped processes, old mismatches)", async () => {
    const prefix = `${stack.tablePrefix}ttl_`;
    const name = await ensureControlTable(stack.dynamodb(), prefix);
    const ttl = await stack.dynamodb().send(new DescribeTimeToLiveCommand({ TableName: name }));
    expect(ttl.TimeToLiveDescription).toEqual({ TimeToLiveStatus: "ENABLED", AttributeName: "expiresAt" });
  });
});
