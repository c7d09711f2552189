/** A console of a test file's own: its own control table (table prefix), two accounts, and requests made in process. */
import { AuditTrail, BackfillLedger, OperatorAccountError, OperatorStore, PhaseStore } from "@ferry/runtime";
import type { useTestStack } from "@ferry/stack/testing";
import { type AdminAppOptions, createAdminApp } from "../src/index.ts";

export const ORIGIN = "http://admin.test";
export const PASSWORDS = { ada: "correct horse battery", val: "viewer's long password" } as const;

export interface TestConsole {
  phases: PhaseStore;
  operators: OperatorStore;
  trail: AuditTrail;
  /** How many backfill event streams the console has open. */
  liveStreams(): number;
  app: ReturnType<typeof createAdminApp>["app"];
  /** Closes the console (its progress poller, and its backfill worker). */
  close(): Promise<void>;
  routes: ReturnType<typeof createAdminApp>["routes"];
  /** Sends a request to the console as a browser on its own origin would (Origin set on unsafe methods). */
  request(path: string, init?: RequestInit & { cookie?: string; from?: string }): Promise<Response>;
  /** Logs in through the API and gives back the session cookie. */
  logIn(name: keyof typeof PASSWORDS): Promise<string>;
  clock: { now: number };
}

export async function testConsole(
  stack: ReturnType<typeof useTestStack>,
  name: string,
  options: Partial<AdminAppOptions> = {},
): Promise<TestConsole> {
  const tablePrefix = `${stack.tablePrefix}${name}_`;
  const clock = { now: Date.now() };
  const phases = new PhaseStore(stack.dynamodb(), { tablePrefix, now: () => clock.now });
  const operators = new OperatorStore(stack.dynamodb(), { tablePrefix, now: () => clock.now });
  // A second console on the same control table (a restart) finds the accounts there.
  const account = async (input: Parameters<OperatorStore["create"]>[0]) => {
    try {
      await operators.create(input);
    } catch (error) {
      if (!(error instanceof OperatorAccountError && error.reason === "exists")) throw error;
    }
  };
  await account({ name: "ada", password: PASSWORDS.ada, role: "operator", by: "test" });
  clock.now += 1;
  await account({ name: "val", password: PASSWORDS.val, role: "viewer", by: "ada" });
  const trail = new AuditTrail(stack.dynamodb(), { tablePrefix, now: () => clock.now });
  const { app, routes, liveStreams, close } = createAdminApp({
    phases,
    operators,
    trail,
    backfill: new BackfillLedger(stack.dynamodb(), { tablePrefix, now: () => clock.now }),
    progressEveryMs: 100,
    sessionSecret: "a test secret that is long enough",
    secureCookies: false,
    loginLimits: { perAddress: 1000, perAccount: 5, windowMs: 3_600_000 },
    now: () => clock.now,
    log: () => {},
    ...options,
  });
  const request = (path: string, init: RequestInit & { cookie?: string; from?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.cookie) headers.set("cookie", init.cookie);
    const method = (init.method ?? "GET").toUpperCase();
    if (method !== "GET" && method !== "HEAD" && !headers.has("origin")) headers.set("origin", ORIGIN);
    // The client's address, as @hono/node-server hands it over.
    const env = { incoming: { socket: { remoteAddress: init.from ?? "127.0.0.1" } } };
    return Promise.resolve(app.request(`${ORIGIN}${path}`, { ...init, headers }, env));
  };
  const logIn = async (who: keyof typeof PASSWORDS) => {
    const answer = await request("/api/session", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: who, password: PASSWORDS[who] }),
    });
    if (answer.status !== 200) throw new Error(`logging ${who} in answered ${answer.status}`);
    const cookie = answer.headers.get("set-cookie")?.split(";")[0];
    if (!cookie) throw new Error("no session cookie");
    return cookie;
  };
  return { phases, operators, trail, app, routes, request, logIn, clock, liveStreams, close };
}

/** A form body. */
export function form(fields: Record<string, string>): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  };
}

/** A JSON body. */
export function json(value: unknown): RequestInit {
  return { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(value) };
}

/** A page's text as a person reads it: no style or script blocks, no tags, entities decoded, spaces collapsed. */
export function readable(html: string): string {
  return html
    .replace(/<(style|script)[\s\S]*?<\/\1>/g, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/&gt;/g, ">")
    .replace(/&lt;/g, "<")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}
