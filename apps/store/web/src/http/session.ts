/**
 * The shopper's session: a signed, httpOnly, SameSite=Lax cookie holding who is logged in (a user id or nobody), the
 * form token that guards every unsafe request (CSRF), and when it was issued. Nothing is kept on the server, so every
 * process of the fleet reads any session it signed with the same secret.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { ShopError } from "./errors.ts";

export const SESSION_COOKIE = "ferry_store_session";
/** A session lasts this long after log-in (or after the first visit, for a visitor). */
export const SESSION_MAX_AGE_S = 7 * 24 * 3600;

export interface Session {
  /** The logged-in user's id (a decimal string), or undefined for a visitor. */
  userId?: string;
  /** The token every form and unsafe API request carries. */
  csrf: string;
  /** Seconds since the epoch when the session was issued. */
  issuedAt: number;
}

export interface SessionOptions {
  secret: string;
  /** Mark the cookie Secure (behind HTTPS). */
  secure: boolean;
}

export interface SessionEnv {
  Variables: { session: Session };
}

function encode(session: Session): string {
  return Buffer.from(JSON.stringify(session)).toString("base64url");
}

function decode(value: string): Session | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as Partial<Session>;
    if (typeof parsed.csrf !== "string" || parsed.csrf.length < 16 || typeof parsed.issuedAt !== "number") return;
    if (parsed.userId !== undefined && !/^[0-9]{1,20}$/.test(parsed.userId)) return;
    return { csrf: parsed.csrf, issuedAt: parsed.issuedAt, ...(parsed.userId ? { userId: parsed.userId } : {}) };
  } catch {
    return undefined;
  }
}

function fresh(userId?: string): Session {
  return {
    csrf: randomBytes(24).toString("base64url"),
    issuedAt: Math.floor(Date.now() / 1000),
    ...(userId === undefined ? {} : { userId }),
  };
}

/** Reads the session (a visitor's new one when there is none, or it is forged or expired) into `c.var.session`. */
export function sessions(options: SessionOptions): MiddlewareHandler<SessionEnv> {
  return async (c, next) => {
    const raw = await getSignedCookie(c, options.secret, SESSION_COOKIE);
    const read = typeof raw === "string" ? decode(raw) : undefined;
    const valid = read !== undefined && Date.now() / 1000 - read.issuedAt < SESSION_MAX_AGE_S ? read : undefined;
    if (valid === undefined) {
      const session = fresh();
      c.set("session", session);
      await write(c, options, session);
    } else c.set("session", valid);
    await next();
  };
}

async function write(c: Context, options: SessionOptions, session: Session): Promise<void> {
  await setSignedCookie(c, SESSION_COOKIE, encode(session), options.secret, {
    httpOnly: true,
    sameSite: "Lax",
    secure: options.secure,
    path: "/",
    maxAge: SESSION_MAX_AGE_S,
  });
}

/** A new session for this user (a new form token: a token seen before log-in is worth nothing after). */
export async function logIn(c: Context<SessionEnv>, options: SessionOptions, userId: bigint): Promise<void> {
  const session = fresh(userId.toString());
  c.set("session", session);
  await write(c, options, session);
}

/** Back to a visitor's session. */
export async function logOut(c: Context<SessionEnv>, options: SessionOptions): Promise<void> {
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
  const session = fresh();
  c.set("session", session);
  await write(c, options, session);
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * CSRF: every unsafe request carries the session's token, in the form field `_csrf` or the header `x-csrf-token`
 * (the API's clients read it from GET /api/session). A request from another site cannot read it.
 */
export function csrfTokens(): MiddlewareHandler<SessionEnv> {
  return async (c, next) => {
    if (UNSAFE.has(c.req.method)) {
      let given = c.req.header("x-csrf-token");
      if (given === undefined) {
        const type = c.req.header("content-type") ?? "";
        if (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data")) {
          let body: Record<string, unknown>;
          try {
            body = await c.req.parseBody();
          } catch {
            throw new ShopError(400, "bad_request", "The form could not be read.");
          }
          const field = body._csrf;
          if (typeof field === "string") given = field;
        }
      }
      if (given === undefined || !same(given, c.var.session.csrf)) {
        throw new ShopError(
          403,
          "csrf",
          "This form has expired or did not come from this site. Reload the page and try again.",
        );
      }
    }
    await next();
  };
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
