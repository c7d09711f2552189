/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The shop's pages: GET renders, a form POST either redirects (post/redirect/get) or renders the form again with a
 * message next to each field and what was typed (400).
 */
import { Hono } from "hono";
import type { JSX } from "hono/jsx/jsx-runtime";
import { NO_FILTERS, readFilters, readSearch } from "../shop/catalog.ts";
import { FormReader, typed } from "../shop/forms.ts";
import { Sellers } from "../shop/sellers.ts";
import { LoginPage, ProfilePage, RegisterPage } from "../views/account.tsx";
import { CategoryPage, HomePage, ProductPage, SearchPage } from "../views/catalog.tsx";
import type { Notice } from "../views/layout.tsx";
import { CartPage, CheckoutPage, OrderPage, OrdersPage } from "../views/orders.tsx";
import type { FormState } from "../views/parts.tsx";
import { ProductFormPage, SellerPage } from "../views/seller.tsx";
import { formBody, idParam, requireUser, type Shop, type ShopContext, type ShopEnv, viewer } from "./context.ts";
import { ShopError } from "./errors.ts";
import { RESTARTED, restartable } from "./listing.ts";
import { logIn, logOut } from "./session.ts";

const PAGE_SIZE = 24;

/** Notices a redirect asks for (?done=...), so that nothing from the query is echoed. */
const DONE: Record<string, Notice> = {
  registered: { kind: "ok", text: "Welcome! Your account is ready." },
  "logged-in": { kind: "ok", text: "You are logged in." },
  "logged-out": { kind: "ok", text: "You are logged out." },
  added: { kind: "ok", text: "Added to your cart." },
  updated: { kind: "ok", text: "Your cart is updated." },
  removed: { kind: "ok", text: "Removed from your cart." },
  placed: { kind: "ok", text: "Thank you! Your order is placed and paid." },
  cancelled: { kind: "ok", text: "Your order is cancelled and refunded." },
  saved: { kind: "ok", text: "Saved." },
  seller: { kind: "ok", text: "You are a seller now: add your first product." },
  "login-needed": { kind: "error", text: "Log in to continue." },
};

function notice(c: ShopContext): Notice | undefined {
  return DONE[c.req.query("done") ?? ""];
}

/** Where a log-in may send the shopper back to: a path on this site only. */
function safeNext(next: string | undefined): string {
  return next !== undefined && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : "/";
}

/** Renders a form page again with the error's messages (400 and co.), or throws what is not the form's. */
function formFailed(
  c: ShopContext,
  error: unknown,
  values: Record<string, string>,
  render: (form: FormState, notice: Notice) => JSX.Element,
): Response | Promise<Response> {
  if (!(error instanceof ShopError) || [401, 403, 404].includes(error.status)) throw error;
  const form: FormState = { values, errors: { ...error.fields } };
  c.status(error.status);
  return c.html(render(form, { kind: "error", text: error.message }));
}

export function pageRoutes(shop: Shop): Hono<ShopEnv> {
  const app = new Hono<ShopEnv>();

  app.get("/", async (c) =>
    c.html(<HomePage viewer={await viewer(shop, c)} tree={await shop.catalog.tree()} notice={notice(c)} />),
  );

  app.get("/categories/:id", async (c) => {
    const category = await shop.catalog.category(idParam(c, "id", "This category"));
    const query = c.req.query();
    // Filters that do not read are shown next to their fields, over the listing without them.
    let filters = NO_FILTERS;
    let form: FormState = { values: typed(query), errors: {} };
    try {
      filters = readFilters(query);
    } catch (error) {
      if (!(error instanceof ShopError) || error.status !== 400) throw error;
      form = { ...form, errors: { ...error.fields } };
      c.status(400);
    }
    const cursor = Object.keys(form.errors).length > 0 ? undefined : query.cursor;
    const [tree, parent, listing] = await Promise.all([
      shop.catalog.tree(),
      category.parentId === null ? undefined : shop.catalog.category(category.parentId).catch(() => undefined),
      restartable(cursor, (at) => shop.catalog.products(category, PAGE_SIZE, at, filters)),
    ]);
    return c.html(
      <CategoryPage
        viewer={await viewer(shop, c)}
        tree={tree}
        category={category}
        parent={parent}
        products={listing.page.items}
        cursor={listing.page.cursor}
        filters={filters}
        form={form}
        paged={cursor !== undefined && !listing.restarted}
        notice={listing.restarted ? { kind: "error", text: RESTARTED } : notice(c)}
      />,
    );
  });

  app.get("/search", async (c) => {
    const query = c.req.query();
    let text = "";
    let error: string | undefined;
    try {
      text = readSearch(query);
    } catch (failure) {
      if (!(failure instanceof ShopError) || failure.status !== 400) throw failure;
      error = failure.fields.q ?? failure.message;
      c.status(400);
    }
    const cursor = error === undefined ? query.cursor : undefined;
    const listing =
      text === "" ? undefined : await restartable(cursor, (at) => shop.catalog.search(text, PAGE_SIZE, at));
    return c.html(
      <SearchPage
        viewer={await viewer(shop, c)}
        query={error === undefined ? text : (query.q ?? "")}
        error={error}
        products={listing?.page.items}
        cursor={listing?.page.cursor}
        paged={cursor !== undefined && listing?.restarted === false}
        notice={listing?.restarted ? { kind: "error", text: RESTARTED } : notice(c)}
      />,
    );
  });

  app.get("/products/:id", async (c) => {
    const product = await shop.catalog.product(idParam(c, "id", "This product"));
    return c.html(<ProductPage viewer={await viewer(shop, c)} product={product} notice={notice(c)} />);
  });

  // Accounts.
  app.get("/login", async (c) =>
    c.html(<LoginPage viewer={await viewer(shop, c)} next={safeNext(c.req.query("next"))} notice={notice(c)} />),
  );
  app.post("/login", async (c) => {
    const body = await formBody(c);
    const next = safeNext(typeof body.next === "string" ? body.next : undefined);
    const user = await shop.accounts.authenticate(String(body.login ?? ""), String(body.password ?? ""));
    if (user === undefined) {
      c.status(401);
      return c.html(
        <LoginPage
          viewer={await viewer(shop, c)}
          next={next}
          form={{ values: typed(body), errors: {} }}
          notice={{ kind: "error", text: "That username or email and password do not match." }}
        />,
      );
    }
    await logIn(c, shop.sessionOptions, user.id);
    return c.redirect(next === "/" ? "/?done=logged-in" : next, 303);
  });
  app.get("/register", async (c) => c.html(<RegisterPage viewer={await viewer(shop, c)} notice={notice(c)} />));
  app.post("/register", async (c) => {
    const body = await formBody(c);
    try {
      const user = await shop.accounts.register(body);
      await logIn(c, shop.sessionOptions, user.id);
      return c.redirect("/?done=registered", 303);
    } catch (error) {
      const v = await viewer(shop, c);
      return formFailed(c, error, typed(body), (form, n) => <RegisterPage viewer={v} form={form} notice={n} />);
    }
  });
  app.post("/logout", async (c) => {
    await logOut(c, shop.sessionOptions);
    return c.redirect("/?done=logged-out", 303);
  });

  app.get("/profile", async (c) => {
    const user = requireUser(c);
    return c.html(<ProfilePage viewer={await viewer(shop, c)} user={user} notice={notice(c)} />);
  });
  app.post("/profile", async (c) => {
    const user = requireUser(c);
    const body = await formBody(c);
    try {
      await shop.accounts.updateProfile(user, body);
      return c.redirect("/profile?done=saved", 303);
    } catch (error) {
      const v = await viewer(shop, c);
      return formFailed(c, error, typed(body), (form, n) => (
        <ProfilePage viewer={v} user={user} form={form} notice={n} />
      ));
    }
  });
  app.post("/profile/seller", async (c) => {
    const user = requireUser(c);
    await shop.accounts.becomeSeller(user);
    return c.redirect("/seller?done=seller", 303);
  });

  // Cart, checkout, orders.
  app.get("/cart", async (c) => {
    const user = requireUser(c);
    return c.html(<CartPage viewer={await viewer(shop, c)} cart={await shop.cart.view(user.id)} notice={notice(c)} />);
  });
  app.post("/cart", async (c) => {
    const user = c.var.user;
    const body = await formBody(c);
    if (user === undefined) {
      const back = /^[1-9][0-9]{0,18}$/.test(String(body.productId ?? "")) ? `/products/${body.productId}` : "/";
      return c.redirect(`/login?done=login-needed&next=${encodeURIComponent(back)}`, 303);
    }
    const form = new FormReader(body);
    const productId = form.id("productId", "product");
    const quantity = form.integer("quantity", "Quantity", 1, 99);
    try {
      form.done();
      await shop.cart.add(user.id, productId, quantity);
      return c.redirect("/cart?done=added", 303);
    } catch (error) {
      if (!(error instanceof ShopError) || error.status !== 400 || productId === 0n) throw error;
      const product = await shop.catalog.product(productId);
      const v = await viewer(shop, c);
      return formFailed(c, error, typed(body), (f, n) => (
        <ProductPage viewer={v} product={product} form={f} notice={n} />
      ));
    }
  });
  app.post("/cart/:productId", async (c) => {
    const user = requireUser(c);
    const productId = idParam(c, "productId", "This cart line");
    const body = await formBody(c);
    const form = new FormReader(body);
    const quantity = form.integer("quantity", "Quantity", 0, 99);
    try {
      form.done();
      await shop.cart.setQuantity(user.id, productId, quantity);
      return c.redirect(quantity === 0 ? "/cart?done=removed" : "/cart?done=updated", 303);
    } catch (error) {
      if (!(error instanceof ShopError) || error.status !== 400) throw error;
      const cart = await shop.cart.view(user.id);
      const v = await viewer(shop, c);
      const errors = { [`line-${productId}`]: Object.values(error.fields)[0] ?? error.message };
      return formFailed(c, new ShopError(400, error.code, error.message, errors), {}, (f, n) => (
        <CartPage viewer={v} cart={cart} form={f} notice={n} />
      ));
    }
  });
  app.post("/cart/:productId/remove", async (c) => {
    const user = requireUser(c);
    await shop.cart.remove(user.id, idParam(c, "productId", "This cart line"));
    return c.redirect("/cart?done=removed", 303);
  });

  app.get("/checkout", async (c) => {
    const user = requireUser(c);
    const cart = await shop.cart.view(user.id);
    if (cart.lines.length === 0) return c.redirect("/cart", 303);
    return c.html(<CheckoutPage viewer={await viewer(shop, c)} cart={cart} notice={notice(c)} />);
  });
  app.post("/checkout", async (c) => {
    const user = requireUser(c);
    const body = await formBody(c);
    try {
      const placed = await shop.orders.checkout(user.id, body);
      return c.redirect(`/orders/${placed.order.id}?done=placed`, 303);
    } catch (error) {
      if (error instanceof ShopError && error.code === "cart_empty") return c.redirect("/cart", 303);
      if (error instanceof ShopError && error.fields && Object.keys(error.fields).some((f) => f.startsWith("line-"))) {
        const cart = await shop.cart.view(user.id);
        const v = await viewer(shop, c);
        return formFailed(c, error, {}, (f, n) => <CartPage viewer={v} cart={cart} form={f} notice={n} />);
      }
      const cart = await shop.cart.view(user.id);
      const v = await viewer(shop, c);
      return formFailed(c, error, typed(body), (f, n) => <CheckoutPage viewer={v} cart={cart} form={f} notice={n} />);
    }
  });

  app.get("/orders", async (c) => {
    const user = requireUser(c);
    const cursor = c.req.query("cursor");
    const listing = await restartable(cursor, (at) => shop.orders.history(user.id, PAGE_SIZE, at));
    return c.html(
      <OrdersPage
        viewer={await viewer(shop, c)}
        orders={listing.page.items}
        cursor={listing.page.cursor}
        paged={cursor !== undefined && !listing.restarted}
        notice={listing.restarted ? { kind: "error", text: RESTARTED } : notice(c)}
      />,
    );
  });
  app.get("/orders/:id", async (c) => {
    const user = requireUser(c);
    const { order, lines } = await shop.orders.detail(user.id, idParam(c, "id", "This order"));
    return c.html(<OrderPage viewer={await viewer(shop, c)} order={order} lines={lines} notice={notice(c)} />);
  });

  app.post("/orders/:id/cancel", async (c) => {
    const user = requireUser(c);
    const id = idParam(c, "id", "This order");
    try {
      await shop.orders.cancel(user.id, id);
    } catch (error) {
      if (!(error instanceof ShopError) || error.status !== 409) throw error;
      const { order, lines } = await shop.orders.detail(user.id, id);
      c.status(409);
      return c.html(
        <OrderPage
          viewer={await viewer(shop, c)}
          order={order}
          lines={lines}
          notice={{ kind: "error", text: error.message }}
        />,
      );
    }
    return c.redirect(`/orders/${id}?done=cancelled`, 303);
  });

  // Sellers.
  app.get("/seller", async (c) => {
    const user = requireUser(c);
    Sellers.requireSeller(user);
    const cursor = c.req.query("cursor");
    const [figures, listing] = await Promise.all([
      shop.sellers.figures(user),
      restartable(cursor, (at) => shop.sellers.products(user, PAGE_SIZE, at)),
    ]);
    return c.html(
      <SellerPage
        viewer={await viewer(shop, c)}
        figures={figures}
        products={listing.page.items}
        cursor={listing.page.cursor}
        paged={cursor !== undefined && !listing.restarted}
        notice={listing.restarted ? { kind: "error", text: RESTARTED } : notice(c)}
      />,
    );
  });
  app.get("/seller/products/new", async (c) => {
    const user = requireUser(c);
    Sellers.requireSeller(user);
    return c.html(<ProductFormPage viewer={await viewer(shop, c)} tree={await shop.catalog.tree()} />);
  });
  app.post("/seller/products", async (c) => {
    const user = requireUser(c);
    const body = await formBody(c);
    try {
      const product = await shop.sellers.create(user, body);
      return c.redirect(`/products/${product.id}?done=saved`, 303);
    } catch (error) {
      const [v, tree] = await Promise.all([viewer(shop, c), shop.catalog.tree()]);
      return formFailed(c, error, typed(body), (f, n) => (
        <ProductFormPage viewer={v} tree={tree} form={f} notice={n} />
      ));
    }
  });
  app.get("/seller/products/:id", async (c) => {
    const user = requireUser(c);
    const product = await shop.sellers.product(user, idParam(c, "id", "This product"));
    return c.html(
      <ProductFormPage
        viewer={await viewer(shop, c)}
        tree={await shop.catalog.tree()}
        product={product}
        notice={notice(c)}
      />,
    );
  });
  app.post("/seller/products/:id", async (c) => {
    const user = requireUser(c);
    const id = idParam(c, "id", "This product");
    const product = await shop.sellers.product(user, id);
    const body = await formBody(c);
    try {
      await shop.sellers.update(user, id, body);
      return c.redirect(`/seller/products/${id}?done=saved`, 303);
    } catch (error) {
      const [v, tree] = await Promise.all([viewer(shop, c), shop.catalog.tree()]);
      // The stock changed meanwhile: the form shows the new stock (and takes it as the one shown), the rest as typed.
      const changed = error instanceof ShopError && error.code === "changed";
      const latest = changed ? await shop.sellers.product(user, id) : product;
      const values = typed(body);
      if (changed) {
        delete values.shownStock;
        delete values.inventoryQuantity;
      }
      return formFailed(c, error, values, (f, n) => (
        <ProductFormPage viewer={v} tree={tree} product={latest} form={f} notice={n} />
      ));
    }
  });

  return app;
}
