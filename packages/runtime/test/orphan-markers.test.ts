/**
 * Orphan unique markers on real stores: a marker whose owner item is not there, or whose owner does not hold its
 * value, no longer stops a KeySync (it is freed, conditionally, and the write goes through); a marker whose owner holds
 * the value on both stores still does (UniqueHeld); freeOrphanMarker leaves a held marker alone.
 */
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it } from "vitest";
import { runBackfill } from "../src/backfill/worker.ts";
import { freeOrphanMarker } from "../src/dynamodb/orphan-markers.ts";
import { uniqueMarker, uniqueMarkerKey } from "../src/dynamodb/unique-markers.ts";
import { KeySync, UniqueHeld } from "../src/outbox/sync.ts";
import { useContractStores } from "../src/testing/index.ts";
import { rejection } from "./backfill-fixtures.ts";
import { setPhase } from "./backfill-fixtures-run.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
const TABLE = () => `${stack.tablePrefix}main`;
let serial = 0;
const person = (name: string) => {
  const username = `${name}-${++serial}`;
  return { username, email: `${username}@example.com`, passwordHash: "scrypt$x", firstName: "Orphan" };
};

async function marker(rule: string, value: Record<string, unknown>) {
  const users = testbed.codec().entity("User");
  const key = uniqueMarkerKey(users, rule, value) ?? {};
  return (await stack.dynamodb().send(new GetItemCommand({ TableName: TABLE(), Key: key, ConsistentRead: true }))).Item;
}

describe("orphan unique markers", () => {
  it("KeySync frees a marker whose owner item is not there, then creates the item", async () => {
    const { mysql, dynamodb } = testbed.stores();
    const users = testbed.codec().entity("User");
    const value = person("ownerless");
    // A marker of the email names an item that is not there (a crash, an older ferry).
    const orphan = uniqueMarker(users, "uq_users_email", value, users.key({ id: 9_100_001n }));
    await stack.dynamodb().send(new PutItemCommand({ TableName: TABLE(), Item: orphan ?? {} }));
    const created = await mysql.create("User", value);

    const sync = new KeySync(testbed.codec(), mysql, dynamodb);
    expect(await sync.sync("dynamodb", "User", { id: created.id })).toBe("created");
    expect((await dynamodb.get("User", { id: created.id }))?.email).toBe(value.email);
    expect((await marker("uq_users_email", value))?.ownerPK).toEqual(users.key(created).PK);
  });

  it("KeySync frees a marker whose owner does not hold its value, and leaves the owner's own markers", async () => {
    const { mysql, dynamodb } = testbed.stores();
    const users = testbed.codec().entity("User");
    const owner = await mysql.create("User", person("owner"));
    const ownerValue = (await mysql.get("User", { id: owner.id })) ?? {};
    await dynamodb.create("User", ownerValue);
    const taken = person("taken");
    // The owner's item exists but holds another email: the marker of `taken.email` is an orphan.
    const orphan = uniqueMarker(users, "uq_users_email", taken, users.key(ownerValue));
    await stack.dynamodb().send(new PutItemCommand({ TableName: TABLE(), Item: orphan ?? {} }));
    const created = await mysql.create("User", taken);

    const sync = new KeySync(testbed.codec(), mysql, dynamodb);
    expect(await sync.sync("dynamodb", "User", { id: created.id })).toBe("created");
    expect((await marker("uq_users_email", taken))?.ownerPK).toEqual(users.key(created).PK);
    expect((await marker("uq_users_email", ownerValue))?.ownerPK).toEqual(users.key(ownerValue).PK);
    expect((await marker("uq_users_username", ownerValue))?.ownerPK).toEqual(users.key(ownerValue).PK);
  });

  it("a marker whose owner holds the value on both stores is not freed: UniqueHeld", async () => {
    const { mysql, dynamodb } = testbed.stores();
    const users = testbed.codec().entity("User");
    const holder = await mysql.create("User", person("holder"));
    const holderValue = (await mysql.get("User", { id: holder.id })) ?? {};
    await dynamodb.create("User", holderValue);
    // MySQL lets another row take the email (the unique key dropped and added back, say): the stores disagree.
    const [rows] = (await testbed.connection().query("SELECT MAX(id) + 1000 AS id FROM users")) as unknown as [
      Array<{ id: number }>,
    ];
    const otherId = BigInt(rows[0]?.id ?? 0);
    const other = { ...person("other"), id: otherId };
    await testbed.connection().query("ALTER TABLE users DROP INDEX uq_users_email");
    try {
      await mysql.create("User", { ...other, email: holderValue.email });
      const sync = new KeySync(testbed.codec(), mysql, dynamodb);
      const error = await rejection(sync.sync("dynamodb", "User", { id: otherId }), UniqueHeld);
      expect(error.holder).toEqual({ id: holder.id });
      expect(
        await freeOrphanMarker(
          stack.dynamodb(),
          TABLE(),
          users,
          uniqueMarkerKey(users, "uq_users_email", holderValue) ?? {},
        ),
      ).toBe("held");
      expect((await marker("uq_users_email", holderValue))?.ownerPK).toEqual(users.key(holderValue).PK);
    } finally {
      await testbed.connection().query("DELETE FROM users WHERE id = ?", [otherId.toString()]);
      await testbed.connection().query("ALTER TABLE users ADD UNIQUE INDEX uq_users_email (email)");
    }
  });

  it("freeOrphanMarker says absent for no marker, and frees an orphan once", async () => {
    const users = testbed.codec().entity("User");
    const value = person("once");
    const key = uniqueMarkerKey(users, "uq_users_email", value) ?? {};
    expect(await freeOrphanMarker(stack.dynamodb(), TABLE(), users, key)).toBe("absent");
    const orphan = uniqueMarker(users, "uq_users_email", value, users.key({ id: 9_100_002n }));
    await stack.dynamodb().send(new PutItemCommand({ TableName: TABLE(), Item: orphan ?? {} }));
    expect(await freeOrphanMarker(stack.dynamodb(), TABLE(), users, key)).toBe("freed");
    expect(await freeOrphanMarker(stack.dynamodb(), TABLE(), users, key)).toBe("absent");
  });
});

describe("the backfill and orphan markers", () => {
  it("a row whose second marker is held goes through the re-sync, though its first marker is already put", async () => {
    const { mysql, dynamodb } = testbed.stores();
    // A (lower id) and X (higher id) on MySQL; on DynamoDB, X's item still has A's username (a write it missed).
    const a = await mysql.create("User", person("first"));
    const x = await mysql.create("User", person("second"));
    const aValue = (await mysql.get("User", { id: a.id })) ?? {};
    const xValue = (await mysql.get("User", { id: x.id })) ?? {};
    await dynamodb.create("User", { ...xValue, username: aValue.username });
    await setPhase(stack, stack.tablePrefix, 2);
    // A's page comes first: its email marker is put, its username marker is X's; A goes to the re-sync, whose create
    // meets A's own email marker, whose owner (A's item) is not there yet.
    const result = await runBackfill(
      { codec: testbed.codec(), mysql: testbed.connection(), client: stack.dynamodb(), tablePrefix: stack.tablePrefix },
      { contract: "store.yaml", who: "test", entities: ["User"] },
    );
    expect(result.rejected).toBe(0);
    expect((await dynamodb.get("User", { id: a.id }))?.username).toBe(aValue.username);
    expect((await dynamodb.get("User", { id: x.id }))?.username).toBe(xValue.username);
    const users = testbed.codec().entity("User");
    expect((await marker("uq_users_username", aValue))?.ownerPK).toEqual(users.key(aValue).PK);
    expect((await marker("uq_users_email", aValue))?.ownerPK).toEqual(users.key(aValue).PK);
  });

  it("an update leaves an old value's marker that another item holds, and moves its own", async () => {
    const { mysql, dynamodb } = testbed.stores();
    const users = testbed.codec().entity("User");
    // S's item still holds an email whose marker names R (a backfill wrote R's marker over S's stale one).
    const created = await mysql.create("User", person("stale"));
    const s = (await mysql.get("User", { id: created.id })) as { id: bigint; email: string; username: string };
    await dynamodb.create("User", s);
    const r = { id: 9_100_102n, email: s.email };
    const held = uniqueMarker(users, "uq_users_email", r, users.key(r));
    await stack.dynamodb().send(new PutItemCommand({ TableName: TABLE(), Item: held ?? {} }));

    const moved = `${s.username}-moved@example.com`;
    expect((await dynamodb.update("User", { id: s.id }, { email: moved }))?.email).toBe(moved);
    expect((await marker("uq_users_email", { email: s.email }))?.ownerPK).toEqual(users.key(r).PK);
    expect((await marker("uq_users_email", { email: moved }))?.ownerPK).toEqual(users.key(s).PK);
  });
});
