/**
 * Word indexes (dynamodb/word-items.ts): a search finds the same items in the same order on MySQL (LIKE, then the
 * words checked) and on DynamoDB (one word's items, the others checked on the owners), whatever the case, accents
 * or characters MySQL's LIKE compares one by one; the word items follow every write of the item.
 */
import { PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_WORDS, wordsOf } from "../src/dynamodb/word-items.ts";
import type { EntityRouter } from "../src/router/index.ts";
import { useContractStores } from "../src/testing/index.ts";
import { routingOver } from "./routing.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
const routing = routingOver(stack, testbed);

describe("the words of a text", () => {
  it("are its letters and digits, folded as a _ci collation compares them, distinct, at most MAX_WORDS", () => {
    expect(wordsOf("Crème Brûlée -- 2 PACK, crème")).toEqual(["creme", "brulee", "2", "pack"]);
    expect(wordsOf("Große Straße")).toEqual(["grosse", "strasse"]);
    expect(wordsOf("T-shirt (XL)")).toEqual(["t", "shirt", "xl"]);
    expect(wordsOf("  ")).toEqual([]);
    expect(wordsOf(null)).toEqual([]);
    expect(wordsOf(`${"x".repeat(65)} short`)).toEqual(["short"]);
    const many = Array.from({ length: 30 }, (_, i) => `w${i}`).join(" ");
    expect(wordsOf(many)).toHaveLength(MAX_WORDS);
  });
});

// Names whose words LIKE and the fold see differently (ß, ligatures, accents), and plain ones.
const NAMES = [
  "Red Ceramic Mug",
  "Blue ceramic MUG, large",
  "Große Straße Poster",
  "Crème brûlée torch",
  "ﬁne Paper Notebook",
  "Mug tree",
  "Red wine glass",
  "Ceramic red vase",
];

let ids: bigint[];

beforeAll(async () => {
  const { router } = routing(2);
  ids = [];
  for (const name of NAMES) {
    const created = await router().create("Product", {
      sellerId: 1n,
      categoryId: 1n,
      name,
      price: "5.00",
      inventoryQuantity: 3,
    });
    ids.push(created.id as bigint);
  }
});

async function everyId(router: EntityRouter, text: string, limit: number): Promise<bigint[]> {
  const found: bigint[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await router.search("Product", { index: "name", text, limit, ...(cursor ? { cursor } : {}) });
    found.push(...page.items.map((item) => item.id as bigint));
    cursor = page.cursor;
    if (cursor === undefined) return found;
  }
  throw new Error("the search never ended");
}

/** The ids of NAMES with every word of `text`, highest first (among the products this file made). */
function expected(text: string): bigint[] {
  const words = wordsOf(text);
  return NAMES.flatMap((name, i) => (words.every((w) => wordsOf(name).includes(w)) ? [ids[i] as bigint] : [])).sort(
    (a, b) => (a < b ? 1 : -1),
  );
}

/** Only this file's products (the demo data has its own). */
const ours = (found: bigint[]) => found.filter((id) => ids.includes(id));

describe("a search by words", () => {
  for (const text of [
    "mug",
    "CERAMIC red",
    "ceramic mug",
    "straße",
    "STRASSE poster",
    "creme",
    "brûlée",
    "fine",
    "red",
  ]) {
    it(`'${text}': the same items in the same order on both stores, in pages of 1, 2 and 50`, async () => {
      const { router, phase } = routing(1);
      const want = expected(text);
      expect(want.length).toBeGreaterThan(0);
      for (const limit of [1, 2, 50]) {
        phase.value = 1;
        const mysql = await everyId(router(), text, limit);
        phase.value = 5;
        const dynamodb = await everyId(router(), text, limit);
        expect(ours(mysql), `MySQL by ${limit}`).toEqual(want);
        expect(dynamodb, `DynamoDB by ${limit}`).toEqual(mysql);
      }
    });
  }

  it("finds nothing for no words, or for a word no name has", async () => {
    const { router, phase } = routing(1);
    for (const p of [1, 5] as const) {
      phase.value = p;
      expect((await router().search("Product", { index: "name", text: " -- ", limit: 10 })).items).toEqual([]);
      expect(await everyId(router(), "zebra", 3)).toEqual([]);
    }
  });

  it("follows a rename, and a deleted product takes its word items with it", async () => {
    const { router, phase } = routing(2);
    const made = await router().create("Product", {
      sellerId: 1n,
      categoryId: 1n,
      name: "Walnut salad bowl",
      price: "5.00",
      inventoryQuantity: 1,
    });
    const key = { id: made.id };
    await router().update("Product", key, { name: "Walnut serving board" });
    for (const p of [1, 5] as const) {
      phase.value = p;
      expect(await everyId(router(), "walnut", 5), `phase ${p}`).toEqual([made.id]);
      expect(await everyId(router(), "bowl", 5), `phase ${p}`).toEqual([]);
      expect(await everyId(router(), "board serving", 5), `phase ${p}`).toEqual([made.id]);
    }
    expect(await wordItemsOf("salad")).toEqual([]);
    expect(await wordItemsOf("board")).toHaveLength(1);
    phase.value = 2;
    await router().delete("Product", key);
    expect(await wordItemsOf("walnut")).toEqual([]);
    expect(await wordItemsOf("board")).toEqual([]);
  });

  it("passes over a word item whose product no longer has the word (one a backfill left behind)", async () => {
    const { router, phase } = routing(5);
    const codec = testbed.codec().entity("Product");
    const mug = ids[0] as bigint;
    // A word item for "teapot" naming the red mug, as an older value of it would have left.
    await stack.dynamodb().send(
      new PutItemCommand({
        TableName: `${stack.tablePrefix}main`,
        Item: {
          PK: { S: "WORDS#Product#name#teapot" },
          SK: { S: codec.attribute("id").keyText(mug) },
          ownerPK: { S: codec.render("PRODUCT#{id}", { id: mug }) },
          ownerSK: { S: "PRODUCT" },
        },
      }),
    );
    phase.value = 5;
    expect(await everyId(router(), "teapot", 5)).toEqual([]);
  });
});

async function wordItemsOf(word: string) {
  const out = await stack.dynamodb().send(
    new QueryCommand({
      TableName: `${stack.tablePrefix}main`,
      KeyConditionExpression: "PK = :p",
      ExpressionAttributeValues: { ":p": { S: `WORDS#Product#name#${word}` } },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}
