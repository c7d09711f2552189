/**
 * The same operations as the pages, as JSON under /api. Errors have one shape: `{ "error": { code, message,
 * fields? } }`. Unsafe requests carry the session's token in `x-csrf-token` (GET /api/session gives it).
 */
import { Hono } from "hono";
import { readFilters, readSearch } from "../shop/catalog.ts";
import { FormReader } from "../shop/forms.ts";
import { idParam, jsonBody, limitParam, plain, publicUser, requireUser, type Shop, type ShopEnv } from "./context.ts";
import { ShopError } from "./errors.ts";
import { restartable } from "./listing.ts";
import { logIn, logOut } from "./session.ts";

/** A page of a listing as the API answers it: `cursor` null at the end, `restarted` when it began again. */
function listingJson(listing: { page: { items: unknown[]; cursor?: string }; restarted: boolean }) {
  return { items: plain(listing.page.items), cursor: listing.page.cursor ?? null, restarted: listing.restarted };
}

export function apiRoutes(shop: Shop): Hono<ShopEnv> {
  const api = new Hono<ShopEnv>();

  api.get("/session", (c) =>
    c.json({ csrf: c.var.session.csrf, user: c.var.user === undefined ? null : publicUser(c.var.user) }),
  );
  api.post("/session", async (c) => {
    const body = await jsonBody(c);
    const user = await shop.accounts.authenticate(String(body.login ?? ""), String(body.password ?? ""));
    if (user === undefined) {
      throw new ShopError(401, "bad_credentials", "That username or email and password do not match.");
    }
    await logIn(c, shop.sessionOptions, user.id);
    return c.json({ csrf: c.var.session.csrf, user: publicUser(user) });
  });
  api.delete("/session", async (c) => {
    await logOut(c, shop.sessionOptions);
    return c.json({ csrf: c.var.session.csrf, user: null });
  });

  api.post("/users", async (c) => {
    const user = await shop.accounts.register(await jsonBody(c));
    await logIn(c, shop.sessionOptions, user.id);
    return c.json({ csrf: c.var.session.csrf, user: publicUser(user) }, 201);
  });
  api.get("/me", (c) => c.json({ user: publicUser(requireUser(c)) }));
  api.patch("/me", async (c) => {
    const user = await shop.accounts.updateProfile(requireUser(c), await jsonBody(c));
    return c.json({ user: publicUser(user) });
  });
  api.post("/me/seller", async (c) => {
    const user = requireUser(c);
    await shop.accounts.becomeSeller(user);
    return c.json({ user: publicUser({ ...user, isSeller: true }) });
  });

  api.get("/categories", async (c) => c.json({ categories: plain(await shop.catalog.tree()) }));
  api.get("/categories/:id/products", async (c) => {
    const category = await shop.catalog.category(idParam(c, "id", "This category"));
    const limit = limitParam(c);
    const filters = readFilters(c.req.query());
    const listing = await restartable(c.req.query("cursor"), (at) =>
      shop.catalog.products(category, limit, at, filters),
    );
    return c.json(listingJson(listing));
  });
  api.get("/search", async (c) => {
    const text = readSearch(c.req.query());
    const limit = limitParam(c);
    const listing = await restartable(c.req.query("cursor"), (at) => shop.catalog.search(text, limit, at));
    return c.json(listingJson(listing));
  });
  api.get("/products/:id", async (c) =>
    c.json({ product: plain(await shop.catalog.product(idParam(c, "id", "This product"))) }),
  );

  api.get("/cart", async (c) => {
    const cart = await shop.cart.view(requireUser(c).id);
    return c.json(plain(cart));
  });
  api.post("/cart", async (c) => {
    const user = requireUser(c);
    const form = new FormReader(await jsonBody(c));
    const productId = form.id("productId", "product");
    const quantity = form.integer("quantity", "Quantity", 1, 99);
    form.done();
    const added = await shop.cart.add(user.id, productId, quantity);
    return c.json(plain(await shop.cart.viewAfter(added)), 201);
  });
  api.patch("/cart/:productId", async (c) => {
    const user = requireUser(c);
    const productId = idParam(c, "productId", "This cart line");
    const form = new FormReader(await jsonBody(c));
    const quantity = form.integer("quantity", "Quantity", 0, 99);
    form.done();
    const changed = await shop.cart.setQuantity(user.id, productId, quantity);
    return c.json(plain(await shop.cart.viewAfter(changed)));
  });
  api.delete("/cart/:productId", async (c) => {
    const user = requireUser(c);
    const removed = await shop.cart.remove(user.id, idParam(c, "productId", "This cart line"));
    return c.json(plain(await shop.cart.viewAfter(removed)));
  });

  api.post("/checkout", async (c) => {
    const user = requireUser(c);
    const placed = await shop.orders.checkout(user.id, await jsonBody(c));
    return c.json(plain(placed), 201);
  });
  api.get("/orders", async (c) => {
    const user = requireUser(c);
    const limit = limitParam(c);
    const listing = await restartable(c.req.query("cursor"), (at) => shop.orders.history(user.id, limit, at));
    return c.json(listingJson(listing));
  });
  api.get("/orders/:id", async (c) => {
    const user = requireUser(c);
    return c.json(plain(await shop.orders.detail(user.id, idParam(c, "id", "This order"))));
  });

  api.post("/orders/:id/cancel", async (c) => {
    const user = requireUser(c);
    const id = idParam(c, "id", "This order");
    await shop.orders.cancel(user.id, id);
    return c.json(plain(await shop.orders.detail(user.id, id)));
  });

  api.get("/seller/figures", async (c) => c.json(plain(await shop.sellers.figures(requireUser(c)))));
  api.get("/seller/products", async (c) => {
    const user = requireUser(c);
    const limit = limitParam(c);
    const listing = await restartable(c.req.query("cursor"), (at) => shop.sellers.products(user, limit, at));
    return c.json(listingJson(listing));
  });
  api.post("/seller/products", async (c) => {
    const product = await shop.sellers.create(requireUser(c), await jsonBody(c));
    return c.json({ product: plain(product) }, 201);
  });
  api.get("/seller/products/:id", async (c) =>
    c.json({ product: plain(await shop.sellers.product(requireUser(c), idParam(c, "id", "This product"))) }),
  );
  api.patch("/seller/products/:id", async (c) => {
    const user = requireUser(c);
    const id = idParam(c, "id", "This product");
    await shop.sellers.update(user, id, await jsonBody(c));
    return c.json({ product: plain(await shop.sellers.product(user, id)) });
  });

  return api;
}
