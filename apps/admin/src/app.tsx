/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * The operators' console: Hono pages and the same operations as a JSON API under /api, on ferry's runtime (the same
 * PhaseStore, guard rails and outbox count as the CLI). Operator accounts live in the control table, so no phase locks
 * anyone out. Every route states who may call it (access.ts).
 */
import type { AuditTrail, BackfillLedger, Operator, OperatorStore, PhaseStore } from "@ferry/runtime";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { MemoryStore, rateLimiter } from "hono-rate-limiter";
import { AccessRoutes, operatorOf, type RouteAccess } from "./access.ts";
import { STYLESHEET, UPLOT_SCRIPT, UPLOT_STYLESHEET } from "./assets.ts";
import { ConsoleWork } from "./console-work.ts";
import { AdminError, apiError } from "./errors.ts";
import { movePhase, phaseView, readMoveRequest } from "./phase-console.ts";
import { ProgressFeed } from "./progress-feed.ts";
import { accountRoutes } from "./routes/accounts.tsx";
import { auditRoutes } from "./routes/audit.tsx";
import { backfillRoutes } from "./routes/backfill.tsx";
import { inspectRoutes } from "./routes/inspect.tsx";
import { outboxRoutes } from "./routes/outbox.tsx";
import { shadowRoutes } from "./routes/shadow.tsx";
import { validationRoutes } from "./routes/validation.tsx";
import { SCRIPT } from "./script.ts";
import { type AdminEnv, logIn, logOut, type SessionOptions, sessions } from "./session.ts";
import type { ConsoleStores } from "./stores.ts";
import { ErrorPage } from "./views/layout.tsx";
import { LoginPage } from "./views/login.tsx";
import { type Flash, PhasePage } from "./views/phase.tsx";

export interface AdminAppOptions {
  phases: PhaseStore;
  operators: OperatorStore;
  /** Where log-ins, refusals and log-outs are recorded, and what the audit page reads. */
  trail: AuditTrail;
  /** The backfill's runs and progress, as the backfill keeps them in the control table. */
  backfill: BackfillLedger;
  /**
   * The app's contract and stores, for what the console does to them (backfill, validation, repair, the outbox, the
   * record inspector); without them it watches and moves the phase only.
   */
  stores?: ConsoleStores;
  /** How often the backfill's live progress is read and sent (default 1000 ms). */
  progressEveryMs?: number;
  sessionSecret: string;
  /** Secure cookies (behind HTTPS). */
  secureCookies: boolean;
  /** Log-in attempts allowed per window: per client address (all) and per account from an address (failed ones). */
  loginLimits?: { perAddress: number; perAccount: number; windowMs: number };
  /** The clock (default Date.now). */
  now?: () => number;
  log?: (message: string, error?: unknown) => void;
}

export interface AdminApp {
  app: Hono<AdminEnv>;
  /** Every route and who may call it. */
  routes: readonly RouteAccess[];
  /** How many backfill event streams are open now. */
  liveStreams(): number;
  /** Stops the backfill progress poller, and this console's backfill worker (its run stays open). */
  close(): Promise<void>;
}

const DEFAULT_LOGIN_LIMITS = { perAddress: 30, perAccount: 5, windowMs: 15 * 60_000 };
const BODY_LIMIT = 64 * 1024;

function wantsJson(c: Context): boolean {
  return c.req.path === "/api" || c.req.path.startsWith("/api/");
}

/**
 * A path of this console to go back to after log-in, never another site: one slash, then no slash or backslash, and
 * no control character anywhere (browsers drop tabs and newlines from a URL, so `/\t/evil.example` would be
 * `//evil.example`); and it must resolve to this origin.
 */
export function localPath(value: unknown): string {
  if (typeof value !== "string" || !/^\/(?![/\\])[^\\]*$/.test(value)) return "/";
  if ([...value].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f)) return "/";
  const base = "http://console.invalid";
  const resolved = new URL(value, base);
  return resolved.origin === base ? `${resolved.pathname}${resolved.search}` : "/";
}

/** A JSON request's body when it is an object; an empty one otherwise (null, an array, a number, bad JSON). */
async function jsonObject(c: Context): Promise<Record<string, unknown>> {
  const body: unknown = await c.req.json().catch(() => undefined);
  return typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

export function createAdminApp(options: AdminAppOptions): AdminApp {
  const { phases, operators, trail, backfill } = options;
  const progress = new ProgressFeed(backfill, options.progressEveryMs ?? 1000, (message, error) =>
    (options.log ?? ((m: string, e?: unknown) => console.error(`ferry admin: ${m}`, e ?? "")))(message, error),
  );
  const now = options.now ?? Date.now;
  const log = options.log ?? ((message, error) => console.error(`ferry admin: ${message}`, error ?? ""));
  const session: SessionOptions = { secret: options.sessionSecret, secure: options.secureCookies, now };
  const app = new Hono<AdminEnv>();
  /** Records an action in the audit trail; a trail that cannot be written is logged, never the request's failure. */
  const note = async (entry: Parameters<AuditTrail["record"]>[0]) => {
    try {
      await trail.record(entry);
    } catch (error) {
      log("the audit trail could not be written", error);
    }
  };
  const work = options.stores === undefined ? undefined : new ConsoleWork(options.stores, phases, note, log, now);

  app.onError(async (error, c) => {
    let failure: AdminError;
    if (error instanceof AdminError) failure = error;
    else if (error instanceof HTTPException && error.status === 403) {
      failure = new AdminError(403, "csrf", "This form did not come from this console. Reload the page and try again.");
    } else if (error instanceof HTTPException && error.status === 413) {
      failure = new AdminError(413, "too_large", "That request is too large.");
    } else {
      log(`${c.req.method} ${c.req.path} failed`, error);
      if (wantsJson(c))
        return c.json({ error: { code: "internal", message: "Something went wrong on our side." } }, 500);
      return c.html(<ErrorPage status={500} message="Something went wrong on our side. Please try again." />, 500);
    }
    if (wantsJson(c)) return c.json(apiError(failure), failure.status);
    if (failure.status === 401) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 303);
    return c.html(
      <ErrorPage status={failure.status} message={failure.message} operator={c.var.operator} />,
      failure.status,
    );
  });
  app.notFound((c) => {
    if (wantsJson(c)) return c.json(apiError(new AdminError(404, "not_found", "There is no such route.")), 404);
    return c.html(<ErrorPage status={404} message="This page does not exist." operator={c.var.operator} />, 404);
  });

  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        styleSrc: ["'self'"],
        scriptSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    }),
  );
  app.use(
    bodyLimit({
      maxSize: BODY_LIMIT,
      onError: () => {
        throw new AdminError(413, "too_large", "That request is too large.");
      },
    }),
  );
  // Forms are accepted from this console's own pages only (Origin / Sec-Fetch-Site), and the session cookie is
  // SameSite=Strict; the API takes JSON only, which another site cannot send without a CORS preflight it never passes.
  app.use(csrf());
  app.use(async (c, next) => {
    if (
      wantsJson(c) &&
      c.req.method === "POST" &&
      !(c.req.header("content-type") ?? "").startsWith("application/json")
    ) {
      throw new AdminError(400, "json_only", "Send JSON (content-type: application/json).");
    }
    await next();
  });
  app.use(sessions(session, operators));

  // Log-in attempts: per client address (every attempt) and per account named from that address (failed ones), so that
  // guessing at an account from one address is slowed down without anyone elsewhere locking its owner out.
  const limits = options.loginLimits ?? DEFAULT_LOGIN_LIMITS;
  const address = (c: Context) =>
    (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress ??
    "unknown";
  /** The name a log-in typed, as the trail keeps it. */
  const typedName = async (c: Context) => {
    const body = wantsJson(c) ? await jsonObject(c) : await c.req.parseBody().catch(() => ({}));
    const name = (body as Record<string, unknown>).name;
    return typeof name === "string" && name.trim() !== "" ? name.trim().toLowerCase().slice(0, 64) : "(no name)";
  };
  // A refusal for too many attempts is recorded once a window per address (its limit tripped) or per address and name
  // (the account's), however often it is asked again: anyone can ask, and the trail must not grow with a flood. The
  // address limit trips first for a flood of names, so one address writes at most its limit's worth of entries.
  const refusalsNoted = new Map<string, number>();
  const MAX_NOTED = 10_000;
  const tooMany = (scope: "address" | "account") => async (c: Context) => {
    const who = await typedName(c);
    const at = now();
    let key = scope === "address" ? `address ${address(c)}` : `account ${address(c)} ${who}`;
    if (refusalsNoted.size >= MAX_NOTED) {
      for (const [noted, until] of refusalsNoted) if (until <= at) refusalsNoted.delete(noted);
    }
    // Still full: one entry a window says that more were refused than are told.
    if (refusalsNoted.size >= MAX_NOTED) key = "overflow";
    if ((refusalsNoted.get(key) ?? 0) <= at) {
      refusalsNoted.set(key, at + limits.windowMs);
      await note({
        who: key === "overflow" ? "(many)" : who,
        kind: "login-refused",
        what:
          key === "overflow"
            ? "too many log-in attempts from too many addresses to record each"
            : scope === "address"
              ? "too many log-in attempts from this address"
              : "too many log-in attempts",
        after: `from ${address(c)}`,
      });
    }
    throw new AdminError(429, "too_many_attempts", "Too many log-in attempts. Wait a few minutes and try again.");
  };
  const account = async (c: Context) => {
    const body = wantsJson(c) ? await jsonObject(c) : await c.req.parseBody().catch(() => ({}));
    const name = (body as Record<string, unknown>).name;
    // The account named, from this address: failures elsewhere do not lock its owner out.
    return `${address(c)} account:${typeof name === "string" ? name.trim().toLowerCase() : ""}`;
  };
  const perAddress = rateLimiter<AdminEnv>({
    windowMs: limits.windowMs,
    limit: limits.perAddress,
    keyGenerator: address,
    store: new MemoryStore(),
    handler: tooMany("address"),
  });
  const perAccount = rateLimiter<AdminEnv>({
    windowMs: limits.windowMs,
    limit: limits.perAccount,
    keyGenerator: account,
    store: new MemoryStore(),
    skipSuccessfulRequests: true,
    requestWasSuccessful: (c) => c.res.status < 400,
    handler: tooMany("account"),
  });
  app.post("/login", perAddress, perAccount);
  app.post("/api/session", perAddress, perAccount);

  const routes = new AccessRoutes(app);
  const me = operatorOf;
  const authenticate = async (c: Context, name: unknown, password: unknown): Promise<Operator> => {
    const fields: Record<string, string> = {};
    if (typeof name !== "string" || name.trim() === "") fields.name = "Enter your name.";
    if (typeof password !== "string" || password === "") fields.password = "Enter your password.";
    if (Object.keys(fields).length > 0) throw new AdminError(400, "invalid", "Enter your name and password.", fields);
    const typed = String(name).trim().toLowerCase();
    const operator = await operators.authenticate(typed, String(password));
    if (operator === undefined) {
      await note({
        who: typed.slice(0, 64),
        kind: "login-refused",
        what: "wrong name or password",
        after: `from ${address(c)}`,
      });
      throw new AdminError(401, "wrong_login", "Wrong name or password.");
    }
    await note({ who: operator.name, kind: "login", what: "logged in", after: `from ${address(c)}` });
    return operator;
  };
  const logOutEverywhere = async (c: Context<AdminEnv>) => {
    const { name } = me(c);
    await operators.endSessions(name);
    logOut(c);
    await note({ who: name, kind: "logout", what: "logged out (every session of the account ended)" });
  };

  routes.get("/assets/admin.css", "public", (c) =>
    c.body(STYLESHEET, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=300" }),
  );
  routes.get("/assets/admin.js", "public", (c) =>
    c.body(SCRIPT, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "public, max-age=300",
    }),
  );
  routes.get("/assets/uplot.js", "public", (c) =>
    c.body(UPLOT_SCRIPT, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "public, max-age=86400",
    }),
  );
  routes.get("/assets/uplot.css", "public", (c) =>
    c.body(UPLOT_STYLESHEET, 200, {
      "content-type": "text/css; charset=utf-8",
      "cache-control": "public, max-age=86400",
    }),
  );
  routes.get("/healthz", "public", async (c) => {
    try {
      const state = await phases.get();
      return c.json({ ok: true, phase: state.phase, version: state.version });
    } catch (error) {
      log("health check: the control table could not be read", error);
      return c.json({ ok: false, error: "the control table could not be read" }, 503);
    }
  });

  // Log-in and log-out.
  routes.get("/login", "public", (c) => {
    if (c.var.operator) return c.redirect("/", 303);
    return c.html(<LoginPage next={localPath(c.req.query("next"))} />);
  });
  routes.post("/login", "public", async (c) => {
    const body = await c.req.parseBody();
    const next = localPath(body.next);
    try {
      await logIn(c, session, await authenticate(c, body.name, body.password));
    } catch (error) {
      if (!(error instanceof AdminError) || (error.status !== 401 && error.status !== 400)) throw error;
      const name = typeof body.name === "string" ? body.name : "";
      return c.html(<LoginPage name={name} next={next} error={error.message} />, error.status);
    }
    return c.redirect(next, 303);
  });
  routes.post("/logout", "viewer", async (c) => {
    await logOutEverywhere(c);
    return c.redirect("/login", 303);
  });
  routes.get("/api/session", "viewer", (c) => {
    const { name, role } = me(c);
    return c.json({ operator: { name, role } });
  });
  routes.post("/api/session", "public", async (c) => {
    const body = await jsonObject(c);
    const operator = await authenticate(c, body.name, body.password);
    await logIn(c, session, operator);
    return c.json({ operator: { name: operator.name, role: operator.role } });
  });
  routes.post("/api/logout", "viewer", async (c) => {
    await logOutEverywhere(c);
    return c.json({ ok: true });
  });

  // The phase: where it is, the fleet, and the moves with their preconditions.
  routes.get("/", "viewer", async (c) => {
    const view = await phaseView(phases);
    // Said only when the phase is the one the move went to (a link cannot make the page claim a move).
    const flash: Flash | undefined =
      c.req.query("moved") === String(view.phase)
        ? { kind: "ok", message: `Moved to phase ${view.phase}.` }
        : undefined;
    return c.html(<PhasePage view={view} operator={me(c)} flash={flash} now={now()} />);
  });
  routes.post("/phase", "operator", async (c) => {
    const body = await c.req.parseBody();
    const typed = { reason: typeof body.reason === "string" ? body.reason : "", force: body.force === "on" };
    try {
      const moved = await movePhase(phases, me(c).name, readMoveRequest(body));
      return c.redirect(`/?moved=${moved.phase}`, 303);
    } catch (error) {
      if (!(error instanceof AdminError) || (error.status !== 400 && error.status !== 409)) throw error;
      const to = Number(body.to);
      const flash: Flash = {
        kind: "bad",
        message: error.message,
        ...(Number.isInteger(to) ? { to } : {}),
        ...(error.fields ? { fields: error.fields } : {}),
        typed,
      };
      return c.html(
        <PhasePage view={await phaseView(phases)} operator={me(c)} flash={flash} now={now()} />,
        error.status,
      );
    }
  });
  routes.get("/api/phase", "viewer", async (c) => c.json(await phaseView(phases)));
  routes.post("/api/phase", "operator", async (c) => {
    const moved = await movePhase(phases, me(c).name, readMoveRequest(await jsonObject(c)));
    return c.json({ phase: moved.phase, version: moved.version, flags: moved.flags });
  });

  accountRoutes(routes, operators);
  inspectRoutes(routes, options.stores);
  outboxRoutes(routes, work);
  shadowRoutes(routes, phases, now, options.stores?.codec);
  auditRoutes(routes, trail, log);
  validationRoutes(routes, phases, work, options.stores?.codec, jsonObject);
  backfillRoutes(routes, backfill, progress, now, work, options.stores?.codec.entities, jsonObject);

  return {
    app,
    routes: routes.list,
    liveStreams: () => progress.listening,
    async close() {
      progress.close();
      await work?.close();
    },
  };
}
