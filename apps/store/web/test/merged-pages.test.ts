/**
 * mergedPage over in-memory listings that page like the stores do (a cursor after the last item of a page): every
 * item once, in order, whatever the page size; an item added or removed between requests neither repeats an item nor
 * hides one; a cursor whose sources or page size do not match is refused (the listing then starts again).
 */
import type { Page, PageRequest } from "@ferry/store-data";
import { describe, expect, it } from "vitest";
import { mergedPage, type Source } from "../src/shop/merged-pages.ts";

interface Item {
  key: string;
}

/** A listing in descending key order, paged by a cursor that names the last key served. */
function listing(id: string, items: Item[]): Source<Item> & { items: Item[] } {
  const source = {
    id,
    items,
    list: async (page: PageRequest): Promise<Page<Item>> => {
      const sorted = [...source.items].sort((a, b) => (a.key < b.key ? 1 : -1));
      const after = page.cursor === undefined ? undefined : Buffer.from(page.cursor, "base64url").toString();
      const rest = after === undefined ? sorted : sorted.filter((item) => item.key < after);
      const served = rest.slice(0, page.limit ?? 50);
      const more = rest.length > served.length;
      const last = served.at(-1);
      return more && last ? { items: served, cursor: Buffer.from(last.key).toString("base64url") } : { items: served };
    },
  };
  return source;
}

const keys = (n: number, prefix: string, step: number, start: number) =>
  Array.from({ length: n }, (_, i) => ({ key: `${prefix}${String(start + i * step).padStart(4, "0")}` }));

async function everything(sources: Source<Item>[], limit: number): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await mergedPage(sources, (item) => item.key, limit, cursor);
    seen.push(...page.items.map((item) => item.key));
    if (page.cursor === undefined) return seen;
    cursor = page.cursor;
  }
  throw new Error("the listing did not end");
}

describe("mergedPage", () => {
  it("interleaved sources: every item once, newest first, for any page size", async () => {
    const a = listing("1", keys(23, "t", 3, 0));
    const b = listing("2", keys(17, "t", 5, 1));
    const c = listing("3", []);
    const expected = [...a.items, ...b.items]
      .map((item) => item.key)
      .sort()
      .reverse();
    for (const limit of [1, 2, 3, 7, 50]) {
      expect(await everything([a, b, c], limit)).toEqual(expected);
    }
  });

  it("an item added or removed between requests neither repeats an item nor hides one", async () => {
    const a = listing("1", keys(10, "t", 2, 0));
    const b = listing("2", keys(10, "t", 2, 1));
    const first = await mergedPage([a, b], (item) => item.key, 5);
    // A new newest item in a (it sorts before what was shown: not in this listing), and the next unseen one of b gone.
    a.items.push({ key: "t9999" });
    const shown = first.items.map((item) => item.key);
    const unseenOfB = b.items
      .map((item) => item.key)
      .filter((key) => !shown.includes(key))
      .sort()
      .reverse()[0];
    b.items = b.items.filter((item) => item.key !== unseenOfB);
    const rest: string[] = [];
    let cursor = first.cursor;
    while (cursor !== undefined) {
      const page = await mergedPage([a, b], (item) => item.key, 5, cursor);
      rest.push(...page.items.map((item) => item.key));
      cursor = page.cursor;
    }
    const expected = [...a.items, ...b.items]
      .map((item) => item.key)
      .filter((key) => key !== "t9999" && !shown.includes(key))
      .sort()
      .reverse();
    expect(rest).toEqual(expected);
    expect(new Set([...shown, ...rest]).size).toBe(shown.length + rest.length);
  });

  it("a cursor for other sources or another page size, or not one at all, is refused", async () => {
    const a = listing("1", keys(6, "t", 1, 0));
    const b = listing("2", keys(6, "u", 1, 0));
    const first = await mergedPage([a, b], (item) => item.key, 2);
    expect(first.cursor).toMatch(/^m\./);
    const refused = (promise: Promise<unknown>) =>
      promise.then(
        () => "answered",
        (error: { code?: string }) => error.code,
      );
    expect(await refused(mergedPage([a, listing("3", [])], (item) => item.key, 2, first.cursor))).toBe("bad_cursor");
    expect(await refused(mergedPage([a, b], (item) => item.key, 3, first.cursor))).toBe("bad_cursor");
    expect(await refused(mergedPage([a, b], (item) => item.key, 2, "m.notjson"))).toBe("bad_cursor");
    expect(await refused(mergedPage([a, b], (item) => item.key, 2, "eyJ0IjoxfQ"))).toBe("bad_cursor");
  });
});
