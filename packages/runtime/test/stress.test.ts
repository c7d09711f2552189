/**
 * The randomized stress test of dual writes (docs/convergence.md): a fleet of real processes
 * (test/fixtures/stress-writer.ts), each a FleetMember with several concurrent writers (creates, renames, email
 * changes and swaps, deletes, stock taken one at a time and by checkout), their DynamoDB requests delayed and, in
 * outage windows, a tenth of them failed before they are sent; meanwhile an operator moves the phase 2 -> 3 -> 4 -> 3
 * -> 4 (unforced, through the barrier, tried again while the fleet catches up), one process picking every move up
 * late. At the end, after the outbox has drained, both stores hold the same data for everything written (compared
 * through the codec, unique markers included), and every write the writers were told succeeded is in the
 * authoritative store.
 *
 * A fixed seed and a short run in CI; FERRY_STRESS_MS (duration) and FERRY_STRESS_SEED run it longer or otherwise.
 */
import { fileURLToPath } from "node:url";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it } from "vitest";
import {
  addShadowCounts,
  PhaseChangeRefused,
  PhaseMoveTimedOut,
  PhaseStore,
  recordBackfillStatus,
  recordValidation,
} from "../src/control/index.ts";
import { uniqueMarkerKey } from "../src/dynamodb/unique-markers.ts";
import { encodeKey } from "../src/outbox/entry.ts";
import { DynamoOutboxStorage, Outbox } from "../src/outbox/index.ts";
import type { Phase } from "../src/phases.ts";
import { SettablePhase, useContractStores } from "../src/testing/index.ts";
import { runFixture } from "./fixtures/child.ts";
import { routingOver } from "./routing.ts";

const stack = useTestStack();
const contractPath = fileURLToPath(new URL("../../../contract/store.yaml", import.meta.url));
const testbed = useContractStores(stack, {
  contract: contractPath,
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
const routing = routingOver(stack, testbed);

const DURATION_MS = Number(process.env.FERRY_STRESS_MS ?? 12_000);
const SEED = Number(process.env.FERRY_STRESS_SEED ?? 7);
const PRICE = "10.00";
const STOCK = 100_000;
/** Refresh intervals of the fleet's processes: the last one picks every move up late. */
const REFRESH_MS = [150, 150, 2_000];
/** Shares of the run in which a tenth of the fleet's DynamoDB requests fail: outages, each over before a move. */
const FAULT_WINDOWS: Array<[number, number]> = [
  [0.02, 0.1],
  [0.2, 0.28],
  [0.4, 0.48],
  [0.6, 0.68],
  [0.8, 0.95],
];
/** The moves, as shares of the run. */
const MOVES: Array<[number, Phase]> = [
  [0.15, 3],
  [0.35, 4],
  [0.55, 3],
  [0.75, 4],
];

interface Report {
  users: Array<{ id: string; state: "live" | "deleted" | "uncertain"; email: string; firstName: string }>;
  emails: string[];
  taken: Record<string, number>;
  uncertainProducts: string[];
  orders: string[];
  errors: Record<string, number>;
  messages: string[];
  logged: string[];
}

async function writerProcess(index: number, products: bigint[]): Promise<Report> {
  const writer = runFixture("stress-writer", stack, {
    INDEX: String(index),
    SEED: String(SEED),
    REFRESH_MS: String(REFRESH_MS[index]),
    DURATION_MS: String(DURATION_MS),
    PRODUCTS: JSON.stringify(products.map(String)),
    PRICE,
    FAIL_RATE: "0.1",
    FAULT_WINDOWS: JSON.stringify(FAULT_WINDOWS),
    DELAY_MAX_MS: "15",
    WRITERS: "4",
  });
  const { code } = await writer.exited;
  const { stdout, stderr } = writer.output();
  const last = stdout.trim().split("\n").at(-1) ?? "";
  if (code !== 0 || !last.startsWith("{"))
    throw new Error(`stress writer ${index} exited ${code}: ${stderr.slice(-2000)}`);
  return JSON.parse(last) as Report;
}

describe("dual writes under stress", () => {
  it(`a fleet of 3 processes with faults and phase moves ends with both stores equal (seed ${SEED})`, async () => {
    const { mysql, dynamodb } = testbed.stores();
    const codec = testbed.codec();
    const outboxIn = (phase: Phase) =>
      new Outbox({
        phase: new SettablePhase(phase),
        codec,
        mysql,
        dynamodb,
        mysqlConnection: testbed.pool(),
        controlTable: { client: stack.dynamodb(), tablePrefix: stack.tablePrefix },
        log: () => {},
      });
    // The operator's phase store: unforced moves, with the outbox rail (failed copies and writes in flight count).
    const operatorsOutbox = outboxIn(2);
    const phases = new PhaseStore(stack.dynamodb(), {
      tablePrefix: stack.tablePrefix,
      pendingWrites: async (store, { inFlight }) => {
        const waiting = (await operatorsOutbox.metrics())[store];
        return waiting.depth + (inFlight ? waiting.inFlight : 0);
      },
    });
    await phases.set(2, { who: "stress test" });
    // What the backfill and the validation (issue 11) will record: their rails are not what this test is about.
    const { client, tablePrefix } = { client: stack.dynamodb(), tablePrefix: stack.tablePrefix };
    await recordBackfillStatus(client, tablePrefix, { state: "running" });
    await recordBackfillStatus(client, tablePrefix, { state: "finished" });
    await recordValidation(client, tablePrefix, { clean: true, mismatches: 0 });
    await addShadowCounts(client, tablePrefix, { comparisons: 10_000, mismatches: 0 });
    /**
     * A move as an operator makes it: tried again while the fleet catches up (the late process) or drains, for up to
     * 5 minutes (a ceiling for CI's loaded cores, where a heartbeat can age past the 3 s stale limit for a moment).
     */
    const moved = async (to: Phase): Promise<string> => {
      let last = "";
      const deadline = Date.now() + 300_000;
      for (let attempt = 1; ; attempt++) {
        try {
          await phases.set(to, { who: "stress test", waitMs: 10_000 });
          return attempt === 1 ? `-> ${to}` : `-> ${to} (attempt ${attempt})`;
        } catch (error) {
          if (!(error instanceof PhaseChangeRefused || error instanceof PhaseMoveTimedOut)) throw error;
          last = error.message;
          if (Date.now() > deadline) {
            const [rows] = (await testbed.connection().query("SELECT * FROM ferry_outbox")) as unknown as [unknown[]];
            const control = await new DynamoOutboxStorage(stack.dynamodb(), stack.tablePrefix).head("mysql", 10);
            last += ` (entries: ${encodeKey({ rows: rows.slice(0, 5), control } as never)})`;
            throw new Error(`the move to ${to} was refused ${attempt} times in 5 minutes; last: ${last}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    };
    const setup = routing(2).router();
    const seller = await setup.create<{ id: bigint }>("User", {
      username: `stress_seller_${SEED}`,
      email: `stress_seller_${SEED}@stress.example`,
      passwordHash: "scrypt$x",
      firstName: "Seller",
    });
    const [categories] = (await testbed
      .connection()
      .query("SELECT id FROM categories ORDER BY id LIMIT 1")) as unknown as [Array<{ id: number }>];
    const categoryId = BigInt(categories[0]?.id ?? 0);
    const products: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const product = await setup.create<{ id: bigint }>("Product", {
        sellerId: seller.id,
        categoryId,
        name: `stress ${i}`,
        price: PRICE,
        inventoryQuantity: STOCK,
      });
      products.push(product.id);
    }

    const fleet = REFRESH_MS.map((_, index) => writerProcess(index, products));
    const moves: string[] = [];
    const mover = (async () => {
      let at = 0;
      for (const [share, to] of MOVES) {
        await new Promise((resolve) => setTimeout(resolve, share * DURATION_MS - at));
        at = share * DURATION_MS;
        try {
          moves.push(await moved(to));
          // Phase 3's shadow reads compare (what a real fleet's reads would count); 3 -> 4 needs enough of them.
          if (to === 3) await addShadowCounts(client, tablePrefix, { comparisons: 10_000, mismatches: 0 });
        } catch (error) {
          moves.push(`-> ${to} refused: ${(error as Error).message}`);
        }
      }
    })();
    const reports = await Promise.all(fleet);
    await mover;
    const final = (await phases.get()).phase;

    // Another process drains what is left (entries due at once, intents of writes still within their grace).
    const outbox = outboxIn(final);
    for (let pass = 0; pass < 20; pass++) {
      const drained = await outbox.drain({ force: true, limit: 1_000 });
      if (drained.remaining === 0) break;
    }
    const left = await outbox.metrics();
    if (left.mysql.depth + left.dynamodb.depth > 0) {
      const [rows] = (await testbed.connection().query("SELECT * FROM ferry_outbox")) as unknown as [unknown[]];
      const control = await new DynamoOutboxStorage(stack.dynamodb(), stack.tablePrefix).head("mysql", 10);
      console.log(`stress: left: ${encodeKey({ rows: rows.slice(0, 5), control } as never)}`);
    }

    const summary = {
      moves,
      final,
      users: reports.reduce((n, r) => n + r.users.length, 0),
      orders: reports.reduce((n, r) => n + r.orders.length, 0),
      taken: reports.reduce((n, r) => n + Object.values(r.taken).reduce((a, b) => a + b, 0), 0),
      errors: reports.map((r) => r.errors),
      messages: reports.flatMap((r) => r.messages),
      logged: reports.flatMap((r) => r.logged),
    };
    console.log(`stress: ${JSON.stringify(summary)}`);
    expect(moves.map((move) => move.replace(/ \(attempt \d+\)$/, ""))).toEqual(MOVES.map(([, to]) => `-> ${to}`));
    expect({ mysql: left.mysql.depth, dynamodb: left.dynamodb.depth }).toEqual({ mysql: 0, dynamodb: 0 });

    const problems: string[] = [];
    const differs = async (entity: string, key: Record<string, unknown>) => {
      const [m, d] = [await mysql.get(entity, key as never), await dynamodb.get(entity, key as never)];
      if (m === undefined || d === undefined) {
        if (m !== d)
          problems.push(`${entity} ${JSON.stringify(String(Object.values(key)))}: only on ${m ? "mysql" : "dynamodb"}`);
        return m ?? d;
      }
      const diff = codec.entity(entity).diff(m, d);
      if (diff.length > 0) problems.push(`${entity} ${String(Object.values(key))}: ${JSON.stringify(diff)}`);
      return m;
    };

    // Users: equal on both stores, as the writers were told (unless a failed request left it uncertain).
    for (const report of reports) {
      for (const user of report.users) {
        const stored = await differs("User", { id: BigInt(user.id) });
        if (user.state === "live" && (stored?.email !== user.email || stored?.firstName !== user.firstName)) {
          problems.push(
            `User ${user.id}: told ${user.email}/${user.firstName}, stored ${stored?.email}/${stored?.firstName}`,
          );
        }
        if (user.state === "deleted" && stored !== undefined)
          problems.push(`User ${user.id}: told deleted, still there`);
      }
    }
    // Unique markers: every email ever used is marked on DynamoDB exactly when a user holds it, and by that user.
    const userCodec = codec.entity("User");
    const table = `${stack.tablePrefix}${codec.contract.entities.User?.table ?? ""}`;
    for (const email of reports.flatMap((r) => r.emails)) {
      const [holders] = (await testbed
        .connection()
        .query("SELECT id FROM users WHERE email = ?", [email])) as unknown as [Array<{ id: number }>];
      const key = uniqueMarkerKey(userCodec, "uq_users_email", { email });
      const marker = key
        ? (await stack.dynamodb().send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item
        : undefined;
      const holder = holders[0];
      if (holder === undefined) {
        if (marker !== undefined) problems.push(`email ${email}: nobody holds it, and its marker is still there`);
        continue;
      }
      const owner = userCodec.key({ id: BigInt(holder.id) });
      const owned = Object.entries(owner).every(
        ([name, value]) => JSON.stringify(marker?.[`owner${name}`]) === JSON.stringify(value),
      );
      if (!owned) problems.push(`email ${email}: held by user ${holder.id}, marker ${JSON.stringify(marker)}`);
    }
    // Stock: equal on both stores, and exactly what the acknowledged takes left.
    for (const product of products) {
      const stored = await differs("Product", { id: product });
      const takenTotal = reports.reduce((n, r) => n + (r.taken[String(product)] ?? 0), 0);
      const uncertain = reports.some((r) => r.uncertainProducts.includes(String(product)));
      if (!uncertain && stored?.inventoryQuantity !== STOCK - takenTotal) {
        problems.push(`Product ${product}: ${takenTotal} taken from ${STOCK}, stock ${stored?.inventoryQuantity}`);
      }
    }
    // Orders: every acknowledged one on both stores.
    for (const order of reports.flatMap((r) => r.orders)) {
      const stored = await differs("Order", { id: BigInt(order) });
      if (stored === undefined) problems.push(`Order ${order}: acknowledged, not stored`);
    }
    expect(problems).toEqual([]);
    expect(summary.users).toBeGreaterThan(0);
    expect(summary.orders).toBeGreaterThan(0);
  }, 900_000);
});
