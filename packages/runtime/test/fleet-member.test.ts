/**
 * FleetMember: one process of the fleet, its phase store wired to its outbox, on real MariaDB and DynamoDB Local.
 */
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { createMysqlPool, dynamoDbClient } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  addShadowCounts,
  CONTROL_REQUEST_TIMEOUT_MS,
  PhaseChangeRefused,
  PhaseStore,
  recordValidation,
} from "../src/control/index.ts";
import { WritesSuspended } from "../src/errors.ts";
import { FleetMember } from "../src/fleet-member.ts";
import { useContractStores } from "../src/testing/index.ts";

const stack = useTestStack();

const testbed = useContractStores(stack, { contract: new URL("../../../contract/store.yaml", import.meta.url) });

/** How long a health check here gives each store: on CI's loaded cores longer than the 2 s a store's /healthz allows. */
const HEALTH_PROBE_MS = 120_000;

/**
 * A control client without the member's own 5 s request limit, for the tests that are not about that limit: on CI's
 * loaded cores DynamoDB Local can take longer to create the control table or answer a move's reads.
 */
function patientControlClient(): DynamoDBClient {
  const client = dynamoDbClient(stack.dynamodbEndpoint);
  onTestFinished(() => client.destroy());
  return client;
}

/** The phase a write begun now runs under, or the refusal's name (the write is done at once). */
async function phaseOfAWrite(member: FleetMember): Promise<number | string> {
  try {
    const ticket = await member.phase.beginWrite();
    ticket.done();
    return ticket.phase;
  } catch (error) {
    return error instanceof Error ? error.name : String(error);
  }
}

describe("FleetMember", () => {
  it("does not let a store become authoritative while its outbox cannot be read (3 -> 4)", async () => {
    // The app's MySQL is unreachable, so the entries waiting for DynamoDB (kept in MySQL) cannot be counted.
    const unreachable = createMysqlPool("mysql://root@127.0.0.1:1/nothing", { connectionLimit: 1 });
    onTestFinished(() => unreachable.end());
    const member = new FleetMember({
      contract: testbed.contract(),
      mysql: unreachable,
      dynamodb: stack.dynamodb(),
      controlDynamodb: patientControlClient(),
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
    const client = dynamoDbClient(stack.dynamodbEndpoint);
    onTestFinished(() => client.destroy());
    const member = new FleetMember({
      contract: testbed.contract(),
      mysql,
      dynamodb: client,
      controlDynamodb: patientControlClient(),
      tablePrefix: `${stack.tablePrefix}stop_intents_`,
      app: "store",
      log: () => {},
    });
    // What the outbox holds at the moment the heartbeat goes (the last thing a stop does), on the control client.
    let atGoodbye: number | undefined;
    member.phaseStore.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "DeleteItemCommand") atGoodbye = await count();
        return next(args);
      },
      { step: "initialize", name: "goodbye" },
    );
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
    const member = new FleetMember({
      contract: testbed.contract(),
      mysql: testbed.pool(),
      dynamodb: client,
      controlDynamodb: patientControlClient(),
      tablePrefix: `${stack.tablePrefix}health_`,
      app: "store",
      // It takes the announcement of the forced 3 -> 4 below at its next refresh.
      refreshMs: 100,
      // Not heard from for longer than this, it is stale, but writes on within its write lease (30 s).
      staleAfterMs: 100,
      log: () => {},
    });
    // Down for the data's client and the control's.
    for (const each of [client, member.phaseStore.client]) {
      each.middlewareStack.add(
        (next) => async (args) => {
          if (outage.down) throw new Error("DynamoDB is down");
          return next(args);
        },
        { step: "initialize", name: "outage" },
      );
    }
    await member.phaseStore.set(2, { who: "tester@ci" });
    await member.start();
    onTestFinished(() => member.stop());
    expect(await member.health(HEALTH_PROBE_MS)).toMatchObject({
      ok: true,
      writable: true,
      phase: 2,
      mysql: { ok: true },
      dynamodb: { ok: true },
    });

    outage.down = true;
    expect(await member.phase.refresh()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const down = await member.health(HEALTH_PROBE_MS);
    expect(down).toMatchObject({
      ok: true,
      writable: true,
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
    // An operator's mover, with a stale limit of its own (the member's 100 ms would take it for silent between beats,
    // and so could the default 3 s on a loaded machine) and all the time it needs.
    const mover = new PhaseStore(stack.dynamodb(), {
      tablePrefix: `${stack.tablePrefix}health_`,
      staleAfterMs: 600_000,
    });
    await mover.set(3, { who: "tester@ci", force: true, reason: "test", waitMs: 240_000 });
    await mover.set(4, { who: "tester@ci", force: true, reason: "test", waitMs: 240_000 });
    expect(await member.phase.refresh()).toBe(true);
    expect(member.phase.phase()).toBe(4);
    outage.down = true;
    expect(await member.health(HEALTH_PROBE_MS)).toMatchObject({ ok: false, phase: 4, dynamodb: { ok: false } });
    // Back, it serves again; stopping (draining), it does not.
    outage.down = false;
    expect(await member.phase.refresh()).toBe(true);
    expect(await member.health(HEALTH_PROBE_MS)).toMatchObject({ ok: true, phase: 4 });
    await member.phase.drain();
    expect(await member.health(HEALTH_PROBE_MS)).toMatchObject({ ok: false, phase: 4, dynamodb: { ok: true } });
  });

  it("keeps its write lease while every data connection hangs: its phase reads and heartbeats have connections of their own", async () => {
    // A proxy to DynamoDB Local that stops passing on a connection's requests, unanswered, from the first one `holds`
    // picks (a server too busy to answer them), and passes the rest through.
    const target = new URL(stack.dynamodbEndpoint);
    const held: Socket[] = [];
    const piped: Socket[] = [];
    let holds = (_request: string) => false;
    const proxy = createServer((socket) => {
      socket.on("error", () => {});
      const upstream = connect(Number(target.port), target.hostname);
      upstream.on("error", () => socket.destroy());
      piped.push(socket, upstream);
      let holding = false;
      socket.on("data", (chunk: Buffer) => {
        if (!holding && holds(chunk.toString("latin1"))) {
          holding = true;
          held.push(socket);
        }
        if (!holding) upstream.write(chunk);
      });
      upstream.pipe(socket);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const release = () => {
      for (const socket of [...held.splice(0), ...piped.splice(0)]) socket.destroy();
    };
    onTestFinished(async () => {
      release();
      await new Promise((resolve) => proxy.close(resolve));
    });
    // The data's client: two connections at most (the SDK's default is 50, which a busy process fills the same way).
    const client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      region: "us-east-1",
      credentials: { accessKeyId: "ferry", secretAccessKey: "ferry" },
      maxAttempts: 1,
      requestHandler: { httpAgent: { maxSockets: 2 } },
    });
    onTestFinished(() => client.destroy());
    const member = new FleetMember({
      contract: testbed.contract(),
      mysql: testbed.pool(),
      dynamodb: client,
      tablePrefix: `${stack.tablePrefix}own_pool_`,
      app: "store",
      refreshMs: 100,
      writeLeaseMs: 3_000,
      log: () => {},
    });
    await member.phaseStore.set(2, { who: "tester@ci" });
    await member.start();
    onTestFinished(() => member.stop());

    // Both data connections taken by calls the server does not answer.
    holds = (request) => request.includes("DynamoDB_20120810.ListTables");
    const abort = new AbortController();
    const hung = [1, 2].map(() =>
      client.send(new ListTablesCommand({}), { abortSignal: abort.signal }).then(
        () => "answered",
        () => "aborted",
      ),
    );
    await expect.poll(() => held.length).toBe(2);
    const beats = member.phase.state().heartbeats;
    // Twice the lease: the process stays in touch on its own connections, and takes writes. (Polled: a loaded machine
    // may stall a beat past the lease for a moment; a process whose beats shared the hung connections would never
    // renew it, and these polls would run out.)
    await sleep(6_000);
    await expect.poll(() => member.phase.state().heartbeats).toBeGreaterThan(beats + 5);
    await expect.poll(() => phaseOfAWrite(member)).toBe(2);
    // The data's calls still wait.
    expect(held).toHaveLength(2);
    abort.abort();
    expect(await Promise.all(hung)).toEqual(["aborted", "aborted"]);

    // A health probe the server leaves unanswered says so at its limit, and gives its connection back: three of them
    // on the client's two connections, and a data call after them is answered. (Kept, their connections would free
    // only when DynamoDB Local drops them as idle, 30 s on; the call waits 20 s at most.)
    holds = (request) => request.includes("~ferry probe~");
    for (let i = 0; i < 3; i++) {
      expect(await member.health(1_000)).toMatchObject({
        dynamodb: { ok: false, error: "no answer within 1000 ms" },
      });
    }
    holds = () => false;
    const after = await client
      .send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(20_000) })
      .then(
        () => "answered",
        () => "aborted",
      );
    expect(after).toBe("answered");

    // A control call the server leaves unanswered is given up after CONTROL_REQUEST_TIMEOUT_MS, never waited on for
    // good: the next refresh goes on. The lease runs out meanwhile, and writes are refused until it is renewed.
    holds = () => true;
    const asked = Date.now();
    expect(await member.phase.refresh()).toBe(false);
    expect(Date.now() - asked).toBeGreaterThanOrEqual(CONTROL_REQUEST_TIMEOUT_MS - 100);
    expect(member.phase.state().lastError?.message).toMatch(/exceeded the configured 5000 ms requestTimeout/);
    await expect(member.phase.beginWrite()).rejects.toBeInstanceOf(WritesSuspended);
    expect(await member.health(10_000)).toMatchObject({ ok: false, writable: false, phase: 2, mysql: { ok: true } });
    holds = () => false;
    release();
    expect(await member.phase.refresh()).toBe(true);
    await expect.poll(() => phaseOfAWrite(member)).toBe(2);
    expect(await member.health(HEALTH_PROBE_MS)).toMatchObject({ ok: true, writable: true, phase: 2 });
  });
});
