/**
 * The store's API and pages, every route and rule, as one suite that runs unchanged in each migration phase (one test
 * file per phase, so they run in parallel, each on its own database, tables and store).
 */
import type { Phase } from "@ferry/runtime";
import { DEMO_PASSWORD, DEMO_SHOPPER } from "@ferry/store";
import { describe, expect, it } from "vitest";
import { APPROVED_TEST_CARD, DECLINING_TEST_CARD } from "../src/index.ts";
import { newName, Shopper, useStore } from "./support.ts";

/** Text as hono/jsx escapes it. */
function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

const CARD = { cardNumber: APPROVED_TEST_CARD, cardExpiry: "12/39", cardCvc: "123" };

export function storeSuite(phase: Phase): void {
  const store = useStore(phase);
  const shopper = () => new Shopper(store.url);

  async function registered(prefix = "buyer") {
    const client = shopper();
    const username = newName(prefix);
    const { status, body } = await client.api("POST", "/users", {
      username,
      email: `${username}@example.com`,
      password: "correct horse",
      firstName: "Test",
    });
    expect(status).toBe(201);
    return { client, username, id: body.user.id as string };
  }

  type ListedProduct = { id: string; price: string; name: string; inventoryQuantity: number };

  /** `count` products (of one category) with at least `stock` and fewer than 99 in stock. */
  async function someProducts(client: Shopper, count: number, stock = 3): Promise<ListedProduct[]> {
    const { body } = await client.api("GET", "/categories");
    for (const root of body.categories) {
      for (const category of [root, ...root.children]) {
        const listing = await client.api("GET", `/categories/${category.id}/products?limit=100`);
        const products = (listing.body.items as ListedProduct[]).filter(
          (p) => p.inventoryQuantity >= stock && p.inventoryQuantity < 99,
        );
        if (products.length >= count) return products.slice(0, count);
      }
    }
    throw new Error(`no category with ${count} products in stock`);
  }

  /** A product with at least `stock` and fewer than 99 in stock. */
  async function someProduct(client: Shopper, stock = 3): Promise<ListedProduct> {
    const [product] = await someProducts(client, 1, stock);
    if (product === undefined) throw new Error("no product with stock");
    return product;
  }

  describe(`the store in phase ${phase}`, () => {
    it("serves its health with both stores and the phase, and its metrics", async () => {
      // Polled: /healthz gives each store 2 s to answer, which CI's loaded cores can exceed for a moment.
      await expect
        .poll(async () => {
          const health = await shopper().request("/healthz");
          return { status: health.status, ...((await health.json()) as object) };
        })
        .toMatchObject({ status: 200, ok: true, phase, mysql: { ok: true }, dynamodb: { ok: true } });
      const metrics = await (await shopper().request("/metrics")).text();
      expect(metrics).toMatch(new RegExp(`^ferry_phase ${phase}$`, "m"));
    });

    it("registers, logs out and in again; a wrong password or an unknown name is refused alike", async () => {
      const { client, username } = await registered();
      expect((await client.api("GET", "/me")).body.user).toMatchObject({ username, email: `${username}@example.com` });
      expect((await client.api("GET", "/me")).body.user.passwordHash).toBeUndefined();
      expect((await client.api("DELETE", "/session")).status).toBe(200);
      expect((await client.api("GET", "/me")).status).toBe(401);
      const wrong = await client.api("POST", "/session", { login: username, password: "not it at all" });
      const unknown = await client.api("POST", "/session", { login: newName("nobody"), password: "not it at all" });
      expect(wrong).toEqual(unknown);
      expect(wrong.status).toBe(401);
      await client.login(username, "correct horse");
      expect((await client.api("GET", "/me")).body.user.username).toBe(username);
      // The demo shopper the seed made logs in with the seed's password (the same scrypt format).
      await shopper().login(DEMO_SHOPPER, DEMO_PASSWORD);
    });

    it("log-in is rate-limited per account: past 5 failures even the right password waits; other accounts do not", async () => {
      const target = await registered("target");
      const bystander = await registered("bystander");
      const client = shopper();
      for (let i = 0; i < 5; i++) {
        expect(
          (await client.api("POST", "/session", { login: target.username, password: `guess number ${i}` })).status,
        ).toBe(401);
      }
      const blocked = await client.api("POST", "/session", { login: target.username, password: "correct horse" });
      expect(blocked.status).toBe(429);
      expect(blocked.body.error.code).toBe("too_many_attempts");
      // The same account by its email: the same count.
      const byEmail = await shopper().post("/login", {
        login: `${target.username}@example.com`,
        password: "correct horse",
      });
      expect(byEmail.status).toBe(429);
      await shopper().login(bystander.username, "correct horse");
    });

    it("registration checks every field, and a taken username or email is a field's message", async () => {
      const client = shopper();
      const bad = await client.api("POST", "/users", {
        username: "x",
        email: "nope",
        password: "short",
        firstName: "",
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe("invalid");
      expect(Object.keys(bad.body.error.fields).sort()).toEqual(["email", "firstName", "password", "username"]);
      const taken = await client.api("POST", "/users", {
        username: DEMO_SHOPPER,
        email: "shopper@example.com",
        password: "correct horse",
        firstName: "Copy",
      });
      expect(taken.status).toBe(400);
      expect(taken.body.error.fields).toEqual({
        username: "This username is taken.",
        email: "This email is already registered.",
      });
    });

    it("the category tree has two levels, and a parent's listing holds its own and its children's products, paged without repeats", async () => {
      const client = shopper();
      const { body } = await client.api("GET", "/categories");
      const parent = body.categories.find((root: { children: unknown[] }) => root.children.length > 0);
      expect(parent).toBeDefined();
      // Products of the parent itself, created now: the newest, so they come first, between the children's.
      const seller = await registered("lister");
      await seller.client.api("POST", "/me/seller");
      const own: string[] = [];
      for (const name of ["Parent's own A", "Parent's own B"]) {
        const made = await seller.client.api("POST", "/seller/products", {
          name,
          price: "3.00",
          inventoryQuantity: "1",
          categoryId: parent.id,
        });
        expect(made.status).toBe(201);
        own.push(made.body.product.id);
      }
      for (const child of parent.children) expect(child.parentId).toBe(parent.id);
      const expected = new Set<string>();
      for (const category of [parent, ...parent.children]) {
        let cursor: string | null = null;
        do {
          const page = await client.api(
            "GET",
            `/categories/${category.id}/products?limit=100${cursor ? `&cursor=${cursor}` : ""}`,
          );
          if (category !== parent) for (const item of page.body.items) expect(item.categoryId).toBe(category.id);
          cursor = page.body.cursor;
          if (category !== parent) for (const item of page.body.items) expected.add(item.id);
        } while (cursor);
      }
      // The parent's own products are in its listing too: every product of the subtree, once, newest first.
      const seen: Array<{ id: string; createdAt: string; categoryId: string }> = [];
      let cursor: string | null = null;
      do {
        const page = await client.api(
          "GET",
          `/categories/${parent.id}/products?limit=3${cursor ? `&cursor=${cursor}` : ""}`,
        );
        expect(page.status).toBe(200);
        expect(page.body.restarted).toBe(false);
        seen.push(...page.body.items);
        cursor = page.body.cursor;
      } while (cursor);
      const ids = seen.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.slice(0, 2).sort()).toEqual([...own].sort());
      for (const id of expected) expect(ids).toContain(id);
      expect(ids).toHaveLength(expected.size + own.length);
      const subtree = new Set([parent.id, ...parent.children.map((c: { id: string }) => c.id)]);
      for (const product of seen) expect(subtree.has(product.categoryId)).toBe(true);
      const times = seen.map((p) => p.createdAt);
      expect([...times].sort().reverse()).toEqual(times);
    });

    it("a parent's listing by price, both ways, in a price range and in stock only, paged; bad filters are a message per field", async () => {
      const client = shopper();
      const { body } = await client.api("GET", "/categories");
      const parent = body.categories.find((root: { children: unknown[] }) => root.children.length > 0);
      type Listed = { id: string; price: string; inventoryQuantity: number; categoryId: string };
      async function every(query: string, limit: number): Promise<Listed[]> {
        const seen: Listed[] = [];
        let cursor: string | null = null;
        do {
          const page = await client.api(
            "GET",
            `/categories/${parent.id}/products?limit=${limit}&${query}${cursor ? `&cursor=${cursor}` : ""}`,
          );
          expect(page.status, query).toBe(200);
          expect(page.body.restarted).toBe(false);
          seen.push(...page.body.items);
          cursor = page.body.cursor;
        } while (cursor);
        return seen;
      }
      const all = await every("", 100);
      expect(all.length).toBeGreaterThan(5);
      const cents = (price: string) => Math.round(Number(price) * 100);
      const byPrice = (a: Listed, b: Listed) =>
        cents(a.price) - cents(b.price) || (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0);
      const ids = (items: Listed[]) => items.map((item) => item.id);
      const ascending = [...all].sort(byPrice);
      expect(ids(await every("sort=price-asc", 4))).toEqual(ids(ascending));
      expect(ids(await every("sort=price-desc", 5))).toEqual(ids([...ascending].reverse()));
      // A range around the middle prices, and in stock only, in each order.
      const low = ascending[Math.floor(ascending.length / 4)]?.price ?? "0";
      const high = ascending[Math.floor((ascending.length * 3) / 4)]?.price ?? "0";
      const inRange = ascending.filter((p) => cents(p.price) >= cents(low) && cents(p.price) <= cents(high));
      expect(inRange.length).toBeGreaterThan(1);
      expect(ids(await every(`sort=price-asc&minPrice=${low}&maxPrice=${high}`, 3))).toEqual(ids(inRange));
      const stocked = inRange.filter((p) => p.inventoryQuantity > 0);
      expect(ids(await every(`sort=price-desc&minPrice=${low}&maxPrice=${high}&inStock=1`, 2))).toEqual(
        ids([...stocked].reverse()),
      );
      const newestStocked = all.filter((p) => p.inventoryQuantity > 0 && cents(p.price) >= cents(low));
      expect(ids(await every(`inStock=1&minPrice=${low}`, 3))).toEqual(ids(newestStocked));

      // Bad filters: a message per field, in the API and on the page (which keeps what was typed).
      const bad = await client.api("GET", `/categories/${parent.id}/products?sort=cheapest&minPrice=abc&maxPrice=1`);
      expect(bad.status).toBe(400);
      expect(Object.keys(bad.body.error.fields).sort()).toEqual(["minPrice", "sort"]);
      const crossed = await client.api("GET", `/categories/${parent.id}/products?minPrice=5&maxPrice=1`);
      expect(crossed.status).toBe(400);
      expect(crossed.body.error.fields.maxPrice).toMatch(/below the lowest/);
      const page = await client.request(`/categories/${parent.id}?minPrice=%3Cb%3Eabc&sort=price-asc`);
      const html = await page.text();
      expect(page.status).toBe(400);
      expect(html).toContain("The lowest price must be an amount like 12.50.");
      expect(html).toContain(`value="${escapeHtml("<b>abc")}"`);
      expect(html).not.toContain("<b>abc");
      // A cursor of one listing is not taken by another: the listing starts again.
      const first = await client.api("GET", `/categories/${parent.id}/products?limit=2&sort=price-asc`);
      const other = await client.api(
        "GET",
        `/categories/${parent.id}/products?limit=2&sort=price-desc&cursor=${first.body.cursor}`,
      );
      expect(other.status).toBe(200);
      expect(other.body.restarted).toBe(true);
      expect(ids(other.body.items)).toEqual(ids([...ascending].reverse().slice(0, 2)));
    });

    it("search by name words: every word, whatever the case and accents, the newest first, paged; the seeded ones too", async () => {
      const client = shopper();
      const seller = await registered("searcher");
      await seller.client.api("POST", "/me/seller");
      const { body } = await client.api("GET", "/categories");
      const categoryId = body.categories[0].id;
      const word = newName("zanzibarite").replaceAll("_", "");
      const made: string[] = [];
      for (const name of [`Crème ${word} mug`, `${word} teapot`, `Blue ${word.toUpperCase()} MUG`]) {
        const created = await seller.client.api("POST", "/seller/products", {
          name,
          price: "4.00",
          inventoryQuantity: "2",
          categoryId,
        });
        expect(created.status).toBe(201);
        made.push(created.body.product.id);
      }
      const newestFirst = [...made].sort((a, b) => (BigInt(a) < BigInt(b) ? 1 : -1));
      async function found(q: string, limit = 1): Promise<string[]> {
        const ids: string[] = [];
        let cursor: string | null = null;
        do {
          const page = await client.api(
            "GET",
            `/search?q=${encodeURIComponent(q)}&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`,
          );
          expect(page.status, q).toBe(200);
          ids.push(...page.body.items.map((item: { id: string }) => item.id));
          cursor = page.body.cursor;
        } while (cursor);
        return ids;
      }
      expect(await found(word)).toEqual(newestFirst);
      expect(await found(`MUG ${word}`, 2)).toEqual(newestFirst.filter((id) => id !== made[1]));
      expect(await found(`creme ${word}`)).toEqual([made[0]]);
      expect(await found(`${word} teapot blue`)).toEqual([]);
      expect(await found(" -- ")).toEqual([]);
      // A seeded product (backfilled before phase 3 in this suite) is found by a word of its name.
      const seeded = await someProduct(client, 1);
      const firstWord = seeded.name.split(/[^\p{L}\p{N}]+/u).find((w) => w.length > 2) ?? seeded.name;
      expect(await found(firstWord, 50)).toContain(seeded.id);
      // Too long a search is a field's message; the page shows it and escapes what was typed.
      const long = await client.api("GET", `/search?q=${"a".repeat(201)}`);
      expect(long.status).toBe(400);
      expect(long.body.error.fields.q).toMatch(/at most 200/);
      // (Markup is not a word: "<>" and quotes only separate words.)
      const typed = `${word} <"> mug`;
      const page = await client.request(`/search?q=${encodeURIComponent(typed)}`);
      const html = await page.text();
      expect(page.status).toBe(200);
      expect(html).not.toContain(typed);
      expect(html).toContain(escapeHtml(typed));
      for (const id of [made[0], made[2]]) expect(html).toContain(`/products/${id}`);
      expect(html).not.toContain(`/products/${made[1]}"`);
    });

    it("a product page shows the product; an unknown one is 404 as a page and as JSON", async () => {
      const client = shopper();
      const product = await someProduct(client);
      const page = await client.request(`/products/${product.id}`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain(escapeHtml(product.name));
      expect((await client.request("/products/999999999")).status).toBe(404);
      expect((await client.api("GET", "/products/999999999")).body).toEqual({
        error: { code: "not_found", message: "This product does not exist." },
      });
      expect((await client.request("/products/abc")).status).toBe(404);
      const unknown = await client.request("/no/such/page");
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get("content-type")).toContain("text/html");
      expect((await client.api("GET", "/no/such/route")).body.error.code).toBe("not_found");
    });

    it("the cart: add, add again (one line), change, remove; quantities are checked against the stock", async () => {
      const { client } = await registered();
      const product = await someProduct(client);
      expect((await client.api("POST", "/cart", { productId: product.id, quantity: 1 })).status).toBe(201);
      const again = await client.api("POST", "/cart", { productId: product.id, quantity: 1 });
      expect(again.body.lines).toHaveLength(1);
      expect(again.body.lines[0].line.quantity).toBe(2);
      expect(again.body.total).toBe(String(BigInt(Math.round(Number(product.price) * 100)) * 2n));
      const tooMany = await client.api("PATCH", `/cart/${product.id}`, { quantity: product.inventoryQuantity + 1 });
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.error.fields.quantity).toMatch(/left in stock|out of stock|At most/);
      expect((await client.api("PATCH", `/cart/${product.id}`, { quantity: 1 })).body.lines[0].line.quantity).toBe(1);
      expect((await client.api("DELETE", `/cart/${product.id}`)).body.lines).toEqual([]);
      expect((await client.api("DELETE", `/cart/${product.id}`)).status).toBe(404);
      expect((await client.api("POST", "/cart", { productId: "999999999", quantity: 1 })).status).toBe(404);
      expect((await client.api("POST", "/cart", { productId: product.id, quantity: 0 })).status).toBe(400);
    });

    it("a cart change answers with the cart as read after it: lines in product order, at current prices", async () => {
      const { client } = await registered();
      const [low, high] = (await someProducts(client, 2)).sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
      if (low === undefined || high === undefined) throw new Error("two products expected");
      const changes = [
        () => client.api("POST", "/cart", { productId: high.id, quantity: 1 }),
        // A new line that lists before the one there.
        () => client.api("POST", "/cart", { productId: low.id, quantity: 2 }),
        // To the line there.
        () => client.api("POST", "/cart", { productId: high.id, quantity: 1 }),
        () => client.api("PATCH", `/cart/${low.id}`, { quantity: 1 }),
        () => client.api("PATCH", `/cart/${high.id}`, { quantity: 0 }),
        () => client.api("DELETE", `/cart/${low.id}`),
      ];
      const counts: number[] = [];
      for (const change of changes) {
        const answer = await change();
        expect(answer.status).toBeLessThan(300);
        expect(answer.body).toEqual((await client.api("GET", "/cart")).body);
        counts.push(answer.body.count);
      }
      expect(counts).toEqual([1, 3, 4, 3, 1, 0]);
    });

    it("the same product added by several requests at once: every add is taken, in one line", async () => {
      const { client } = await registered();
      const product = await someProduct(client, 6);
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => client.api("POST", "/cart", { productId: product.id, quantity: 1 })),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(6).fill(201));
      const cart = await client.api("GET", "/cart");
      expect(cart.body.lines.map((line: { line: { quantity: number } }) => line.line.quantity)).toEqual([6]);
    });

    it("checkout: a declined card writes nothing; an approved one places the order at the price shown, takes the stock, clears the cart", async () => {
      const { client } = await registered();
      const product = await someProduct(client, 2);
      await client.api("POST", "/cart", { productId: product.id, quantity: 2 });
      const declined = await client.api("POST", "/checkout", { ...CARD, cardNumber: DECLINING_TEST_CARD });
      expect(declined.status).toBe(402);
      expect(declined.body.error.code).toBe("payment_declined");
      expect((await client.api("GET", "/cart")).body.lines).toHaveLength(1);
      expect((await client.api("GET", "/orders")).body.items).toEqual([]);
      expect((await client.api("GET", `/products/${product.id}`)).body.product.inventoryQuantity).toBe(
        product.inventoryQuantity,
      );
      const badCard = await client.api("POST", "/checkout", { cardNumber: "1234", cardExpiry: "13/99", cardCvc: "1" });
      expect(badCard.status).toBe(400);
      expect(Object.keys(badCard.body.error.fields).sort()).toEqual(["cardCvc", "cardExpiry"]);

      // A total other than the cart's (a price changed since it was shown) is refused, nothing written.
      const stale = await client.api("POST", "/checkout", { ...CARD, expectedTotal: "0.01" });
      expect(stale.status).toBe(409);
      expect(stale.body.error.code).toBe("total_changed");
      expect((await client.api("GET", "/cart")).body.lines).toHaveLength(1);

      const placed = await client.api("POST", "/checkout", {
        ...CARD,
        expectedTotal: (Number(product.price) * 2).toFixed(2),
      });
      expect(placed.status).toBe(201);
      expect(placed.body.order).toMatchObject({
        status: "paid",
        totalAmount: String((Number(product.price) * 2).toFixed(2)),
      });
      expect(placed.body.lines).toEqual([
        expect.objectContaining({ productId: product.id, quantity: 2, priceAtTime: product.price }),
      ]);
      expect((await client.api("GET", "/cart")).body.lines).toEqual([]);
      expect((await client.api("GET", `/products/${product.id}`)).body.product.inventoryQuantity).toBe(
        product.inventoryQuantity - 2,
      );
      const history = await client.api("GET", "/orders");
      expect(history.body.items.map((o: { id: string }) => o.id)).toEqual([placed.body.order.id]);
      const detail = await client.api("GET", `/orders/${placed.body.order.id}`);
      expect(detail.body.order.id).toBe(placed.body.order.id);
      expect(detail.body.lines).toHaveLength(1);
      expect((await client.api("POST", "/checkout", CARD)).body.error.code).toBe("cart_empty");
    });

    it("one cart checked out twice at once (two tabs): one order, the other refused with nothing written", async () => {
      const { client } = await registered("twotabs");
      const product = await someProduct(client, 2);
      await client.api("POST", "/cart", { productId: product.id, quantity: 1 });
      const both = await Promise.all([client.api("POST", "/checkout", CARD), client.api("POST", "/checkout", CARD)]);
      // The second either read the cart after the first emptied it (400 cart_empty), or read it before and its
      // transaction found the line gone (409 cart_changed; runtime/test/transactions.test.ts forces that order).
      const placed = both.filter((response) => response.status === 201);
      const refused = both.filter((response) => response.status !== 201);
      expect(placed).toHaveLength(1);
      expect(refused.map((r) => [r.status, r.body.error.code])).toEqual([
        expect.toSatisfy(
          ([status, code]) => (status === 409 && code === "cart_changed") || (status === 400 && code === "cart_empty"),
        ),
      ]);
      expect((await client.api("GET", "/orders")).body.items).toHaveLength(1);
      expect((await client.api("GET", `/products/${product.id}`)).body.product.inventoryQuantity).toBe(
        product.inventoryQuantity - 1,
      );
    });

    it("cancel: the status and the stock change together; twice, or someone else's order, is refused", async () => {
      const { client } = await registered();
      const product = await someProduct(client, 2);
      await client.api("POST", "/cart", { productId: product.id, quantity: 2 });
      const placed = await client.api("POST", "/checkout", CARD);
      expect(placed.status).toBe(201);
      const orderId = placed.body.order.id;
      const stockAfterSale = (await client.api("GET", `/products/${product.id}`)).body.product.inventoryQuantity;
      const other = await registered("other");
      expect((await other.client.api("POST", `/orders/${orderId}/cancel`)).status).toBe(404);
      const cancelled = await client.api("POST", `/orders/${orderId}/cancel`);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.order.status).toBe("cancelled");
      expect((await client.api("GET", `/products/${product.id}`)).body.product.inventoryQuantity).toBe(
        stockAfterSale + 2,
      );
      const again = await client.api("POST", `/orders/${orderId}/cancel`);
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe("not_cancellable");
      expect((await client.api("GET", `/products/${product.id}`)).body.product.inventoryQuantity).toBe(
        stockAfterSale + 2,
      );
      const page = await (await client.request(`/orders/${orderId}`)).text();
      expect(page).toContain('class="status cancelled"');
      expect(page).not.toContain("Cancel this order");
    });

    it("no one sees or changes another shopper's cart, orders or profile", async () => {
      const owner = await registered("owner");
      const other = await registered("other");
      const product = await someProduct(owner.client);
      await owner.client.api("POST", "/cart", { productId: product.id, quantity: 1 });
      const placed = await owner.client.api("POST", "/checkout", CARD);
      expect(placed.status).toBe(201);
      const orderId = placed.body.order.id;
      expect((await other.client.api("GET", `/orders/${orderId}`)).status).toBe(404);
      expect((await other.client.request(`/orders/${orderId}`)).status).toBe(404);
      expect((await other.client.api("GET", "/orders")).body.items).toEqual([]);
      await owner.client.api("POST", "/cart", { productId: product.id, quantity: 1 });
      expect((await other.client.api("GET", "/cart")).body.lines).toEqual([]);
      expect((await other.client.api("DELETE", `/cart/${product.id}`)).status).toBe(404);
      expect((await owner.client.api("GET", "/cart")).body.lines).toHaveLength(1);
      // Visitors are asked to log in.
      const visitor = shopper();
      expect((await visitor.api("GET", `/orders/${orderId}`)).status).toBe(401);
      expect((await visitor.api("GET", "/cart")).status).toBe(401);
      const page = await visitor.request("/orders");
      expect(page.status).toBe(303);
      expect(page.headers.get("location")).toBe("/login?done=login-needed&next=%2Forders");
    });

    it("profile: a new email moves (the old one is free again); an email someone has is a field's message", async () => {
      const first = await registered("first");
      const second = await registered("second");
      const moved = `${first.username}.new@example.com`;
      const changed = await first.client.api("PATCH", "/me", { email: moved, firstName: "Renamed" });
      expect(changed.status).toBe(200);
      expect((await first.client.api("GET", "/me")).body.user).toMatchObject({ email: moved, firstName: "Renamed" });
      const clash = await second.client.api("PATCH", "/me", { email: moved, firstName: "X" });
      expect(clash.status).toBe(400);
      expect(clash.body.error.fields).toEqual({ email: "This email is already registered." });
      // The old address is free again: the second shopper takes it.
      const freed = await second.client.api("PATCH", "/me", { email: `${first.username}@example.com`, firstName: "Y" });
      expect(freed.status).toBe(200);
      await first.client.api("DELETE", "/session");
      await first.client.login(moved, "correct horse");
    });

    it("sellers: become one, create and edit products, see real figures; another seller's product is not found", async () => {
      const seller = await registered("seller");
      const notYet = await seller.client.api("POST", "/seller/products", {});
      expect(notYet.status).toBe(403);
      expect((await seller.client.api("POST", "/me/seller")).body.user.isSeller).toBe(true);
      const { body } = await seller.client.api("GET", "/categories");
      const categoryId = body.categories[0].id;
      const invalidProduct = await seller.client.api("POST", "/seller/products", {
        name: "",
        price: "-1",
        inventoryQuantity: "x",
        categoryId: "0",
      });
      expect(invalidProduct.status).toBe(400);
      expect(Object.keys(invalidProduct.body.error.fields).sort()).toEqual([
        "categoryId",
        "inventoryQuantity",
        "name",
        "price",
      ]);
      const created = await seller.client.api("POST", "/seller/products", {
        name: "Test lantern",
        price: "19.90",
        inventoryQuantity: "4",
        categoryId,
        description: "<script>alert(1)</script>",
      });
      expect(created.status).toBe(201);
      const id = created.body.product.id;
      expect(
        (await seller.client.api("PATCH", `/seller/products/${id}`, { price: "21.5", inventoryQuantity: "0" })).body
          .product,
      ).toMatchObject({
        price: "21.50",
        inventoryQuantity: 0,
        name: "Test lantern",
      });
      // Saved over a stock that has changed since the form showed it (a sale): refused, nothing written.
      const stale = await seller.client.api("PATCH", `/seller/products/${id}`, { price: "99", shownStock: "4" });
      expect(stale.status).toBe(409);
      expect(stale.body.error.code).toBe("changed");
      expect((await seller.client.api("GET", `/seller/products/${id}`)).body.product.price).toBe("21.50");
      const second = await seller.client.api("POST", "/seller/products", {
        name: "Second",
        price: "5",
        inventoryQuantity: "3",
        categoryId,
      });
      const nothingSold = await seller.client.api("GET", "/seller/figures");
      expect(nothingSold.body).toMatchObject({ orders: 0, unitsSold: 0, revenue: "0", bestSellers: [] });
      // Sales: two orders of "Second" (2 units, then 1), the second cancelled; only the first counts.
      const buyer = await registered("fan");
      const orderIds: string[] = [];
      for (const quantity of [2, 1]) {
        await buyer.client.api("POST", "/cart", { productId: second.body.product.id, quantity });
        const placed = await buyer.client.api("POST", "/checkout", CARD);
        expect(placed.status).toBe(201);
        orderIds.push(placed.body.order.id);
      }
      expect((await buyer.client.api("POST", `/orders/${orderIds[1]}/cancel`)).status).toBe(200);
      // Stock: 3 - 2 - 1 + 1 (given back) = 1.
      const figures = await seller.client.api("GET", "/seller/figures");
      expect(figures.body).toMatchObject({ products: 2, unitsInStock: 1, stockValue: "500" });
      expect(figures.body).toMatchObject({ orders: 1, unitsSold: 2, revenue: "1000" });
      expect(figures.body.bestSellers).toEqual([
        { product: expect.objectContaining({ id: second.body.product.id }), unitsSold: 2 },
      ]);
      const dashboard = await (await seller.client.request("/seller")).text();
      expect(dashboard).toContain('data-figure="revenue">$10.00<');
      expect(dashboard).toContain("Best sellers: Second (2 sold)");
      expect(figures.body.outOfStock.map((p: { id: string }) => p.id)).toEqual([id]);
      // The description is shown escaped, never run.
      const page = await (await seller.client.request(`/products/${id}`)).text();
      expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      expect(page).not.toContain("<script>alert(1)</script>");
      const rival = await registered("rival");
      await rival.client.api("POST", "/me/seller");
      expect((await rival.client.api("PATCH", `/seller/products/${id}`, { price: "1" })).status).toBe(404);
      expect((await rival.client.api("GET", `/seller/products/${id}`)).status).toBe(404);
      expect((await rival.client.request(`/seller/products/${id}`)).status).toBe(404);
    });

    it("forms: a missing or wrong CSRF token is refused with nothing written; a body over the limit is 413", async () => {
      const { client } = await registered();
      const product = await someProduct(client);
      const noToken = await client.post("/cart", { productId: product.id, quantity: "1" }, { csrf: false });
      expect(noToken.status).toBe(403);
      const wrongToken = await client.post(
        "/cart",
        { productId: product.id, quantity: "1", _csrf: "x".repeat(32) },
        { csrf: false },
      );
      expect(wrongToken.status).toBe(403);
      const apiNoToken = await client.request("/api/cart", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ productId: product.id, quantity: 1 }),
      });
      expect(apiNoToken.status).toBe(403);
      expect(((await apiNoToken.json()) as { error: { code: string } }).error.code).toBe("csrf");
      expect((await client.api("GET", "/cart")).body.lines).toEqual([]);
      const big = await client.api("PATCH", "/me", { firstName: "x".repeat(70_000), email: "a@b.example.com" });
      expect(big.status).toBe(413);
      expect(big.body.error.code).toBe("too_large");
    });

    it("a form with errors is shown again with each field's message and what was typed (not the password)", async () => {
      const client = shopper();
      const response = await client.post("/register", {
        username: "ok_name",
        email: "broken",
        password: "short",
        firstName: "Ann",
      });
      expect(response.status).toBe(400);
      const html = await response.text();
      expect(html).toContain("Email must look like name@example.com.");
      expect(html).toContain("Password needs at least 8 characters.");
      expect(html).toContain('value="ok_name"');
      expect(html).toContain('value="broken"');
      expect(html).not.toContain('value="short"');
      expect(html).not.toMatch(/at .*\.ts:\d+/);
    });

    it("pages: log in through the form, add to the cart through the product page, check out through the checkout form", async () => {
      const client = shopper();
      const username = newName("pages");
      const created = await client.post("/register", {
        username,
        email: `${username}@example.com`,
        password: "correct horse",
        firstName: "Page",
      });
      expect(created.status).toBe(303);
      await client.post("/logout", {});
      const bad = await client.post("/login", { login: username, password: "wrong password" });
      expect(bad.status).toBe(401);
      const login = await client.post("/login", { login: username, password: "correct horse", next: "/cart" });
      expect(login.status).toBe(303);
      expect(login.headers.get("location")).toBe("/cart");
      const evil = await client.post("/login", {
        login: username,
        password: "correct horse",
        next: "//evil.example.com",
      });
      expect(evil.headers.get("location")).toBe("/?done=logged-in");
      const product = await someProduct(client);
      const added = await client.post("/cart", { productId: product.id, quantity: "1" });
      expect(added.headers.get("location")).toBe("/cart?done=added");
      const cart = await (await client.request("/cart?done=added")).text();
      expect(cart).toContain("Added to your cart.");
      expect(cart).toContain(`data-product="${product.id}"`);
      const paid = await client.post("/checkout", CARD);
      expect(paid.status).toBe(303);
      expect(paid.headers.get("location")).toMatch(/^\/orders\/\d+\?done=placed$/);
      const order = await (await client.request(paid.headers.get("location") as string)).text();
      expect(order).toContain("Thank you! Your order is placed and paid.");
    });

    if (phase === 3) {
      // Last in the file: every route above had its reads shadowed (a GET's once it answered, a write's alongside it),
      // with the dual writes' copies in the background: none mismatched.
      it("shadow reads: every route above compared on DynamoDB, none mismatched", async () => {
        await store.server().fleet.shadow.idle();
        const metrics = await (await shopper().request("/metrics")).text();
        // ferry_shadow_<name>_total, summed over its entities.
        const counted = (name: string) =>
          [...metrics.matchAll(new RegExp(`^ferry_shadow_${name}_total\\{[^}]*\\} (\\d+)$`, "gm"))]
            .map((match) => Number(match[1]))
            .reduce((a, b) => a + b, 0);
        expect(counted("comparisons")).toBeGreaterThan(50);
        expect(counted("mismatches")).toBe(0);
      });
    }
  });
}
