/**
 * Second reader's tests for validation and repair (issue 11, points 7-8). Each one fails on the code as merged
 * (ac9ec79) and states what should hold.
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it } from "vitest";
import { runBackfill } from "../src/backfill/worker.ts";
import { PhaseStore } from "../src/control/phase-store.ts";
import { readValidation } from "../src/control/validation-result.ts";
import { FixedPhase, type PhaseSource } from "../src/phases.ts";
import { useContractStores } from "../src/testing/index.ts";
import { repair, validate } from "../src/validation/index.ts";
import { setPhase } from "./backfill-fixtures-run.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
const services = (client: DynamoDBClient = stack.dynamodb()) => ({
  codec: testbed.codec(),
  mysql: testbed.connection(),
  client,
  tablePrefix: stack.tablePrefix,
});
const TABLE = () => `${stack.tablePrefix}main`;
const FAST = { recheckMs: 20, who: "test", contract: "store.yaml" };

async function firstId(table: string, offset = 0): Promise<bigint> {
  const [rows] = (await testbed
    .connection()
    .query(`SELECT id FROM ${table} ORDER BY id LIMIT 1 OFFSET ${offset}`)) as unknown as [Array<{ id: number }>];
  return BigInt(rows[0]?.id ?? 0);
}

describe("validation and repair, second reader", () => {
  it("setup: the backfill leaves both stores equal", async () => {
    await setPhase(stack, stack.tablePrefix, 2);
    const backfill = await runBackfill(services(), { contract: "store.yaml", who: "test" });
    expect(backfill.report.state).toBe("finished");
    expect((await validate(services(), { ...FAST, record: false })).report.clean).toBe(true);
  });

  it("an item whose index key (GSI1PK) is wrong is a difference: the app's lookup by username no longer finds it", async () => {
    const client = stack.dynamodb();
    const id = await firstId("users", 2);
    const user = (await testbed.stores().mysql.get("User", { id })) ?? {};
    const users = testbed.codec().entity("User");
    await client.send(
      new UpdateItemCommand({
        TableName: TABLE(),
        Key: users.key({ id }),
        UpdateExpression: "SET GSI1PK = :k",
        ExpressionAttributeValues: { ":k": { S: "USER#USERNAME#somebody-else" } },
      }),
    );
    // What the app's phase-4 read by username (GSI1) sees: nothing.
    const byIndex = await client.send(
      new QueryCommand({
        TableName: TABLE(),
        IndexName: "GSI1",
        KeyConditionExpression: "GSI1PK = :k",
        ExpressionAttributeValues: { ":k": { S: `USER#USERNAME#${String(user.username)}` } },
      }),
    );
    expect(byIndex.Items ?? []).toEqual([]);
    try {
      const { report } = await validate(services(), { ...FAST, entities: ["User"], record: false });
      // A store that cannot find the user by username does not match MySQL, which can.
      expect(report.clean).toBe(false);
      expect(report.entities[0]?.differences).toEqual([
        expect.objectContaining({
          kind: "mismatched",
          fields: [
            {
              field: "GSI1PK",
              mysql: `USER#USERNAME#${String(user.username)}`,
              dynamodb: "USER#USERNAME#somebody-else",
            },
          ],
        }),
      ]);
      // A repair renders the index key again from the item's attributes.
      const repaired = await repair(services(), { ...FAST, entities: ["User"], record: false }, { record: false });
      expect(repaired.repair.indexKeysRestored).toBe(1);
      expect(repaired.after.differences).toEqual([]);
    } finally {
      const row = (await testbed.stores().mysql.get("User", { id })) ?? {};
      await client.send(
        new UpdateItemCommand({
          TableName: TABLE(),
          Key: users.key({ id }),
          UpdateExpression: "SET GSI1PK = :k",
          ExpressionAttributeValues: { ":k": { S: `USER#USERNAME#${String(row.username)}` } },
        }),
      );
    }
  });

  it("an item in the table that no validated entity claims (no __entity) is reported by a full validation", async () => {
    const client = stack.dynamodb();
    const users = testbed.codec().entity("User");
    const some = await client.send(
      new GetItemCommand({
        TableName: TABLE(),
        Key: users.key({ id: await firstId("users", 3) }),
        ConsistentRead: true,
      }),
    );
    // A user item without its row, and without the __entity tag (an older writer's, or a hand's).
    const item: Record<string, AttributeValue> = {
      ...some.Item,
      ...users.key({ id: 9_100_001n }),
      id: { N: "9100001" },
    };
    delete item.__entity;
    await client.send(new PutItemCommand({ TableName: TABLE(), Item: item }));
    const { report } = await validate(services(), { ...FAST, record: false });
    expect(report.full).toBe(true);
    expect(report.clean).toBe(false);
    expect(report.unclaimed).toEqual({
      count: 1,
      items: [
        {
          table: "main",
          key: { PK: item.PK?.S, SK: item.SK?.S },
          reason: "no __entity attribute, and not a unique marker of an entity",
        },
      ],
    });
    // A validation of some entities does not look for them (it cannot tell another entity's items from them).
    expect((await validate(services(), { ...FAST, entities: ["User"], record: false })).report.unclaimed).toBe(
      undefined,
    );
    await client.send(
      new DeleteItemCommand({ TableName: TABLE(), Key: { PK: item.PK ?? { S: "" }, SK: item.SK ?? { S: "" } } }),
    );
  });

  it("repair does not overwrite DynamoDB once it is authoritative: a phase move 3 -> 4 during a repair", async () => {
    await setPhase(stack, stack.tablePrefix, 3);
    const real = stack.dynamodb();
    const products = testbed.codec().entity("Product");
    const id = await firstId("products", 7);
    // DynamoDB missed an update: validation finds it, in phase 3.
    await real.send(
      new UpdateItemCommand({
        TableName: TABLE(),
        Key: products.key({ id }),
        UpdateExpression: "SET #n = :n",
        ExpressionAttributeNames: { "#n": "name" },
        ExpressionAttributeValues: { ":n": { S: "stale on dynamodb" } },
      }),
    );
    const found = await validate(services(), { ...FAST, entities: ["Product"], record: false });
    expect(found.differences.map((d) => d.kind)).toEqual(["mismatched"]);

    // The repair has read the phase (3). Before it reads the item, a move to 4 is started and a phase-4 write follows
    // it on DynamoDB, its MySQL copy still on its way. The repair's read waits until the move is either committed (a
    // repair outside the fleet: the phase-4 write has landed before the repair reads and writes) or announced and
    // held by the fleet (the repair, a fleet member with the key's write in flight, makes it wait; awaiting the move
    // here would wait for the repair itself).
    let moved = false;
    let move: Promise<void> | undefined;
    const phases = new PhaseStore(real, { tablePrefix: stack.tablePrefix });
    const client = new Proxy(real, {
      get(target, property, receiver) {
        if (property !== "send") return Reflect.get(target, property, receiver);
        return async (command: { input?: { TableName?: string } }) => {
          if (!moved && command.input?.TableName === TABLE()) {
            moved = true;
            let committed = false;
            move = setPhase(stack, stack.tablePrefix, 4).then(async () => {
              committed = true;
              await testbed.stores().dynamodb.update("Product", { id }, { name: "phase-4 write" });
            });
            move.catch(() => undefined);
            for (const deadline = Date.now() + 240_000; Date.now() < deadline; ) {
              if (committed || (await phases.get()).pending !== undefined) break;
              await new Promise((resolve) => setTimeout(resolve, 20));
            }
            if (committed) await move;
          }
          return (target.send as (c: unknown) => Promise<unknown>)(command);
        };
      },
    }) as DynamoDBClient;
    await repair(services(client), found, { record: false, fleet: { refreshMs: 100 } });
    expect(moved).toBe(true);
    await move;
    expect((await new PhaseStore(real, { tablePrefix: stack.tablePrefix }).get()).phase).toBe(4);
    // DynamoDB is authoritative: the acknowledged phase-4 write must still be there.
    expect((await testbed.stores().dynamodb.get("Product", { id }))?.name).toBe("phase-4 write");
  });

  it("an older clean full validation does not overwrite a newer validation's differences in the guard rail's record", async () => {
    await setPhase(stack, stack.tablePrefix, 3);
    // Make both stores equal again (the previous test's outcome aside).
    const again = await validate(services(), { ...FAST, record: false });
    if (again.differences.length > 0) await repair(services(), again, { record: false });
    const categories = testbed.codec().entity("Category");
    const productId = await firstId("products", 3);
    const categoryId = await firstId("categories", 0);
    await testbed.connection().query("UPDATE products SET name = 'in flight' WHERE id = ?", [productId.toString()]);
    const full = await validate(services(), {
      ...FAST,
      beforeRecheck: async (entity) => {
        if (entity !== "Product") return;
        // A difference appears in Category (already read by this validation), and a second validation of
        // Category finds it and records it, newer than this one.
        await stack.dynamodb().send(
          new UpdateItemCommand({
            TableName: TABLE(),
            Key: categories.key({ id: categoryId }),
            UpdateExpression: "SET #n = :n",
            ExpressionAttributeNames: { "#n": "name" },
            ExpressionAttributeValues: { ":n": { S: "changed behind ferry's back" } },
          }),
        );
        const partial = await validate(services(), { ...FAST, entities: ["Category"] });
        expect(partial.report.clean).toBe(false);
        // The in-flight write lands.
        const row = await testbed.stores().mysql.get("Product", { id: productId });
        await testbed
          .stores()
          .dynamodb.update("Product", { id: productId }, { name: "in flight", updatedAt: row?.updatedAt });
      },
    });
    expect(full.report.clean).toBe(true);
    expect(full.report.full).toBe(true);
    // And its report says its result was not recorded, and why.
    expect(full.report.guardRail).toMatchObject({ recorded: false, reason: expect.stringContaining("started later") });
    // The difference is still there, and the newest look at it said so: the guard rail must not read "clean".
    expect((await validate(services(), { ...FAST, entities: ["Category"], record: false })).report.clean).toBe(false);
    expect((await readValidation(stack.dynamodb(), stack.tablePrefix))?.clean).toBe(false);
  });

  it("a hot key, written again between the first look and the recheck, is looked at again before it is reported", async () => {
    const id = await firstId("products", 5);
    const write = async (name: string, dynamodb: boolean) => {
      await testbed.connection().query("UPDATE products SET name = ? WHERE id = ?", [name, id.toString()]);
      if (!dynamodb) return;
      const row = await testbed.stores().mysql.get("Product", { id });
      await testbed.stores().dynamodb.update("Product", { id }, { name, updatedAt: row?.updatedAt });
    };
    await write("hot 1", false);
    const rounds: number[] = [];
    const { report } = await validate(services(), {
      ...FAST,
      entities: ["Product"],
      record: false,
      beforeRecheck: async (_entity, suspects) => {
        rounds.push(suspects.length);
        // Between the first look and the recheck: written again on MySQL, its copy still on its way.
        if (rounds.length === 1) await write("hot 2", false);
        // Between the recheck and the next: the copy lands.
        else if (rounds.length === 2) await write("hot 2", true);
      },
    });
    expect(rounds).toEqual([1, 1]);
    expect(report.clean).toBe(true);
    expect(report.entities[0]?.settled).toBe(1);
  });

  it("a difference that looks the same at the recheck is reported after one recheck; one that keeps changing after three", async () => {
    const id = await firstId("products", 6);
    const [rows] = (await testbed
      .connection()
      .query("SELECT name FROM products WHERE id = ?", [id.toString()])) as unknown as [Array<{ name: string }>];
    await testbed.connection().query("UPDATE products SET name = 'stale' WHERE id = ?", [id.toString()]);
    let rounds = 0;
    const steady = await validate(services(), {
      ...FAST,
      entities: ["Product"],
      record: false,
      beforeRecheck: () => {
        rounds++;
      },
    });
    expect(rounds).toBe(1);
    expect(steady.differences.map((d) => d.kind)).toEqual(["mismatched"]);
    rounds = 0;
    const hot = await validate(services(), {
      ...FAST,
      entities: ["Product"],
      record: false,
      beforeRecheck: async () => {
        rounds++;
        await testbed.connection().query("UPDATE products SET name = ? WHERE id = ?", [`hot ${rounds}`, id.toString()]);
      },
    });
    expect(rounds).toBe(3);
    expect(hot.differences).toEqual([
      expect.objectContaining({
        kind: "mismatched",
        fields: expect.arrayContaining([expect.objectContaining({ field: "name", mysql: "hot 3" })]),
      }),
    ]);
    await testbed.connection().query("UPDATE products SET name = ? WHERE id = ?", [rows[0]?.name, id.toString()]);
    const row = await testbed.stores().mysql.get("Product", { id });
    await testbed.stores().dynamodb.update("Product", { id }, { name: row?.name, updatedAt: row?.updatedAt });
  });

  it("repair stops, and lists what it did not attempt, once the phase its tickets are taken under is 5", async () => {
    const first = await firstId("products", 8);
    const second = await firstId("products", 9);
    for (const id of [first, second]) {
      await testbed
        .connection()
        .query("UPDATE products SET name = CONCAT(name, ' (mysql only)') WHERE id = ?", [id.toString()]);
    }
    const found = await validate(services(), { ...FAST, entities: ["Product"], record: false });
    expect(found.differences).toHaveLength(2);
    // A phase source that issued the first ticket in phase 4 and every later one in phase 5 (a move 4 -> 5 committed
    // in between).
    let tickets = 0;
    const phase: PhaseSource = {
      phase: () => 4,
      beginWrite: async () => ({ phase: tickets++ === 0 ? 4 : 5, done: () => {} }),
    };
    const outcome = await repair(services(), found, { record: false, phase });
    expect(outcome.repair.stopped).toMatch(/the phase moved to 5 during the repair/);
    expect(outcome.repair.skipped).toBe(1);
    expect(outcome.repair.updated).toBe(1);
    expect(outcome.repair.target).toBe("mysql");
    expect(outcome.failures).toEqual([
      expect.objectContaining({ reason: expect.stringMatching(/^not attempted: the repair stopped/) }),
    ]);
    // Both stores equal again (from MySQL), for what follows.
    const again = await validate(services(), { ...FAST, entities: ["Product"], record: false });
    await repair(services(), again, { record: false, phase: new FixedPhase(3) });
  });
});
