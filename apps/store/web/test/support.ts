/**
 * A test file's running store: the demo data seeded into the file's MySQL database, the contract's tables on
 * DynamoDB Local under the file's prefix, the backfill run when the phase needs DynamoDB to hold the data, the phase
 * set in the control table, and the store's server started as a fleet member. `Shopper` is an HTTP client with a
 * cookie jar, as a browser or an API client has.
 */
import { applyTables, createCodec, type Phase, PhaseStore, runBackfill } from "@ferry/runtime";
import { type TestStack, useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { contract } from "@ferry/store-data";
import { afterAll, beforeAll } from "vitest";
import { type RunningStore, startStoreServer } from "../src/index.ts";

export interface StoreFixture {
  stack: TestStack;
  url(): string;
  server(): RunningStore;
  /** Moves the shared phase (forced, as an operator may), and waits until the store routes by it. */
  setPhase(to: Phase): Promise<void>;
}

export function useStore(
  phase: Phase,
  options: { loginLimits?: { perAccount: number; perAddress: number; windowMs: number } } = {},
): StoreFixture {
  const stack = useTestStack();
  let running: RunningStore | undefined;
  // The store's process counts as live however slow the machine (its heartbeat may age past the 3 s default on CI's
  // loaded cores, and a move that changes the authoritative store would then wait out its lease or give up at once).
  const phases = () => new PhaseStore(stack.dynamodb(), { tablePrefix: stack.tablePrefix, staleAfterMs: 600_000 });
  const setPhase = async (to: Phase) => {
    const store = phases();
    let state = await store.get();
    while (state.phase !== to) {
      const next = (state.phase < to ? state.phase + 1 : state.phase - 1) as Phase;
      state = await store.set(next, {
        who: "test",
        reason: "store test",
        force: true,
        confirm: next === 5,
        // The fleet's drain and outbox may take long on a loaded machine: a ceiling, not a goal.
        waitMs: 240_000,
      });
    }
    if (running !== undefined) {
      await running.fleet.phase.refresh();
    }
  };
  beforeAll(async () => {
    await seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } });
    await applyTables(stack.dynamodb(), contract, { prefix: stack.tablePrefix });
    if (phase >= 2) {
      await setPhase(2);
      const report = await runBackfill(
        {
          codec: createCodec(contract),
          mysql: await stack.mysql(),
          client: stack.dynamodb(),
          tablePrefix: stack.tablePrefix,
        },
        { contract: "store.yaml", who: "test" },
      );
      if (report.report.state !== "finished") throw new Error(`the backfill ended ${report.report.state}`);
    }
    await setPhase(phase);
    running = await startStoreServer({
      mysqlUrl: stack.mysqlUrl,
      dynamodbEndpoint: stack.dynamodbEndpoint,
      tablePrefix: stack.tablePrefix,
      refreshMs: 200,
      // Generous (the store's default is 100 ms): DynamoDB Local, busy with the other test files, must not turn a
      // shadow read or its recheck (10 times the budget) into a timeout, nor a difference into a mismatch.
      shadowBudgetMs: 1_000,
      sessionSecret: "a test secret that is long enough to sign sessions",
      // An hour's window: a test's log-ins (scrypt each) could span more than a minute on a loaded machine.
      loginLimits: options.loginLimits ?? { perAccount: 5, perAddress: 1000, windowMs: 3_600_000 },
      log: process.env.STORE_TEST_LOG ? (message, error) => console.error(message, error) : () => {},
    });
  });
  afterAll(async () => {
    await running?.close();
  });
  const server = () => {
    if (running === undefined) throw new Error("the store runs inside tests only");
    return running;
  };
  return { stack, url: () => server().url, server, setPhase };
}

/** An HTTP client with a cookie jar; it follows no redirect by itself. */
export class Shopper {
  private readonly cookies = new Map<string, string>();
  constructor(private readonly base: () => string) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) {
      headers.set("cookie", [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; "));
    }
    const response = await fetch(`${this.base()}${path}`, { ...init, headers, redirect: "manual" });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ""] = cookie.split(";");
      const at = pair.indexOf("=");
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (value === "" || /max-age=0/i.test(cookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** The session's form token (what a page's forms carry). */
  async csrf(): Promise<string> {
    const response = await this.request("/api/session");
    return ((await response.json()) as { csrf: string }).csrf;
  }

  /** A form post, with the session's token unless `csrf: false`. */
  async post(path: string, fields: Record<string, string>, options: { csrf?: boolean } = {}): Promise<Response> {
    const body = new URLSearchParams(fields);
    if (options.csrf !== false) body.set("_csrf", await this.csrf());
    return this.request(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
  }

  /** A JSON API call with the token header; returns the status and the parsed body. */
  // biome-ignore lint/suspicious/noExplicitAny: the tests read the API's JSON by path, as a client would
  async api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (method !== "GET") headers["x-csrf-token"] = await this.csrf();
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await this.request(`/api${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
  }

  async login(login: string, password: string): Promise<void> {
    const { status } = await this.api("POST", "/session", { login, password });
    if (status !== 200) throw new Error(`log-in as ${login} answered ${status}`);
  }
}

/** A username nobody has yet. */
export function newName(prefix: string): string {
  return `${prefix}_${Math.random().toString(36).slice(2, 8)}`;
}
