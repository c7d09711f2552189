/**
 * The backfill's run on real stores: the store's demo data moved into DynamoDB with every item the live path would
 * write, refused in phase 1, resumed from its checkpoints, re-run without writing again.
 */

import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { DeleteItemCommand } from "@aws-sdk/client-dynamodb";
import { dynamoDbClient } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it, vi } from "vitest";
import { BackfillLedger } from "../src/backfill/index.ts";
import { BackfillInterrupted, BackfillRefused, checkTables, runBackfill } from "../src/backfill/worker.ts";
import { readBackfillStatus } from "../src/control/backfill-status.ts";
import { heartbeatItem, heartbeatKey } from "../src/control/heartbeats.ts";
import { controlTableName, putControlItem } from "../src/control/table.ts";
import { uniqueMarkerKey } from "../src/dynamodb/unique-markers.ts";
import { applyTables } from "../src/tables/index.ts";
import { useContractStores } from "../src/testing/index.ts";
import { rejection } from "./backfill-fixtures.ts";
import { differencesOf, setPhase } from "./backfill-fixtures-run.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
const services = () => ({
  codec: testbed.codec(),
  mysql: testbed.connection(),
  client: stack.dynamodb(),
  tablePrefix: stack.tablePrefix,
});

describe("ferry backfill run", () => {
  it("is refused in phase 1 with the reason, and writes nothing", async () => {
    const error = await rejection(runBackfill(services(), { contract: "store.yaml", who: "test" }), BackfillRefused);
    expect(error.message).toMatch(/the phase is 1: the backfill needs dual writes \(phase 2 or 3\)/);
    expect(await new BackfillLedger(stack.dynamodb(), { tablePrefix: stack.tablePrefix }).runs()).toEqual([]);
  });

  for (const kind of ["live", "silent"] as const) {
    it(`is refused while a ${kind} process still runs phase 1, naming it`, async () => {
      await setPhase(stack, stack.tablePrefix, 2);
      // A silent one was last heard from 10 s ago, but its write lease runs on (for longer than the test may take on a
      // loaded machine): it may still write under phase 1.
      const lastSeen = new Date(Date.now() - (kind === "silent" ? 10_000 : 0)).toISOString();
      const heartbeat = heartbeatItem(
        {
          instanceId: "laggard-1",
          host: "web-7",
          app: "store",
          versionSeen: 1,
          phaseSeen: 1,
          inFlight: 0,
          startedAt: lastSeen,
          lastSeen,
          writesUntil: new Date(Date.parse(lastSeen) + 600_000).toISOString(),
        },
        60,
      );
      await putControlItem(stack.dynamodb(), stack.tablePrefix, heartbeat);
      try {
        const error = await rejection(
          runBackfill(services(), { contract: "store.yaml", who: "test" }),
          BackfillRefused,
        );
        expect(error.message).toBe(
          "the backfill cannot start: 1 running process does not write both stores with MySQL authoritative: store@web-7 (phase 1); wait until every process runs phase 2",
        );
      } finally {
        await stack
          .dynamodb()
          .send(
            new DeleteItemCommand({ TableName: controlTableName(stack.tablePrefix), Key: heartbeatKey("laggard-1") }),
          );
      }
    });
  }

  it("refuses an entity the contract does not have", async () => {
    await setPhase(stack, stack.tablePrefix, 2);
    const error = await rejection(
      runBackfill(services(), { contract: "store.yaml", who: "test", entities: ["Nope"] }),
      BackfillRefused,
    );
    expect(error.message).toBe("the contract has no entity 'Nope'");
  });

  it("refuses a DynamoDB table that is not there, naming it; reads each table once, never with DescribeTable", async () => {
    const entities = testbed.codec().entities;
    // Every entity of the store is in one table: one GetItem tells it is there. DescribeTable would stop DynamoDB Local
    // for seconds on a big table (dynamodb/table-probe.ts).
    const send = vi.spyOn(stack.dynamodb(), "send");
    const sent: string[] = [];
    await checkTables(services(), entities).finally(() => {
      sent.push(...send.mock.calls.map(([command]) => command.constructor.name));
      send.mockRestore();
    });
    expect(sent).toEqual(["GetItemCommand"]);
    const error = await rejection(
      checkTables({ ...services(), tablePrefix: `${stack.tablePrefix}missing_` }, entities),
      BackfillRefused,
    );
    expect(error.message).toBe(`Category: DynamoDB has no table ${stack.tablePrefix}missing_main`);
    expect(error.hint).toBe("create the contract's tables first: ferry tables apply --contract <file>");
  });

  it("moves every row of every entity, with its markers, and finishes the run", async () => {
    await setPhase(stack, stack.tablePrefix, 2);
    const result = await runBackfill(services(), {
      contract: "store.yaml",
      who: "test",
      pageRows: 7,
      rowsPerSegment: 10,
    });
    expect(result.report.state).toBe("finished");
    expect(result.rejected).toBe(0);
    for (const entity of testbed.codec().entities) {
      expect(await differencesOf(stack, testbed, entity)).toEqual([]);
    }
    const status = await readBackfillStatus(stack.dynamodb(), stack.tablePrefix);
    expect(status?.state).toBe("finished");
    // A unique value is held: the marker is there.
    const { dynamodb, mysql } = testbed.stores();
    const user = (await mysql.list("User", { limit: 1 })).items[0];
    expect(user).toBeDefined();
    const held = await dynamodb.uniqueHolder(
      "User",
      Object.keys(testbed.codec().entity("User").definition.unique ?? {})[0] as string,
      user ?? {},
    );
    expect(held?.owner?.id).toEqual(user?.id);
    expect(result.written).toBe(result.report.written);

    // Again: nothing is written, everything is skipped.
    const again = await runBackfill(services(), { contract: "store.yaml", who: "test" });
    expect(again.written).toBe(0);
    expect(again.skipped).toBe(result.written);
    expect(again.report.state).toBe("finished");

    // An item there and equal whose marker is missing (a worker killed between its items and their markers) is not
    // skipped: a run writes it again, marker and all (the journey found 600 order lines left so).
    const rule = "uq_users_username";
    const marker = uniqueMarkerKey(testbed.codec().entity("User"), rule, user ?? {});
    if (marker === undefined) throw new Error("the user has no username marker");
    await stack.dynamodb().send(new DeleteItemCommand({ TableName: `${stack.tablePrefix}main`, Key: marker }));
    expect(await dynamodb.uniqueHolder("User", rule, user ?? {})).toBeUndefined();
    const mended = await runBackfill(services(), { contract: "store.yaml", who: "test" });
    expect([mended.written, mended.skipped]).toEqual([1, result.written - 1]);
    expect((await dynamodb.uniqueHolder("User", rule, user ?? {}))?.owner?.id).toEqual(user?.id);
    for (const entity of testbed.codec().entities) {
      expect(await differencesOf(stack, testbed, entity)).toEqual([]);
    }
  });

  it("stops with a resumable checkpoint when DynamoDB goes away mid-run, and resumes when it is back", async () => {
    const prefix = `${stack.tablePrefix}lost_`;
    await applyTables(stack.dynamodb(), testbed.contract(), { prefix });
    await setPhase(stack, prefix, 2);
    const target = new URL(stack.dynamodbEndpoint);
    const sockets = new Set<Socket>();
    const proxy = createServer((socket) => {
      const upstream = connect(Number(target.port), target.hostname);
      sockets.add(socket).add(upstream);
      socket.pipe(upstream).pipe(socket);
      const drop = () => {
        socket.destroy();
        upstream.destroy();
      };
      socket.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const port = (proxy.address() as AddressInfo).port;
    const client = dynamoDbClient(`http://127.0.0.1:${port}`);
    let pages = 0;
    const error = await rejection(
      runBackfill(
        { ...services(), client, tablePrefix: prefix },
        {
          contract: "store.yaml",
          who: "test",
          pageRows: 5,
          leaseMs: 1_500,
          checkpointIntervalMs: 0,
          retry: { attempts: 3, baseMs: 5, capMs: 20 },
          hooks: {
            beforeWrite: async () => {
              if (++pages !== 4) return;
              // DynamoDB goes away: the proxy stops and every connection through it is cut.
              await new Promise<void>((resolve) => {
                proxy.close(() => resolve());
                for (const socket of sockets) socket.destroy();
              });
            },
          },
        },
      ),
      BackfillInterrupted,
    );
    client.destroy();
    expect(error.message).toMatch(/^the backfill stopped on \w+ segment #\d+: /);
    expect(error.hint).toBe("the run stays open: run the same command again to resume from the last checkpoint");
    const ledger = new BackfillLedger(stack.dynamodb(), { tablePrefix: prefix });
    const open = await ledger.current();
    expect(open?.state).toBe("running");
    const doneBefore = open?.written ?? 0;
    expect(doneBefore).toBeGreaterThan(0);

    const resumed = await runBackfill({ ...services(), tablePrefix: prefix }, { contract: "store.yaml", who: "test" });
    expect(resumed.runId).toBe(open?.id);
    expect(resumed.report.state).toBe("finished");
    for (const entity of testbed.codec().entities) {
      expect(await differencesOf(stack, testbed, entity, prefix)).toEqual([]);
    }
  });
});
