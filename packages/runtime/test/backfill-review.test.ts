/**
 * Second reader's tests of the backfill (issue 11 review). Each forces one interleaving or input deterministically on
 * real MariaDB and DynamoDB Local; each is expected to FAIL on ea13025 (they document defects).
 */
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it } from "vitest";
import type { BackfillHooks } from "../src/backfill/index.ts";
import { BackfillLedger, runBackfill } from "../src/backfill/index.ts";
import type { EntityValue } from "../src/codec/index.ts";
import { DynamoEntityStore } from "../src/dynamodb/index.ts";
import type { MysqlExecutor } from "../src/mysql/store.ts";
import { applyTables } from "../src/tables/index.ts";
import { useContractStores } from "../src/testing/index.ts";
import { differencesOf, setPhase } from "./backfill-fixtures-run.ts";
import { routingOver } from "./routing.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
const routing = routingOver(stack, testbed);

let serial = 0;
async function freshPrefix(): Promise<string> {
  const prefix = `${stack.tablePrefix}rv${++serial}_`;
  await applyTables(stack.dynamodb(), testbed.contract(), { prefix });
  await setPhase(stack, prefix, 2);
  return prefix;
}

function services(prefix: string, mysql: MysqlExecutor = testbed.connection()) {
  return { codec: testbed.codec(), mysql, client: stack.dynamodb(), tablePrefix: prefix };
}

async function legacyUser(tag: string) {
  const { mysql } = testbed.stores();
  const n = `${tag}_${++serial}_${Date.now()}`;
  return (await mysql.create("User", {
    username: `u_${n}`,
    email: `e_${n}@example.com`,
    passwordHash: "scrypt$x",
    firstName: "Legacy",
  })) as { id: bigint; username: string; email: string };
}

/** Hooks that run `live` once, on the first page holding `id`. */
function once(id: bigint, live: () => Promise<unknown>) {
  let fired = 0;
  const hook = async (_entity: string, keys: readonly EntityValue[]) => {
    if (fired > 0 || !keys.some((key) => key.id === id)) return;
    fired++;
    await live();
  };
  return { hook, fired: () => fired };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("backfill review", () => {
  it("a user whose second marker is held elsewhere is written, not rejected with its own first marker orphaned", async () => {
    const prefix = await freshPrefix();
    const { mysql } = testbed.stores();
    const dynamodb = new DynamoEntityStore(stack.dynamodb(), testbed.codec(), { tablePrefix: prefix });
    const s = await legacyUser("s");
    const r = await legacyUser("r");
    // S renamed on MySQL u -> u2 while its DynamoDB copy waits in the outbox: DynamoDB's S still holds username u.
    // R then took u on MySQL (R is cold: never written on DynamoDB yet).
    const codec = testbed.codec().entity("User");
    const staleS = (await mysql.get("User", { id: s.id })) as EntityValue;
    const held = `held_${serial}_${Date.now()}`;
    await dynamodb.create("User", { ...staleS, username: held });
    await mysql.update("User", { id: s.id }, { username: `${held}_renamed` });
    await mysql.update("User", { id: r.id }, { username: held });
    expect(codec.name).toBe("User");

    const result = await runBackfill(services(prefix), {
      contract: "store.yaml",
      who: "review",
      entities: ["User"],
      pageRows: 50,
    });
    expect(result.report.state).toBe("finished");
    // KeySync alone (the live path) would move S off the username and create R; the backfill should do no worse.
    const ledger = new BackfillLedger(stack.dynamodb(), { tablePrefix: prefix });
    expect((await ledger.rejected(result.runId)).rows.map((row) => row.reason)).toEqual([]);
    expect(result.rejected).toBe(0);
    expect((await dynamodb.get("User", { id: r.id }))?.username).toBe(held);
    expect(await differencesOf(stack, testbed, "User", prefix)).toEqual([]);
  });

  it("a live update of a cold user between the page's read and its bulk write copies without a failure", async () => {
    const prefix = await freshPrefix();
    const { failures, router } = routing(2);
    const live = router({ tablePrefix: prefix });
    const r = await legacyUser("cold");
    const { hook, fired } = once(r.id, () => live.update("User", { id: r.id }, { firstName: "Live" }));
    const result = await runBackfill(services(prefix), {
      contract: "store.yaml",
      who: "review",
      entities: ["User"],
      pageRows: 50,
      hooks: { beforeWrite: hook },
    });
    expect(fired()).toBe(1);
    expect(result.report.state).toBe("finished");
    expect(await differencesOf(stack, testbed, "User", prefix)).toEqual([]);
    // The live copy's re-sync tried to create the item and hit the marker the backfill had put ahead of it.
    expect(failures.map((f) => String(f.error))).toEqual([]);
  });

  it("the orphan marker of a middle value (docs/backfill.md's limit) is freed by the next re-sync that needs it", async () => {
    const prefix = await freshPrefix();
    const { failures, router } = routing(2);
    const live = router({ tablePrefix: prefix });
    const dynamodb = new DynamoEntityStore(stack.dynamodb(), testbed.codec(), { tablePrefix: prefix });
    const tag = `${++serial}_${Date.now()}`;
    const c = (await testbed.stores().mysql.create("Category", { parentId: 1n, name: `first_${tag}` })) as {
      id: bigint;
    };
    const middle = `middle_${tag}`;
    const a = once(c.id, () => live.update("Category", { id: c.id }, { name: middle }));
    const b = once(c.id, () => live.update("Category", { id: c.id }, { name: `last_${tag}` }));
    const hooks: BackfillHooks = { beforeWrite: a.hook, beforeReread: b.hook };
    const result = await runBackfill(services(prefix), {
      contract: "store.yaml",
      who: "review",
      entities: ["Category"],
      pageRows: 50,
      hooks,
    });
    expect(a.fired() + b.fired()).toBe(2);
    expect(result.report.state).toBe("finished");
    expect(failures.map((f) => String(f.error))).toEqual([]);
    expect((await dynamodb.get("Category", { id: c.id }))?.name).toBe(`last_${tag}`);
    // The doc admits this orphan: the middle value's marker, owned by an item that holds another value ...
    const holder = await dynamodb.uniqueHolder("Category", "uq_categories_parent_name", { parentId: 1n, name: middle });
    expect(holder?.owner?.id).toBe(c.id);
    // ... and says the re-sync of a key frees it when it gets in its way: another category takes the middle name.
    const other = (await live.create("Category", { parentId: 1n, name: middle })) as { id: bigint };
    expect(failures.map((f) => String(f.error))).toEqual([]);
    expect((await dynamodb.get("Category", { id: other.id }))?.name).toBe(middle);
  });

  it("two workers whose pages take longer than the lease still finish the run (no take-over livelock)", async () => {
    const prefix = await freshPrefix();
    for (let i = 0; i < 3; i++) await legacyUser("slow");
    const controller = new AbortController();
    let pages = 0;
    const options = (worker: string) => ({
      contract: "store.yaml",
      who: "review",
      worker,
      entities: ["Category"],
      pageRows: 4,
      leaseMs: 1_100,
      signal: controller.signal,
      hooks: {
        beforeWrite: async () => {
          pages++;
          await sleep(1_600);
        },
      },
    });
    // A livelock would go on for ever: stopped well past what the pages take (about 15 s alone,
    // many times that on CI's loaded cores), below the test's ceiling.
    const timer = setTimeout(() => controller.abort(), 240_000);
    const runs = await Promise.allSettled([
      runBackfill(services(prefix), options("w1")),
      (async () => {
        await sleep(200);
        return runBackfill(services(prefix), options("w2"));
      })(),
    ]);
    clearTimeout(timer);
    const states = runs.map((run) => (run.status === "fulfilled" ? run.value.report.state : String(run.reason)));
    // Category has a few dozen demo rows: 4 a page, each page 1.6 s > the 1.1 s lease.
    expect({ aborted: controller.signal.aborted, states, pages }).toMatchObject({ aborted: false });
  }, 600_000);

  it("a row that keeps changing while it is re-synced does not stop the backfill", async () => {
    const prefix = await freshPrefix();
    const { mysql } = testbed.stores();
    const r = await legacyUser("hot");
    let hot = false;
    let bumps = 0;
    const base = testbed.connection();
    const executor: MysqlExecutor = {
      query: async (options) => {
        const out = await base.query(options);
        // After every by-key read of the hot row once the page is past its bulk write, a live write lands.
        if (
          hot &&
          /^SELECT/i.test(options.sql) &&
          /`users`/.test(options.sql) &&
          String(options.values?.[0]) === String(r.id)
        ) {
          await mysql.update("User", { id: r.id }, { firstName: `bump ${++bumps}` });
        }
        return out;
      },
    };
    const { hook } = once(r.id, async () => {
      await mysql.update("User", { id: r.id }, { firstName: "changed after read" });
      hot = true;
    });
    const run = runBackfill(services(prefix, executor), {
      contract: "store.yaml",
      who: "review",
      entities: ["User"],
      pageRows: 50,
      hooks: { beforeReread: hook },
    });
    const outcome = await run.then(
      (result) => result.report.state,
      (error: Error) => `${error.name}: ${error.message}`,
    );
    hot = false;
    expect(outcome).toBe("finished");
  });

  it("in phase 5 (DynamoDB the only store) a backfill neither reverts nor resurrects items", async () => {
    const prefix = await freshPrefix();
    const { mysql } = testbed.stores();
    const dynamodb = new DynamoEntityStore(stack.dynamodb(), testbed.codec(), { tablePrefix: prefix });
    const changed = await legacyUser("p5changed");
    const deleted = await legacyUser("p5deleted");
    // Both rows were moved while MySQL was written; then phase 4 and 5: DynamoDB took writes MySQL never saw.
    await dynamodb.create("User", (await mysql.get("User", { id: changed.id })) as EntityValue);
    await setPhase(stack, prefix, 4);
    await setPhase(stack, prefix, 5);
    await dynamodb.update("User", { id: changed.id }, { firstName: "written in phase 5" });
    expect(await dynamodb.get("User", { id: deleted.id })).toBeUndefined(); // deleted in phase 5 (or never moved)
    const outcome = await runBackfill(services(prefix), {
      contract: "store.yaml",
      who: "review",
      entities: ["User"],
      pageRows: 50,
    }).then(
      (result) => result.report.state,
      (error: Error) => error.name,
    );
    expect({
      outcome,
      changed: (await dynamodb.get("User", { id: changed.id }))?.firstName,
      resurrected: (await dynamodb.get("User", { id: deleted.id })) !== undefined,
    }).toEqual({ outcome: "BackfillRefused", changed: "written in phase 5", resurrected: false });
  });
});
