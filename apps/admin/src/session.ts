/**
 * The operator's session: a signed, httpOnly, SameSite=Strict cookie naming the operator, the account's session
 * generation it was issued in, and when. It is checked against the account on every request (OperatorStore): it ends
 * when it is 8 hours old, and when the account's generation moves on (the account is disabled, gets another role or
 * password, or logs out: every session of it, in every browser). No two clocks are compared. Nothing else is kept, so
 * every admin process reads any session signed with the same secret.
 */
import type { Operator, OperatorStore } from "@ferry/runtime";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";

export const ADMIN_SESSION_COOKIE = "ferry_admin_session";
/** A session lasts this long after log-in. */
export const ADMIN_SESSION_MAX_AGE_S = 8 * 3600;

export interface SessionOptions {
  secret: string;
  /** Mark the cookie Secure (behind HTTPS). */
  secure: boolean;
  /** The clock (default Date.now). */
  now?: () => number;
}

export interface AdminEnv {
  Variables: { operator: Operator | undefined };
}

interface SessionCookie {
  name: string;
  /** The account's session generation when it was issued. */
  generation: number;
  /** Epoch milliseconds, by the clock of the process that issued it. */
  issuedAt: number;
}

function decode(value: string): SessionCookie | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as Partial<SessionCookie>;
    if (typeof parsed.name !== "string" || typeof parsed.issuedAt !== "number") return undefined;
    if (typeof parsed.generation !== "number") return undefined;
    return { name: parsed.name, generation: parsed.generation, issuedAt: parsed.issuedAt };
  } catch {
    return undefined;
  }
}

/** Reads the session into `c.var.operator`: the account, when the cookie is genuine, current and the account active. */
export function sessions(options: SessionOptions, operators: OperatorStore): MiddlewareHandler<AdminEnv> {
  const now = options.now ?? Date.now;
  return async (c, next) => {
    const raw = await getSignedCookie(c, options.secret, ADMIN_SESSION_COOKIE);
    const cookie = typeof raw === "string" ? decode(raw) : undefined;
    let operator: Operator | undefined;
    if (cookie !== undefined && now() - cookie.issuedAt < ADMIN_SESSION_MAX_AGE_S * 1000) {
      const account = await operators.get(cookie.name);
      if (account !== undefined && !account.disabled && cookie.generation === account.sessions) operator = account;
    }
    if (operator === undefined && raw !== undefined) deleteCookie(c, ADMIN_SESSION_COOKIE, { path: "/" });
    c.set("operator", operator);
    await next();
  };
}

/** Starts a session for `operator` (after its password was checked). */
export async function logIn(c: Context<AdminEnv>, options: SessionOptions, operator: Operator): Promise<void> {
  const now = options.now ?? Date.now;
  const session: SessionCookie = { name: operator.name, generation: operator.sessions, issuedAt: now() };
  await setSignedCookie(
    c,
    ADMIN_SESSION_COOKIE,
    Buffer.from(JSON.stringify(session)).toString("base64url"),
    options.secret,
    {
      httpOnly: true,
      sameSite: "Strict",
      secure: options.secure,
      path: "/",
      maxAge: ADMIN_SESSION_MAX_AGE_S,
    },
  );
  c.set("operator", operator);
}

/** Ends the session in this browser (the caller ends the account's others). */
export function logOut(c: Context<AdminEnv>): void {
  deleteCookie(c, ADMIN_SESSION_COOKIE, { path: "/" });
  c.set("operator", undefined);
}
