/**
 * FleetMember: one process of the fleet, its phase store wired to its outbox, on real MariaDB and DynamoDB Local.
 */
import { createMysqlPool, dynamoDbClient } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it, onTestFinished } from "vitest";
import { addShadowCounts, PhaseChangeRefused, PhaseStore, recordValidation } from "../src/control/index.ts";
import { FleetMember } from "../src/fleet-member.ts";
import { useContractStores } from "../src/testing/index.ts";

const stack = useTestStack();

const testbed = useContractStores(stack, { contract: new URL("../../../contract/store.yaml", import.meta.url) });

describe("FleetMember", () => {
  it("does not let a store become authoritative while its outbox cannot be read (3 -> 4)", async () => {
    // The app's MySQL is unreachable, so the entries waiting for DynamoDB (kept in MySQL) cannot be counted.
    const unreachable = createMysqlPool("mysql://root@127.0.0.1:1/nothing", { connectionLimit: 1 });
    onTestFinished(() => unreachable.end());
    const member = new FleetMember({
      contract: testbed.contract(),
      mysql: unreachable,
      dynamodb: stack.dynamodb(),
      tablePrefix: `${stack.tablePrefix}outbox_unread_`,
      app: "store",
      log: () => {},
    });
    const store = member.phaseStore;
    await store.set(3, { who: "tester@ci", force: true, reason: "setup" });
    await recordValidation(store.client, store.tablePrefix, { clean: true, mismatches: 0 });
    await addShadowCounts(store.client, store.tablePrefix, { comparisons: 5000, mismatches: 0 });
    const error = await store.set(4, { who: "tester@ci" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhaseChangeRefused);
    expect(error).toMatchObject({
      rule: "precondition",
      from: 3,
      to: 4,
      reasons: [
        "the outbox for dynamodb cannot be read (MySQL table `ferry_outbox` could not be read), so it is unknown whether writes for it still wait",
      ],
    });
    expect((await store.get()).phase).toBe(3);
  });

  it("stopping, lets its writes in flight finish before it removes their settled intents: none is left behind", async () => {
    const count = async () => {
      const [rows] = await testbed.connection().query("SELECT COUNT(*) AS n FROM ferry_outbox WHERE entity = 'User'");
      return Number((rows as Array<{ n: number }>)[0]?.n);
    };
    // Its own pool, ended right after the stop, as a process that exits (the store's close()): nothing after it runs.
    const mysql = createMysqlPool(stack.mysqlUrl, { connectionLimit: 2 });
    // What the outbox holds at the moment the heartbeat goes (the last thing a stop does).
    const client = dynamoDbClient(stack.dynamodbEndpoint);
    onTestFinished(() => client.destroy());
    let atGoodbye: number | undefined;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "DeleteItemCommand") atGoodbye = await count();
        return next(args);
      },
      { step: "initialize", name: "goodbye" },
    );
    const member = new FleetMember({
      contract: testbed.contract(),
      mysql,
      dynamodb: client,
      tablePrefix: `${stack.tablePrefix}stop_intents_`,
      app: "store",
      log: () => {},
    });
    await member.phaseStore.set(2, { who: "tester@ci" });
    await member.start();
    const intents = member.outbox.intents;
    await intents.ready();
    // A write in flight: its intent recorded with its authoritative write, its copy still going when the stop begins.
    const ticket = await member.phase.beginWrite();
    const intent = await intents.within(mysql, {
      entity: "User",
      operation: "delete",
      store: "dynamodb",
      key: { id: 987_654_321n },
    });
    expect(await count()).toBe(1);
    let stopped = false;
    const stopping = member.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stopped).toBe(false);
    // The write lands and is checked: its intent is settled, then the write is done.
    intents.settled(intent);
    ticket.done();
    await stopping;
    await mysql.end();
    // Removed before the heartbeat went, not left for its grace (which would hold the next move of the authority).
    expect(atGoodbye).toBe(0);
    expect(await count()).toBe(0);
  });

  it("answers healthy through a DynamoDB outage within its write lease while MySQL serves (phase 2), not once DynamoDB serves (4)", async () => {
    const client = dynamoDbClient(stack.dynamodbEndpoint);
    onTestFinished(() => client.destroy());
    const outage = { down: false };
    client.middlewareStack.add(
      (next) => async (args) => {
        if (outage.down) throw new Error("DynamoDB is down");
        return next(args);
      },
      { step: "initialize", name: "outage" },
    );
    const member = new FleetMember({
      contract: testbed.contract(),
      mysql: testbed.connection(),
      dynamodb: client,
      tablePrefix: `${stack.tablePrefix}health_`,
      app: "store",
      // It takes the announcement of the forced 3 -> 4 below at its next refresh.
      refreshMs: 100,
      // Not heard from for longer than this, it is stale, but writes on within its write lease (30 s).
      staleAfterMs: 100,
      log: () => {},
    });
    await member.phaseStore.set(2, { who: "tester@ci" });
    await member.start();
    onTestFinished(() => member.stop());
    expect(await member.health()).toMatchObject({ ok: true, phase: 2, mysql: { ok: true }, dynamodb: { ok: true } });

    outage.down = true;
    expect(await member.phase.refresh()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const down = await member.health();
    expect(down).toMatchObject({
      ok: true,
      phase: 2,
      mysql: { ok: true },
      dynamodb: { ok: false, error: "DynamoDB is down" },
    });
    // It writes on: a write under phase 2 begins.
    const ticket = await member.phase.beginWrite();
    expect(ticket.phase).toBe(2);
    ticket.done();

    // In phase 4 DynamoDB serves: without it the process is not healthy.
    outage.down = false;
    expect(await member.phase.refresh()).toBe(true);
    // An operator's mover, with the default stale limit (the member's 100 ms would take it for silent between beats).
    const mover = new PhaseStore(stack.dynamodb(), { tablePrefix: `${stack.tablePrefix}health_` });
    await mover.set(3, { who: "tester@ci", force: true, reason: "test" });
    await mover.set(4, { who: "tester@ci", force: true, reason: "test" });
    expect(await member.phase.refresh()).toBe(true);
    expect(member.phase.phase()).toBe(4);
    outage.down = true;
    expect(await member.health()).toMatchObject({ ok: false, phase: 4, dynamodb: { ok: false } });
    // Back, it serves again; stopping (draining), it does not.
    outage.down = false;
    expect(await member.phase.refresh()).toBe(true);
    expect(await member.health()).toMatchObject({ ok: true, phase: 4 });
    await member.phase.drain();
    expect(await member.health()).toMatchObject({ ok: false, phase: 4, dynamodb: { ok: true } });
  });
});
