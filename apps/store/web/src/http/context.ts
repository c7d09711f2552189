/**
 * What every handler has: the shop's services, the session, the logged-in user (when there is one), and helpers to
 * read ids, bodies and to answer JSON (bigints as decimal strings).
 */
import type { Store, User } from "@ferry/store-data";
import type { Context } from "hono";
import type { Accounts } from "../shop/accounts.ts";
import type { Cart } from "../shop/cart.ts";
import type { Catalog } from "../shop/catalog.ts";
import type { Body } from "../shop/forms.ts";
import type { Orders } from "../shop/orders.ts";
import type { Sellers } from "../shop/sellers.ts";
import type { Viewer } from "../views/layout.tsx";
import { notFound, ShopError } from "./errors.ts";
import type { Session, SessionOptions } from "./session.ts";

export interface Shop {
  store: Store;
  accounts: Accounts;
  catalog: Catalog;
  cart: Cart;
  orders: Orders;
  sellers: Sellers;
  sessionOptions: SessionOptions;
}

export interface ShopEnv {
  Variables: { session: Session; user?: User };
}

export type ShopContext = Context<ShopEnv>;

/** The logged-in user, or 401. */
export function requireUser(c: ShopContext): User {
  const user = c.var.user;
  if (user === undefined) throw new ShopError(401, "login_required", "Log in to do this.");
  return user;
}

/** A route's id parameter; anything but a positive whole number is a page that does not exist. */
export function idParam(c: ShopContext, name: string, what: string): bigint {
  const text = c.req.param(name) ?? "";
  if (!/^[1-9][0-9]{0,18}$/.test(text)) throw notFound(what);
  return BigInt(text);
}

/** A form post's fields. */
export async function formBody(c: ShopContext): Promise<Body> {
  let body: Record<string, unknown>;
  try {
    body = await c.req.parseBody();
  } catch {
    throw new ShopError(400, "bad_request", "The form could not be read.");
  }
  const fields: Body = {};
  for (const [name, value] of Object.entries(body)) if (typeof value === "string") fields[name] = value;
  return fields;
}

/** A JSON body (an object), or 400. */
export async function jsonBody(c: ShopContext): Promise<Body> {
  const type = c.req.header("content-type") ?? "";
  if (!type.startsWith("application/json")) {
    throw new ShopError(400, "bad_request", "Send the body as JSON (Content-Type: application/json).");
  }
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new ShopError(400, "bad_request", "The body is not valid JSON.");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ShopError(400, "bad_request", "The body must be a JSON object.");
  }
  return body as Body;
}

/**
 * The copies the contract keeps on DynamoDB items only (a product's seller name, an order line's product name and
 * image): the API leaves them out, so that its answers have the same shape in every phase (`seller` and `name` say
 * the same, from whichever store reads).
 */
const COPIES = new Set(["sellerName", "productName", "productImageUrl"]);

/** A value with its bigints as decimal strings and without the DynamoDB-only copies, for JSON. */
export function plain(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([name]) => !COPIES.has(name))
        .map(([name, inner]) => [name, plain(inner)]),
    );
  }
  return value;
}

/** A user as the API shows it (no password hash). */
export function publicUser(user: User) {
  const { passwordHash: _hidden, ...rest } = user;
  return plain(rest);
}

/** The header's data for a page. */
export async function viewer(shop: Shop, c: ShopContext): Promise<Viewer> {
  const user = c.var.user;
  if (user === undefined) return { csrf: c.var.session.csrf };
  const lines = await shop.cart.lines(user.id);
  return {
    csrf: c.var.session.csrf,
    username: user.username,
    isSeller: user.isSeller,
    cartCount: lines.reduce((sum, line) => sum + line.quantity, 0),
  };
}

/** A listing's page size from `?limit=` (API), 1-100, default 24. */
export function limitParam(c: ShopContext): number {
  const text = c.req.query("limit");
  if (text === undefined) return 24;
  if (!/^[0-9]{1,3}$/.test(text) || Number(text) < 1 || Number(text) > 100) {
    throw new ShopError(400, "invalid", "limit must be a whole number from 1 to 100.", { limit: "1 to 100" });
  }
  return Number(text);
}
