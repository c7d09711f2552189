/**
 * Background copies (src/router/background.ts): a dual write answers once its authoritative write and its intent are
 * committed; its copy to the other store lands after, on real MariaDB and DynamoDB Local. Each copy here is held at a
 * gate until the test lets it go, so every ordering below is forced, not hoped for.
 */
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it } from "vitest";
import { DynamoEntityStore } from "../src/dynamodb/index.ts";
import { IdAllocator } from "../src/ids/index.ts";
import { MysqlEntityStore } from "../src/mysql/index.ts";
import { Outbox } from "../src/outbox/index.ts";
import type { Phase, PhaseSource, WriteTicket } from "../src/phases.ts";
import { BackgroundCopies, EntityRouter } from "../src/router/index.ts";
import { SettablePhase, useContractStores } from "../src/testing/index.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});

/** A phase source that counts the writes in flight (their tickets), as a CachedPhase's move barrier does. */
class CountedPhase implements PhaseSource {
  open = 0;
  constructor(private readonly value: Phase) {}
  phase(): Phase {
    return this.value;
  }
  async beginWrite(): Promise<WriteTicket> {
    this.open++;
    let finished = false;
    return {
      phase: this.value,
      done: () => {
        if (!finished) this.open--;
        finished = true;
      },
    };
  }
}

/** A store whose `operation` calls wait at a gate, opened by `release()`; `entered` counts the calls that arrived. */
function gated<T extends object>(store: T, operation: string) {
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const state = { entered: 0 };
  const held = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      if (property === operation) {
        return async (...args: unknown[]) => {
          state.entered++;
          await gate;
          return (value as (...args: unknown[]) => unknown).apply(target, args);
        };
      }
      return (value as (...args: unknown[]) => unknown).bind(target);
    },
  });
  return { held, release, state };
}

/**
 * A router in `phase` whose secondary store's `operation` is gated, with the outbox's intents (unless `intents` is
 * false) and `limit` background copies.
 */
async function setUp(phase: Phase, operation: string, options: { limit?: number; intents?: boolean } = {}) {
  const codec = testbed.codec();
  const mysql = new MysqlEntityStore(await stack.mysql(), codec);
  const dynamodb = new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: stack.tablePrefix });
  const source = new CountedPhase(phase);
  const outbox = new Outbox({
    phase: new SettablePhase(phase),
    codec,
    mysql,
    dynamodb,
    mysqlConnection: testbed.pool(),
    controlTable: { client: stack.dynamodb(), tablePrefix: stack.tablePrefix },
    log: () => {},
  });
  // The secondary store is gated: DynamoDB while MySQL is authoritative, MySQL from phase 4 on.
  const mysqlGate = gated(mysql, phase < 4 ? "none" : operation);
  const dynamodbGate = gated(dynamodb, phase < 4 ? operation : "none");
  const gate = phase < 4 ? dynamodbGate : mysqlGate;
  const copies = new BackgroundCopies(options.limit ?? 8);
  const router = new EntityRouter({
    phase: source,
    codec,
    mysql: mysqlGate.held,
    dynamodb: dynamodbGate.held,
    ids: new IdAllocator(stack.dynamodb(), { tablePrefix: stack.tablePrefix }),
    onSecondaryFailure: outbox.record,
    ...(options.intents === false ? {} : { intents: outbox.intents }),
    background: copies,
  });
  /** The outbox's entries for `store`, waiting or in flight (an intent whose copy is still going counts in flight). */
  const entries = async () => {
    await outbox.intents.removed();
    const metrics = await outbox.metrics();
    return {
      mysql: { waiting: metrics.mysql.depth, inFlight: metrics.mysql.inFlight },
      dynamodb: { waiting: metrics.dynamodb.depth, inFlight: metrics.dynamodb.inFlight },
    };
  };
  return {
    router,
    source,
    gate: { release: gate.release, state: gate.state },
    copies,
    entries,
    stores: { mysql, dynamodb },
  };
}

let serial = 0;
const user = (name: string) => {
  const username = `${name}_${++serial}_${Date.now() % 100_000}`;
  return { username, email: `${username}@example.com`, passwordHash: "scrypt$x", firstName: "In" };
};

/** Whether `promise` has settled after the event loop has had `ms` to run what it could. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((resolve) => setTimeout(resolve, ms));
  return settled;
}

describe("background copies", () => {
  it("phase 3: a create answers with MySQL's row while its DynamoDB copy is held; the write stays in flight until the copy is checked", async () => {
    const { router, source, gate, copies, entries, stores } = await setUp(3, "create");
    const created = await router.create<{ id: bigint; firstName: string }>("User", user("early"));
    // Answered: MySQL has it, DynamoDB not yet (its copy waits at the gate); the intent is on record (in flight), the
    // ticket still open.
    await expect.poll(() => gate.state.entered).toBe(1);
    expect((await stores.mysql.get("User", { id: created.id }))?.firstName).toBe("In");
    expect(await stores.dynamodb.get("User", { id: created.id })).toBeUndefined();
    expect(copies.size).toBe(1);
    expect(source.open).toBe(1);
    expect((await entries()).dynamodb).toEqual({ waiting: 0, inFlight: 1 });
    gate.release();
    await copies.settled();
    expect((await stores.dynamodb.get("User", { id: created.id }))?.firstName).toBe("In");
    expect(source.open).toBe(0);
    expect(await entries()).toEqual({ mysql: { waiting: 0, inFlight: 0 }, dynamodb: { waiting: 0, inFlight: 0 } });
  });

  it("phase 4: an update answers with DynamoDB's change while its MySQL copy is held", async () => {
    const first = await setUp(3, "none");
    const created = await first.router.create<{ id: bigint }>("User", user("four"));
    await first.copies.settled();
    const { router, source, gate, copies, entries, stores } = await setUp(4, "update");
    await router.update("User", { id: created.id }, { firstName: "Four" });
    expect((await stores.dynamodb.get("User", { id: created.id }))?.firstName).toBe("Four");
    expect((await stores.mysql.get("User", { id: created.id }))?.firstName).toBe("In");
    expect(source.open).toBe(1);
    expect((await entries()).mysql).toEqual({ waiting: 0, inFlight: 1 });
    gate.release();
    await copies.settled();
    expect((await stores.mysql.get("User", { id: created.id }))?.firstName).toBe("Four");
    expect(source.open).toBe(0);
    expect((await entries()).mysql).toEqual({ waiting: 0, inFlight: 0 });
  });

  it("a write past the limit waits for its own copy", async () => {
    const { router, gate, copies, entries } = await setUp(3, "create", { limit: 1 });
    await router.create("User", user("first"));
    expect(copies.size).toBe(1);
    const second = router.create("User", user("second"));
    // Its copy has reached the gate, and the write has not answered: it waits for the copy, as without a background.
    while (gate.state.entered < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await settledWithin(second, 100)).toBe(false);
    expect(copies.size).toBe(1);
    gate.release();
    await second;
    await copies.settled();
    expect(copies.size).toBe(0);
    expect((await entries()).dynamodb).toEqual({ waiting: 0, inFlight: 0 });
  });

  it("without intents every write waits for its copy: nothing would replay a copy its process did not live to make", async () => {
    const { router, gate, copies, stores } = await setUp(3, "delete", { intents: false });
    const created = await router.create<{ id: bigint }>("User", user("nointent"));
    const deleting = router.delete("User", { id: created.id });
    while (gate.state.entered < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await settledWithin(deleting, 100)).toBe(false);
    expect(copies.size).toBe(0);
    gate.release();
    expect(await deleting).toBe(true);
    expect(await stores.dynamodb.get("User", { id: created.id })).toBeUndefined();
  });

  it("a process that dies with its copy still held leaves the intent, which another process's drain replays", async () => {
    const { router, gate, copies, entries, stores } = await setUp(3, "update");
    const created = await router.create<{ id: bigint }>("User", user("orphan"));
    await copies.settled();
    expect((await entries()).dynamodb).toEqual({ waiting: 0, inFlight: 0 });
    await router.update("User", { id: created.id }, { firstName: "Replayed" });
    expect((await stores.dynamodb.get("User", { id: created.id }))?.firstName).toBe("In");
    // This process is as good as dead: its copy never goes on. Another one drains what is on record (past the grace).
    const other = new Outbox({
      phase: new SettablePhase(3),
      codec: testbed.codec(),
      mysql: stores.mysql,
      dynamodb: stores.dynamodb,
      mysqlConnection: testbed.pool(),
      controlTable: { client: stack.dynamodb(), tablePrefix: stack.tablePrefix },
      log: () => {},
    });
    expect(await other.drain({ force: true })).toMatchObject({ synced: 1, failed: 0, remaining: 0 });
    expect((await stores.dynamodb.get("User", { id: created.id }))?.firstName).toBe("Replayed");
    // Coming back after all, the held copy changes nothing.
    gate.release();
    await copies.settled();
    expect((await stores.dynamodb.get("User", { id: created.id }))?.firstName).toBe("Replayed");
  });

  it("the copy works on its own copy of the key and the changes: a caller that reuses them once answered changes nothing it writes", async () => {
    const first = await setUp(3, "none");
    const one = await first.router.create<{ id: bigint }>("User", user("mine"));
    const other = await first.router.create<{ id: bigint }>("User", user("theirs"));
    await first.copies.settled();
    const { router, gate, copies, stores } = await setUp(3, "update");
    const key = { id: one.id };
    const changes = { firstName: "Mine" };
    await router.update("User", key, changes);
    // Answered, the copy held: the caller reuses its objects for the next user.
    key.id = other.id;
    changes.firstName = "Not mine";
    gate.release();
    await copies.settled();
    expect((await stores.dynamodb.get("User", { id: one.id }))?.firstName).toBe("Mine");
    expect((await stores.dynamodb.get("User", { id: other.id }))?.firstName).toBe("In");
    expect((await stores.mysql.get("User", { id: other.id }))?.firstName).toBe("In");
  });
});
