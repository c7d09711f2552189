/**
 * Unique markers the backfill writes unconditionally (docs/backfill.md, "Markers"), on real stores: two rows whose
 * values MySQL's collation keeps apart and the marker's folding merges (the second is rejected with the reason, the
 * first keeps its marker), and an update that leaves an old value's marker another item holds while a copy of the
 * same item moves its value under it (it still deletes its own old marker).
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it } from "vitest";
import { BackfillLedger, runBackfill } from "../src/backfill/index.ts";
import type { EntityValue } from "../src/codec/index.ts";
import { DynamoEntityStore } from "../src/dynamodb/index.ts";
import { uniqueMarker, uniqueMarkerKey } from "../src/dynamodb/unique-markers.ts";
import { applyTables } from "../src/tables/index.ts";
import { useContractStores } from "../src/testing/index.ts";
import { setPhase } from "./backfill-fixtures-run.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
let serial = 0;
async function freshPrefix(): Promise<string> {
  const prefix = `${stack.tablePrefix}mk${++serial}_`;
  await applyTables(stack.dynamodb(), testbed.contract(), { prefix });
  await setPhase(stack, prefix, 2);
  return prefix;
}
async function legacyUser(email?: string) {
  const n = ++serial;
  return (await testbed.stores().mysql.create("User", {
    username: `mk_${n}`,
    email: email ?? `mk_${n}@example.com`,
    passwordHash: "scrypt$x",
    firstName: "M",
  })) as { id: bigint; email: string };
}

describe("the backfill's unique markers", () => {
  it("two users on different pages whose emails fold to one marker: the second is rejected, the first keeps it", async () => {
    const prefix = await freshPrefix();
    const dynamodb = new DynamoEntityStore(stack.dynamodb(), testbed.codec(), { tablePrefix: prefix });
    const n = ++serial;
    const first = await legacyUser(`bill${n}@example.com`);
    // A dotless i: MariaDB's utf8mb4_unicode_ci keeps it apart from "i", the marker's folding does not.
    const second = await legacyUser(`b\u0131ll${n}@example.com`);
    const result = await runBackfill(
      { codec: testbed.codec(), mysql: testbed.connection(), client: stack.dynamodb(), tablePrefix: prefix },
      { contract: "store.yaml", who: "test", entities: ["User"], pageRows: 1, pagesInFlight: 1 },
    );
    expect(result.report.state).toBe("finished");
    const rejected = (await new BackfillLedger(stack.dynamodb(), { tablePrefix: prefix }).rejected(result.runId)).rows;
    expect(rejected.map((row) => row.key)).toEqual([{ id: second.id }]);
    expect(rejected[0]?.reason).toContain("held");
    expect((await dynamodb.uniqueHolder("User", "uq_users_email", { email: first.email }))?.owner?.id).toBe(first.id);
    expect((await dynamodb.get("User", { id: first.id }))?.email).toBe(first.email);
  });

  it("an update whose item's value moves under it (a marker held elsewhere met first) deletes its own old marker", async () => {
    const prefix = await freshPrefix();
    const codec = testbed.codec();
    const users = codec.entity("User");
    const raw = stack.dynamodb();
    const plain = new DynamoEntityStore(raw, codec, { tablePrefix: prefix });
    const s = await legacyUser();
    await plain.create("User", (await testbed.stores().mysql.get("User", { id: s.id })) as EntityValue);
    // S's item holds X, whose marker names R (what a bulk write leaves over a stale marker).
    const r = { id: 9_200_001n, email: s.email };
    const held = uniqueMarker(users, "uq_users_email", r, users.key(r)) ?? {};
    await raw.send(new PutItemCommand({ TableName: `${prefix}main`, Item: held }));
    const xKey = JSON.stringify(uniqueMarkerKey(users, "uq_users_email", { email: s.email }));
    const v = `v_${s.email}`;
    const w = `w_${s.email}`;
    let raced = false;
    // When update() looks at X's marker (to see who holds it), another copy of S lands first: X -> V.
    const client = new Proxy(raw, {
      get(target, property, receiver) {
        if (property !== "send") return Reflect.get(target, property, receiver);
        return async (command: unknown, ...rest: unknown[]) => {
          if (!raced && command instanceof GetItemCommand && JSON.stringify(command.input.Key) === xKey) {
            raced = true;
            await plain.update("User", { id: s.id }, { email: v });
          }
          return (target.send as (...args: unknown[]) => unknown).call(target, command, ...rest);
        };
      },
    }) as DynamoDBClient;
    await new DynamoEntityStore(client, codec, { tablePrefix: prefix }).update("User", { id: s.id }, { email: w });
    expect(raced).toBe(true);
    expect((await plain.get("User", { id: s.id }))?.email).toBe(w);
    expect(await plain.uniqueHolder("User", "uq_users_email", { email: v })).toBeUndefined();
    expect((await plain.uniqueHolder("User", "uq_users_email", { email: w }))?.owner?.id).toBe(s.id);
    const x = await raw.send(
      new GetItemCommand({ TableName: `${prefix}main`, Key: JSON.parse(xKey), ConsistentRead: true }),
    );
    expect(x.Item?.ownerPK).toEqual(users.key(r).PK);
  });
});
