/**
 * The backfill while the store runs (issue 11): creates, updates (email changes among them, which move unique
 * markers), deletes and checkouts through the generated repositories in phase 2, the whole time a backfill runs, on
 * real MariaDB and DynamoDB Local. At the end both stores agree row for row, every unique value's marker names its
 * row (or, for a rule the item's key enforces, the item under that key is the row's), and no marker is left over.
 */
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import {
  createCodec,
  DynamoEntityStore,
  type EntityValue,
  enforcedByKey,
  MysqlEntityStore,
  PhaseStore,
  runBackfill,
} from "@ferry/runtime";
import { useTestStack } from "@ferry/stack/testing";
import { contract, type Product, type User } from "@ferry/store-data";
import { describe, expect, it } from "vitest";
import { useGeneratedStore } from "./generated-store.ts";

const stack = useTestStack();
const generated = useGeneratedStore(stack);
const codec = createCodec(contract);

/** Every difference between the stores, as readable lines ([] when they agree), markers included. */
async function differences(): Promise<string[]> {
  const mysql = new MysqlEntityStore(generated.connection(), codec);
  const dynamodb = new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: stack.tablePrefix });
  const found: string[] = [];
  const rowKeys = new Set<string>();
  const markers = new Set<string>();
  for (const entity of codec.entities) {
    const entityCodec = codec.entity(entity);
    let cursor: string | undefined;
    do {
      const page = await mysql.list(entity, { limit: 500, ...(cursor === undefined ? {} : { cursor }) });
      for (const row of page.items) {
        const key: EntityValue = {};
        for (const name of entityCodec.identity) key[name] = row[name];
        const itemKey = JSON.stringify(entityCodec.key(row));
        rowKeys.add(itemKey);
        const item = await dynamodb.get(entity, key);
        if (item === undefined) found.push(`${entity} ${itemKey}: no item`);
        else for (const diff of entityCodec.diff(row, item)) found.push(`${entity} ${itemKey}: ${diff.field} differs`);
        for (const rule of Object.keys(entityCodec.definition.unique ?? {})) {
          const held = await dynamodb.uniqueHolder(entity, rule, row);
          if (held === undefined) {
            if (entityCodec.definition.unique?.[rule]?.attributes.every((a) => row[a] !== null)) {
              found.push(`${entity} ${itemKey}: no ${rule} marker`);
            }
            continue;
          }
          // A rule the item's key enforces has no marker item: its holder is the item under the key.
          const attributes = entityCodec.definition.unique?.[rule]?.attributes ?? [];
          if (!enforcedByKey(entityCodec, { name: rule, attributes })) {
            markers.add(`${entity}/${rule}/${JSON.stringify(entityCodec.key(held.owner ?? {}))}`);
          }
          if (held.owner === undefined || JSON.stringify(entityCodec.key(held.owner)) !== itemKey) {
            found.push(`${entity} ${itemKey}: its ${rule} marker names another item`);
          }
        }
      }
      cursor = page.cursor;
    } while (cursor !== undefined);
  }
  // Every item has its row; every marker item is one a row holds.
  let start: Record<string, import("@aws-sdk/client-dynamodb").AttributeValue> | undefined;
  let markerItems = 0;
  do {
    const out = await stack
      .dynamodb()
      .send(new ScanCommand({ TableName: `${stack.tablePrefix}main`, ExclusiveStartKey: start, ConsistentRead: true }));
    for (const item of out.Items ?? []) {
      const pk = item.PK?.S ?? "";
      if (pk.startsWith("UNIQUE#")) {
        markerItems++;
        continue;
      }
      const entity = codec.entityOf(item);
      if (entity === undefined) continue;
      const itemKey = JSON.stringify({ PK: item.PK, SK: item.SK });
      if (!rowKeys.has(itemKey)) found.push(`${entity} ${itemKey}: an item without a row`);
    }
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  if (markerItems !== markers.size) found.push(`${markerItems} marker items, ${markers.size} held by rows`);
  return found;
}

describe("the backfill while the store runs", () => {
  it("creates, email changes, deletes and checkouts all along a backfill: the stores agree at the end", async () => {
    const store = generated.store();
    generated.phase.value = 2;
    await new PhaseStore(stack.dynamodb(), { tablePrefix: stack.tablePrefix }).set(2, {
      who: "test",
      reason: "dual writes",
    });
    const mysql = new MysqlEntityStore(generated.connection(), codec);
    const legacy = (await mysql.list("User", { limit: 40 })).items as unknown as User[];
    const legacyProducts = (await mysql.list("Product", { limit: 40 })).items as unknown as Product[];
    expect(legacy.length).toBeGreaterThanOrEqual(2);
    expect(legacyProducts.length).toBeGreaterThan(5);

    let running = true;
    const done = { creates: 0, emailChanges: 0, updates: 0, deletes: 0, checkouts: 0, errors: [] as string[] };
    let n = 0;
    const guarded = async (work: () => Promise<void>) => {
      try {
        await work();
      } catch (error) {
        done.errors.push(String(error));
      }
    };
    const loops = [
      // New shoppers: register, change their email twice, add to the cart, check out.
      async () => {
        while (running) {
          await guarded(async () => {
            const i = ++n;
            const user = await store.users.create({
              username: `live_${i}`,
              email: `live_${i}@example.com`,
              passwordHash: "scrypt$x",
              firstName: "Live",
            });
            done.creates++;
            await store.users.update({ id: user.id }, { email: `moved_${i}@example.com` });
            done.emailChanges++;
            const seller = legacy[i % legacy.length] as User;
            const product = await store.products.create({
              sellerId: seller.id,
              categoryId: legacyProducts[0]?.categoryId ?? 1n,
              name: `live product ${i}`,
              price: "9.99",
              inventoryQuantity: 5,
            });
            const line = await store.shoppingCarts.create({ userId: user.id, productId: product.id, quantity: 2 });
            await store.transactions.checkout({
              order: { userId: user.id, totalAmount: "19.98" },
              lines: [{ productId: product.id, quantity: 2, priceAtTime: "9.99" }],
              cart: [{ id: line.id, userId: user.id, productId: product.id }],
            });
            done.checkouts++;
          });
        }
      },
      // Legacy users (rows from before dual writes) change their email and name.
      async () => {
        let i = 0;
        while (running) {
          await guarded(async () => {
            const user = legacy[i++ % legacy.length] as User;
            await store.users.update(
              { id: user.id },
              { email: `legacy_${i}_${user.id}@example.com`, firstName: `F${i}` },
            );
            done.emailChanges++;
          });
        }
      },
      // Legacy products change price and stock; short-lived products come and go.
      async () => {
        let i = 0;
        while (running) {
          await guarded(async () => {
            const product = legacyProducts[i++ % legacyProducts.length] as Product;
            await store.products.update(
              { id: product.id },
              { price: `${(i % 90) + 1}.${String(i % 100).padStart(2, "0")}` },
            );
            done.updates++;
            const temporary = await store.products.create({
              sellerId: product.sellerId,
              categoryId: product.categoryId,
              name: `temporary ${i}`,
              price: "1.00",
              inventoryQuantity: 1,
            });
            await store.products.delete({ id: temporary.id });
            done.deletes++;
          });
        }
      },
    ];
    const load = Promise.all(loops.map((loop) => loop()));
    const result = await runBackfill(
      { codec, mysql: generated.connection(), client: stack.dynamodb(), tablePrefix: stack.tablePrefix },
      { contract: "contract/store.yaml", who: "test", pageRows: 10, rowsPerSegment: 40, rate: 400 },
    );
    running = false;
    await load;

    expect(result.report.state).toBe("finished");
    expect(done.errors).toEqual([]);
    expect(generated.failures).toEqual([]);
    // The load ran the whole time: enough of each kind to have met the backfill's pages.
    expect(done.checkouts).toBeGreaterThanOrEqual(3);
    expect(done.emailChanges).toBeGreaterThanOrEqual(10);
    expect(done.deletes).toBeGreaterThanOrEqual(3);
    expect(await differences()).toEqual([]);
  }, 600_000);
});
