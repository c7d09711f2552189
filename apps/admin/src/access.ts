/**
 * Who may call a route: every route of the console is registered through `AccessRoutes`, which states its access and
 * puts the check in front of its handler, and keeps the list (a test calls every route the app has as anonymous and
 * as a viewer, and fails on a route that is not on the list, so a route added later is covered).
 *
 * - `public`: anyone (the log-in page, the stylesheet, /healthz);
 * - `viewer`: any logged-in operator account (it reads);
 * - `operator`: accounts with the operator role (they act).
 */
import type { Operator } from "@ferry/runtime";
import type { Context, Handler, Hono, MiddlewareHandler } from "hono";
import { AdminError } from "./errors.ts";
import type { AdminEnv } from "./session.ts";

export type Access = "public" | "viewer" | "operator";

export interface RouteAccess {
  method: "GET" | "POST";
  path: string;
  access: Access;
}

/** Refuses a request whose operator may not call a route of this access (401: log in; 403: the role cannot). */
export function requireAccess(access: Access): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    if (access !== "public") {
      const operator = c.var.operator;
      if (operator === undefined) throw new AdminError(401, "login_needed", "Log in first.");
      if (access === "operator" && operator.role !== "operator") {
        throw new AdminError(403, "forbidden", "Your account can look but not act: this needs the operator role.");
      }
    }
    await next();
  };
}

/** The logged-in operator of a request that passed its access check (401 when there is none). */
export function operatorOf(c: Context<AdminEnv>): Operator {
  const operator = c.var.operator;
  if (operator === undefined) throw new AdminError(401, "login_needed", "Log in first.");
  return operator;
}

/** Registers routes on `app` with their access checked, and lists them. */
export class AccessRoutes {
  readonly list: RouteAccess[] = [];

  constructor(private readonly app: Hono<AdminEnv>) {}

  get(path: string, access: Access, handler: Handler<AdminEnv>): void {
    this.add("GET", path, access, handler);
  }

  post(path: string, access: Access, handler: Handler<AdminEnv>): void {
    this.add("POST", path, access, handler);
  }

  private add(method: "GET" | "POST", path: string, access: Access, handler: Handler<AdminEnv>): void {
    this.list.push({ method, path, access });
    const check = requireAccess(access);
    const run = (c: Context<AdminEnv>, next: () => Promise<void>) => handler(c, next);
    if (method === "GET") this.app.get(path, check, run);
    else this.app.post(path, check, run);
  }
}
