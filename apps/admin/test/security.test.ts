import { CachedPhase } from "@ferry/runtime";
import { createMysqlPool } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { contract } from "@ferry/store-data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_SESSION_MAX_AGE_S, consoleStores } from "../src/index.ts";
import { form, json, testConsole } from "./console.ts";

const stack = useTestStack();
// The console's MySQL is a pool (ConsoleStores), as pnpm start gives it: its outbox refuses a single connection.
let pool: ReturnType<typeof createMysqlPool>;
beforeAll(() => {
  pool = createMysqlPool(stack.mysqlUrl, { connectionLimit: 4 });
});
afterAll(async () => {
  await pool.end();
});

/** A request that reaches the route's handler if the access check lets it (a body each kind of route accepts). */
function probe(method: string, path: string): RequestInit {
  if (method === "GET") return {};
  return path.startsWith("/api/") ? json({}) : form({});
}

describe("who may call what", () => {
  // A ceiling against hangs: two log-ins (scrypt) and three requests for each of its ~60 routes took 7 s alone and
  // over 120 s in CI's run, where every package's tests start at once on two cores.
  it("every route the app has is on the access list, and each refuses anonymous callers and viewers where due", {
    timeout: 360_000,
  }, async () => {
    // With the app's stores (the store's contract; its tables are not there, so what an operator starts fails on its
    // own, after the answer), so that every route answers as it does under pnpm start.
    const console = await testConsole(stack, "access", {
      stores: consoleStores({
        contract,
        mysql: pool,
        client: stack.dynamodb(),
        tablePrefix: `${stack.tablePrefix}access_`,
      }),
    });
    // Middleware (app.use) is registered for every method; only on every path, never to answer a route of its own.
    for (const route of console.app.routes.filter((r) => r.method === "ALL")) expect(["*", "/*"]).toContain(route.path);
    const registered = console.app.routes.filter((route) => route.method !== "ALL");
    for (const route of registered) {
      const listed = console.routes.find((r) => r.method === route.method && r.path === route.path);
      expect(listed, `${route.method} ${route.path} is registered without its access`).toBeDefined();
    }
    // Who may call what, stated once more here: a route added later, or an access changed, fails until it is reviewed.
    expect(console.routes.map((r) => `${r.method} ${r.path} ${r.access}`).sort()).toEqual([
      "GET / viewer",
      "GET /accounts viewer",
      "GET /api/accounts viewer",
      "GET /api/audit viewer",
      "GET /api/backfill viewer",
      "GET /api/backfill/:id viewer",
      "GET /api/backfill/events viewer",
      "GET /api/inspect viewer",
      "GET /api/outbox viewer",
      "GET /api/phase viewer",
      "GET /api/session viewer",
      "GET /api/shadow viewer",
      "GET /api/validation viewer",
      "GET /api/validation/:id viewer",
      "GET /assets/admin.css public",
      "GET /assets/admin.js public",
      "GET /assets/uplot.css public",
      "GET /assets/uplot.js public",
      "GET /audit viewer",
      "GET /audit.csv viewer",
      "GET /backfill viewer",
      "GET /backfill/:id viewer",
      "GET /healthz public",
      "GET /inspect viewer",
      "GET /login public",
      "GET /outbox viewer",
      "GET /shadow viewer",
      "GET /validation viewer",
      "GET /validation/:id viewer",
      "POST /accounts operator",
      "POST /accounts/:name/disabled operator",
      "POST /accounts/:name/password operator",
      "POST /accounts/:name/role operator",
      "POST /api/accounts operator",
      "POST /api/accounts/:name/disabled operator",
      "POST /api/accounts/:name/password operator",
      "POST /api/accounts/:name/role operator",
      "POST /api/backfill/resume operator",
      "POST /api/backfill/start operator",
      "POST /api/backfill/stop operator",
      "POST /api/logout viewer",
      "POST /api/outbox/drain operator",
      "POST /api/phase operator",
      "POST /api/session public",
      "POST /api/validation/repair operator",
      "POST /api/validation/run operator",
      "POST /backfill/resume operator",
      "POST /backfill/start operator",
      "POST /backfill/stop operator",
      "POST /login public",
      "POST /logout viewer",
      "POST /outbox/drain operator",
      "POST /phase operator",
      "POST /validation/repair operator",
      "POST /validation/run operator",
    ]);
    /** Refused for want of a session: 401 from the API, a redirect to the log-in page from a page. */
    const refusedForLogin = (answer: Response, path: string) =>
      path.startsWith("/api/")
        ? answer.status === 401
        : answer.status === 303 && answer.headers.get("location") === `/login?next=${encodeURIComponent(path)}`;
    for (const route of console.routes) {
      // Sessions of their own for each route (a log-out route ends the account's sessions).
      const viewer = await console.logIn("val");
      const operator = await console.logIn("ada");
      const name = `${route.method} ${route.path}`;
      const path = route.path.replace(/:(\w+)/g, "x");
      const anonymous = await console.request(path, probe(route.method, path));
      expect(anonymous.status, `${name} anonymous`).toBeLessThan(500);
      if (route.access === "public") {
        expect([401, 403], `${name} anonymous`).not.toContain(anonymous.status);
        expect(refusedForLogin(anonymous, path), `${name} anonymous`).toBe(false);
        continue;
      }
      if (path.startsWith("/api/")) {
        expect(anonymous.status, `${name} anonymous`).toBe(401);
        expect(await anonymous.json()).toEqual({ error: { code: "login_needed", message: "Log in first." } });
      } else {
        expect(anonymous.status, `${name} anonymous`).toBe(303);
        expect(anonymous.headers.get("location")).toBe(`/login?next=${encodeURIComponent(path)}`);
      }
      const asViewer = await console.request(path, { ...probe(route.method, path), cookie: viewer });
      expect(asViewer.status, `${name} as viewer`).toBeLessThan(500);
      if (route.access === "operator") expect(asViewer.status, `${name} as viewer`).toBe(403);
      else {
        expect(asViewer.status, `${name} as viewer`).not.toBe(403);
        expect(refusedForLogin(asViewer, path), `${name} as viewer`).toBe(false);
      }
      if (route.access === "operator") {
        const asOperator = await console.request(path, { ...probe(route.method, path), cookie: operator });
        expect(asOperator.status, `${name} as operator`).toBeLessThan(500);
        expect(asOperator.status, `${name} as operator`).not.toBe(403);
        expect(refusedForLogin(asOperator, path), `${name} as operator`).toBe(false);
      }
    }
    // Nothing a viewer tried moved the phase.
    expect((await console.phases.get()).version).toBe(0);
  });

  it("refuses a form from another site and an API call that is not JSON", async () => {
    const console = await testConsole(stack, "csrf");
    const cookie = await console.logIn("ada");
    const forged = await console.request("/phase", {
      ...form({ to: "2", version: "0" }),
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://evil.example" },
      cookie,
    });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain("This form did not come from this console.");
    const plain = await console.request("/api/phase", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ to: 2, version: 0 }),
      cookie,
    });
    expect(plain.status).toBe(400);
    const crossSite = await console.request("/api/phase", {
      method: "POST",
      headers: { "content-type": "text/plain", origin: "http://evil.example" },
      body: JSON.stringify({ to: 2, version: 0 }),
      cookie,
    });
    expect(crossSite.status).toBe(403);
    const notJson = await console.request("/api/phase", { ...form({ to: "2", version: "0" }), cookie });
    expect(notJson.status).toBe(400);
    const noType = await console.request("/api/phase", { method: "POST", body: "{}", cookie });
    expect(noType.status).toBe(400);
    expect(await noType.json()).toEqual({
      error: { code: "json_only", message: "Send JSON (content-type: application/json)." },
    });
    expect((await console.phases.get()).phase).toBe(1);
  });

  it("sets an httpOnly, SameSite=Strict session cookie (Secure behind HTTPS) and never a password", async () => {
    const plain = await testConsole(stack, "cookie");
    const answer = await plain.request("/login", form({ name: "ada", password: "correct horse battery", next: "/" }));
    expect(answer.status).toBe(303);
    const cookie = answer.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^ferry_admin_session=[^;]+; Max-Age=28800; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(decodeURIComponent(cookie)).not.toContain("correct horse");
    const secure = await testConsole(stack, "cookie_secure", { secureCookies: true });
    const again = await secure.request("/api/session", json({ name: "ada", password: "correct horse battery" }));
    expect(again.headers.get("set-cookie")).toMatch(/; Secure; SameSite=Strict$/);
  });

  it("a session ends at log-out (in every browser), after 8 hours, and when the account changes", async () => {
    const console = await testConsole(stack, "ending");
    const first = await console.logIn("ada");
    const second = await console.logIn("ada");
    expect((await console.request("/api/session", { cookie: first })).status).toBe(200);
    const out = await console.request("/logout", { ...form({}), cookie: first });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/login");
    expect((await console.request("/api/session", { cookie: first })).status).toBe(401);
    expect((await console.request("/api/session", { cookie: second })).status).toBe(401);

    const fresh = await console.logIn("ada");
    expect(await (await console.request("/api/session", { cookie: fresh })).json()).toEqual({
      operator: { name: "ada", role: "operator" },
    });
    console.clock.now += ADMIN_SESSION_MAX_AGE_S * 1000 + 1;
    expect((await console.request("/api/session", { cookie: fresh })).status).toBe(401);

    const viewer = await console.logIn("val");
    await console.operators.setRole("val", "operator", "ada");
    expect((await console.request("/api/session", { cookie: viewer })).status).toBe(401);
    const promoted = await console.logIn("val");
    expect(await (await console.request("/api/session", { cookie: promoted })).json()).toEqual({
      operator: { name: "val", role: "operator" },
    });
    await console.operators.setDisabled("val", true, "ada");
    expect((await console.request("/api/session", { cookie: promoted })).status).toBe(401);
    const refused = await console.request("/api/session", json({ name: "val", password: "viewer's long password" }));
    expect(refused.status).toBe(401);

    // A cookie signed with another secret (a well-formed signature, checked and refused).
    const other = await testConsole(stack, "ending_other", { sessionSecret: "another secret, just as long as ours" });
    const forged = await other.logIn("ada");
    expect((await other.request("/api/session", { cookie: forged })).status).toBe(200);
    expect((await console.request("/api/session", { cookie: forged })).status).toBe(401);
  });

  it("limits failed log-ins per account and address: the sixth try from there is refused, elsewhere it is not", async () => {
    const console = await testConsole(stack, "limits");
    for (let i = 0; i < 5; i++) {
      // However the name is written, it is one account.
      const name = ["ada", "ADA", " ada ", "Ada", "ada"][i] ?? "ada";
      const wrong = await console.request("/login", {
        ...form({ name, password: `wrong password ${i}` }),
        from: "10.0.0.7",
      });
      expect(wrong.status).toBe(401);
      const page = await wrong.text();
      expect(page).toContain("Wrong name or password.");
      expect(page).toContain(`value="${name}"`);
    }
    const right = await console.request("/api/session", {
      ...json({ name: "ada", password: "correct horse battery" }),
      from: "10.0.0.7",
    });
    expect(right.status).toBe(429);
    const refusals = (await console.trail.page({ kind: "login-refused" })).entries;
    expect(refusals.map((e) => [e.who, e.what, e.after])).toContainEqual([
      "ada",
      "too many log-in attempts",
      "from 10.0.0.7",
    ]);
    expect(refusals.filter((e) => e.what === "wrong name or password")).toHaveLength(5);
    expect(await right.json()).toEqual({
      error: { code: "too_many_attempts", message: "Too many log-in attempts. Wait a few minutes and try again." },
    });
    // Guessing from one address does not lock the account's owner out elsewhere, nor another account there.
    const owner = await console.request("/login", {
      ...form({ name: "ada", password: "correct horse battery" }),
      from: "10.0.0.8",
    });
    expect(owner.status).toBe(303);
    const other = await console.request("/api/session", {
      ...json({ name: "val", password: "viewer's long password" }),
      from: "10.0.0.7",
    });
    expect(other.status).toBe(200);
  });

  it("records a flood of refused log-ins from one address with many names a bounded number of times", async () => {
    const console = await testConsole(stack, "limits_names", {
      loginLimits: { perAddress: 8, perAccount: 5, windowMs: 3_600_000 },
    });
    for (let i = 0; i < 40; i++) {
      const answer = await console.request("/api/session", {
        ...json({ name: `name${i}`, password: "guess guess guess" }),
        from: "10.77.0.1",
      });
      expect(answer.status).toBe(i < 8 ? 401 : 429);
    }
    const refusals = (await console.trail.page({ kind: "login-refused", limit: 100 })).entries;
    expect(refusals.filter((e) => e.what === "wrong name or password")).toHaveLength(8);
    expect(refusals.filter((e) => e.what.startsWith("too many"))).toEqual([
      expect.objectContaining({ what: "too many log-in attempts from this address", after: "from 10.77.0.1" }),
    ]);
  });

  it("goes back after log-in only to a path of its own", async () => {
    const console = await testConsole(stack, "next");
    const cases: Array<[string, string]> = [
      ["/api/phase", "/api/phase"],
      ["/?moved=2", "/?moved=2"],
      ["//evil.example/", "/"],
      ["/\\evil.example", "/"],
      ["/\t/evil.example", "/"],
      ["/\n/evil.example", "/"],
      ["https://evil.example/", "/"],
      ["javascript:alert(1)", "/"],
      ["/%2F%2Fevil.example", "/%2F%2Fevil.example"],
    ];
    for (const [next, expected] of cases) {
      const answer = await console.request("/login", {
        ...form({ name: "ada", password: "correct horse battery", next }),
        from: `10.1.0.${cases.findIndex(([n]) => n === next)}`,
      });
      expect(answer.status, next).toBe(303);
      expect(answer.headers.get("location"), next).toBe(expected);
    }
  });

  it("answers a JSON body that is not an object (null, a list) with 400 or 401, never 500", async () => {
    const console = await testConsole(stack, "null_bodies");
    const cookie = await console.logIn("ada");
    for (const body of ["null", "[]", "7", '"text"', "{"]) {
      const logIn = await console.request("/api/session", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(logIn.status, body).toBe(400);
      expect((await logIn.json()).error.code).toBe("invalid");
      const move = await console.request("/api/phase", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        cookie,
      });
      expect(move.status, body).toBe(400);
    }
    // Numbers are whole numbers, as JSON numbers or digits: nothing else is read as one.
    for (const version of ["", null, false, [0], "0x0", "1e0", " 0", "0.0"]) {
      const move = await console.request("/api/phase", { ...json({ to: 2, version }), cookie });
      expect(move.status, JSON.stringify(version)).toBe(400);
      expect((await move.json()).error.fields).toEqual({ version: "The phase version you decided on is missing." });
    }
    for (const to of [true, [2], "2.0", 2.5]) {
      const move = await console.request("/api/phase", { ...json({ to, version: 0 }), cookie });
      expect(move.status, JSON.stringify(to)).toBe(400);
    }
    expect((await console.phases.get()).version).toBe(0);
  });

  it("escapes what the stores hand it, and shows no stack trace", async () => {
    const console = await testConsole(stack, "escape");
    const member = new CachedPhase(console.phases, {
      app: "<script>alert('app')</script>",
      instanceId: "<img src=x onerror=alert(1)>",
      host: "host&co",
      refreshMs: 600_000,
    });
    await member.start();
    try {
      const cookie = await console.logIn("val");
      const page = await (await console.request("/", { cookie })).text();
      expect(page).toContain("&lt;img src=x onerror=alert(1)&gt;");
      expect(page).toContain("&lt;script&gt;alert(&#39;app&#39;)&lt;/script&gt;");
      expect(page).toContain("host&amp;co");
      expect(page).not.toContain("<img src=x");
      expect(page).not.toContain("<script>");
    } finally {
      await member.stop();
    }
    const missing = await console.request("/nowhere");
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("This page does not exist.");
    const api = await console.request("/api/nowhere");
    expect(await api.json()).toEqual({ error: { code: "not_found", message: "There is no such route." } });
    const big = await console.request("/api/session", json({ name: "ada", password: "x".repeat(70_000) }));
    expect(big.status).toBe(413);
    expect(await big.text()).not.toMatch(/at .*\.ts:\d+/);
  });
});
