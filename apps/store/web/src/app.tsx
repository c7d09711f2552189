/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The store's web app: pages and the JSON API over the generated repositories, with sessions, CSRF tokens, a
 * rate-limited log-in, a body limit, security headers, and errors that show a message, never a stack trace.
 */
import { randomUUID } from "node:crypto";
import {
  CursorError,
  CursorStoreChanged,
  FailureLog,
  shadowReadsAfter,
  WriteConflict,
  WritesSuspended,
  withCorrelationId,
} from "@ferry/runtime";
import type { Store } from "@ferry/store-data";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { MemoryStore, rateLimiter } from "hono-rate-limiter";
import { SCRIPT, STYLESHEET } from "./assets.ts";
import { apiRoutes } from "./http/api.ts";
import { type Shop, type ShopEnv, viewer } from "./http/context.ts";
import { apiError, ShopError } from "./http/errors.ts";
import { pageRoutes } from "./http/pages.tsx";
import { csrfTokens, type SessionOptions, sessions } from "./http/session.ts";
import { Accounts } from "./shop/accounts.ts";
import { Cart } from "./shop/cart.ts";
import { Catalog } from "./shop/catalog.ts";
import { Orders } from "./shop/orders.ts";
import { Sellers } from "./shop/sellers.ts";
import { ErrorPage } from "./views/error.tsx";

/** What /healthz answers; `ok` false makes it 503. */
export interface Health {
  ok: boolean;
}

export interface StoreAppOptions {
  /** The generated repositories (createStore over a FleetMember's storeOptions). */
  store: Store;
  /** Signs session cookies; every process of the fleet needs the same one. */
  sessionSecret: string;
  /** Secure cookies (behind HTTPS); default false. */
  secureCookies?: boolean;
  /** Failed log-ins allowed per account, and attempts per client address, in `loginWindowMs` (defaults 5 and 20 in 15 minutes). */
  loginLimits?: { perAccount: number; perAddress: number; windowMs: number };
  /** The largest request body (default 64 KiB). */
  maxBodyBytes?: number;
  /** /healthz: both stores and the phase. */
  health?: () => Promise<Health>;
  /** /metrics: Prometheus text. */
  metrics?: () => Promise<string>;
  /** Where unexpected errors are told (default console.error). */
  log?: (message: string, error: unknown) => void;
}

function wantsJson(c: Context): boolean {
  return c.req.path === "/api" || c.req.path.startsWith("/api/");
}

export function createStoreApp(options: StoreAppOptions): Hono<ShopEnv> {
  const sessionOptions: SessionOptions = { secret: options.sessionSecret, secure: options.secureCookies ?? false };
  if (options.sessionSecret.length < 32) throw new Error("the session secret needs at least 32 characters");
  const cart = new Cart(options.store);
  const shop: Shop = {
    store: options.store,
    accounts: new Accounts(options.store),
    catalog: new Catalog(options.store),
    cart,
    orders: new Orders(options.store, cart),
    sellers: new Sellers(options.store),
    sessionOptions,
  };
  const log = options.log ?? ((message: string, error: unknown) => console.error(`store: ${message}`, error));
  const limits = options.loginLimits ?? { perAccount: 5, perAddress: 20, windowMs: 15 * 60_000 };
  const app = new Hono<ShopEnv>();
  /** The header of an error page: as much as can be read (a request refused before its session has none). */
  const pageViewer = (c: Context<ShopEnv>) =>
    c.var.session === undefined
      ? Promise.resolve({ csrf: "" })
      : viewer(shop, c).catch(() => ({ csrf: c.var.session.csrf }));

  app.onError(async (error, c) => {
    let shopError: ShopError;
    if (error instanceof ShopError) shopError = error;
    else if (error instanceof WritesSuspended) {
      shopError = new ShopError(503, "unavailable", "The shop cannot take changes for a moment; try again shortly.");
    } else if (error instanceof WriteConflict) {
      shopError = new ShopError(409, "conflict", "Something else changed this at the same moment; try again.");
    } else if (error instanceof CursorError || error instanceof CursorStoreChanged) {
      shopError = new ShopError(
        400,
        "bad_cursor",
        "This listing's page link is no longer valid; start from the first page.",
      );
    } else {
      log(`${c.req.method} ${c.req.path} failed`, error);
      if (wantsJson(c))
        return c.json({ error: { code: "internal", message: "Something went wrong on our side." } }, 500);
      return c.html(
        <ErrorPage
          viewer={{ csrf: c.var.session?.csrf ?? "" }}
          status={500}
          message="Something went wrong on our side. Please try again."
        />,
        500,
      );
    }
    if (wantsJson(c)) return c.json(apiError(shopError), shopError.status);
    if (shopError.status === 401) {
      return c.redirect(`/login?done=login-needed&next=${encodeURIComponent(c.req.path)}`, 303);
    }
    const v = await pageViewer(c);
    return c.html(<ErrorPage viewer={v} status={shopError.status} message={shopError.message} />, shopError.status);
  });
  app.notFound(async (c) => {
    if (wantsJson(c)) return c.json(apiError(new ShopError(404, "not_found", "There is no such route.")), 404);
    const v = await pageViewer(c);
    return c.html(<ErrorPage viewer={v} status={404} message="This page does not exist." />, 404);
  });

  // Each request's correlation id (a shadow mismatch names it; answered as x-request-id). A GET or HEAD only reads,
  // so its shadow reads (phase 3) wait until it has answered: their work never sits inside the request. A request that
  // writes does not: its shadow reads would then often see its own write and lean on rechecks (docs/architecture.md).
  app.use(async (c, next) => {
    const given = c.req.header("x-request-id");
    const id = given !== undefined && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    c.header("x-request-id", id);
    const reading = c.req.method === "GET" || c.req.method === "HEAD";
    await withCorrelationId(id, () => (reading ? shadowReadsAfter(next) : next()));
  });
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", "https:", "data:"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        scriptSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    }),
  );
  app.get("/assets/app.css", (c) =>
    c.body(STYLESHEET, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=300" }),
  );
  app.get("/assets/app.js", (c) =>
    c.body(SCRIPT, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=300" }),
  );
  // A store that does not answer is logged when /healthz first finds it so and when it answers again, not on every
  // check (a load balancer asks every few seconds; the journey twice a second).
  const unhealthy = new FailureLog((message, error) => log(message, error));
  app.get("/healthz", async (c) => {
    if (options.health === undefined) return c.json({ ok: true });
    const health = await options.health();
    // The stores' own error texts (hosts, users) go to the log, not to whoever asks.
    const shown = Object.fromEntries(
      Object.entries(health).map(([part, value]) => {
        if (value === null || typeof value !== "object" || !("error" in value)) {
          unhealthy.recovered(part, `health: ${part} answers again`);
          return [part, value];
        }
        const { error, ...rest } = value as { error: unknown };
        unhealthy.failed(part, `health: ${part} did not answer`, error);
        return [part, rest];
      }),
    );
    return c.json(shown, health.ok ? 200 : 503);
  });
  app.get("/metrics", async (c) =>
    c.body(options.metrics ? await options.metrics() : "", 200, { "content-type": "text/plain; version=0.0.4" }),
  );

  app.use(
    bodyLimit({
      maxSize: options.maxBodyBytes ?? 64 * 1024,
      onError: () => {
        throw new ShopError(413, "too_large", "The request is too large.");
      },
    }),
  );
  app.use(sessions(sessionOptions));
  app.use(async (c, next) => {
    const id = c.var.session.userId;
    if (id !== undefined) {
      const user = await shop.accounts.user(BigInt(id));
      if (user !== undefined) c.set("user", user);
    }
    await next();
  });
  app.use(csrfTokens());

  // Log-in attempts: per client address (every attempt) and per account (failed ones).
  const tooMany = () => {
    throw new ShopError(429, "too_many_attempts", "Too many log-in attempts. Wait a few minutes and try again.");
  };
  const address = (c: Context) =>
    (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress ??
    "unknown";
  // The account a log-in names, by its id when there is one (its username and email, however spelt, are one
  // account), else by the name as typed.
  const account = async (c: Context) => {
    const body = wantsJson(c) ? await c.req.json().catch(() => ({})) : await c.req.parseBody().catch(() => ({}));
    const login = (body as Record<string, unknown>).login;
    const name = typeof login === "string" ? login.trim().toLowerCase() : "";
    const user = await shop.accounts.find(name);
    return user === undefined ? `login:${name}` : `user:${user.id}`;
  };
  const perAddress = rateLimiter<ShopEnv>({
    windowMs: limits.windowMs,
    limit: limits.perAddress,
    keyGenerator: address,
    store: new MemoryStore(),
    handler: tooMany,
  });
  const perAccount = rateLimiter<ShopEnv>({
    windowMs: limits.windowMs,
    limit: limits.perAccount,
    keyGenerator: account,
    store: new MemoryStore(),
    skipSuccessfulRequests: true,
    requestWasSuccessful: (c) => c.res.status < 400,
    handler: tooMany,
  });
  app.post("/login", perAddress, perAccount);
  app.post("/api/session", perAddress, perAccount);

  app.route("/api", apiRoutes(shop));
  app.route("/", pageRoutes(shop));
  return app;
}
