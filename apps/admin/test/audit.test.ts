import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it } from "vitest";
import { form, json, readable, testConsole } from "./console.ts";

const stack = useTestStack();

describe("the audit log", () => {
  it("records log-ins, refusals, log-outs and phase moves made in the console, and lists them filtered and paged", async () => {
    const console = await testConsole(stack, "audit");
    // Entries of one millisecond have no order among them: the clock moves between the steps.
    console.clock.now += 1_000;
    const wrong = await console.request("/login", {
      ...form({ name: " Mallory ", password: "guess guess guess" }),
      from: "10.9.0.1",
    });
    expect(wrong.status).toBe(401);
    console.clock.now += 1_000;
    const cookie = await console.logIn("ada");
    console.clock.now += 1_000;
    await console.request("/phase", { ...form({ to: "2", version: "0", reason: "start dual writes" }), cookie });
    console.clock.now += 1_000;
    const viewer = await console.logIn("val");
    console.clock.now += 1_000;
    await console.request("/api/logout", { ...json({}), cookie: viewer });

    const page = await (await console.request("/api/audit", { cookie })).json();
    expect(page.cursor).toBeUndefined();
    expect(page.entries.map((e: { who: string; kind: string; what: string }) => [e.who, e.kind, e.what])).toEqual([
      ["val", "logout", "logged out (every session of the account ended)"],
      ["val", "login", "logged in"],
      ["ada", "phase", "phase 1 -> 2"],
      ["ada", "login", "logged in"],
      ["mallory", "login-refused", "wrong name or password"],
      ["ada", "account", "operator val created (viewer)"],
      ["test", "account", "operator ada created (operator)"],
    ]);
    const refused = page.entries.find((e: { kind: string }) => e.kind === "login-refused");
    expect(refused.after).toBe("from 10.9.0.1");
    const moved = page.entries.find((e: { kind: string }) => e.kind === "phase");
    expect(moved).toMatchObject({
      before: "phase 1 (WRITE_MYSQL on, WRITE_DDB off, READ_MYSQL on, READ_DDB off)",
      after: "phase 2 (WRITE_MYSQL on, WRITE_DDB on, READ_MYSQL on, READ_DDB off)",
      reason: "start dual writes",
      forced: false,
    });

    // The page: filtered by kind and by who, and a page at a time with a link to the older entries.
    const phases = readable(await (await console.request("/audit?kind=phase", { cookie })).text());
    expect(phases).toContain("ada phase phase 1 -> 2 reason: start dual writes");
    expect(phases).not.toContain("logged in");
    const vals = (await (await console.request("/api/audit?who=val", { cookie })).json()).entries;
    expect(vals.map((e: { kind: string }) => e.kind)).toEqual(["logout", "login"]);
    const upper = (await (await console.request("/api/audit?who=VAL", { cookie })).json()).entries;
    expect(upper).toEqual(vals);

    // Bad filters: a message by the field, what was typed kept, the unfiltered log shown.
    const bad = await console.request("/audit?kind=nonsense&from=2026-13-40&who=ada", { cookie });
    expect(bad.status).toBe(400);
    const badText = await bad.text();
    expect(readable(badText)).toContain("Give a day as YYYY-MM-DD.");
    expect(readable(badText)).toContain("Choose one of: phase, settings");
    expect(badText).toContain('value="2026-13-40"');
    const badApi = await console.request("/api/audit?to=yesterday", { cookie });
    expect(await badApi.json()).toEqual({
      error: { code: "invalid", message: "The filters were not used.", fields: { to: "Give a day as YYYY-MM-DD." } },
    });
    const badCursor = await console.request("/api/audit?cursor=bm9wZQ", { cookie });
    expect(badCursor.status).toBe(400);
    expect((await badCursor.json()).error.code).toBe("bad_cursor");
  });

  it("pages through many entries with the filters kept in the link", async () => {
    const console = await testConsole(stack, "audit_pages");
    for (let i = 0; i < 55; i++) {
      console.clock.now += 1_000;
      await console.trail.record({ who: "bot", kind: "login-refused", what: `attempt ${i}` });
    }
    const cookie = await console.logIn("ada");
    const first = await (await console.request("/audit?kind=login-refused", { cookie })).text();
    const link = /href="(\/audit\?[^"]+)">Older entries/.exec(first)?.[1]?.replaceAll("&amp;", "&");
    expect(link).toMatch(/^\/audit\?kind=login-refused&cursor=/);
    const second = readable(await (await console.request(link as string, { cookie })).text());
    expect(second).toContain("attempt 4");
    expect(second).toContain("attempt 0");
    expect(second).not.toContain("attempt 5 ");
    expect(second).not.toContain("Older entries");
  });

  it("exports the filtered log as CSV, with formulas disarmed", async () => {
    const console = await testConsole(stack, "audit_csv");
    await console.request("/login", form({ name: '=HYPERLINK("http://evil")', password: "whatever it is" }));
    console.clock.now += 1_000;
    await console.request("/login", form({ name: 'a "quoted", name', password: "whatever it is" }));
    const cookie = await console.logIn("ada");
    const csv = await console.request("/audit.csv?kind=login-refused", { cookie });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.headers.get("content-disposition")).toBe('attachment; filename="ferry-audit.csv"');
    const lines = (await csv.text()).trimEnd().split("\n");
    expect(lines[0]).toBe("at,who,kind,what,before,after,reason,forced");
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z,"a ""quoted"", name",login-refused,wrong name or password,,from 127\.0\.0\.1,,$/,
    );
    expect(lines[2]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z,"'=hyperlink\(""http:\/\/evil""\)",login-refused,/);
    const none = await console.request("/audit.csv?kind=settings", { cookie });
    expect(await none.text()).toBe("at,who,kind,what,before,after,reason,forced\n");
  });

  it("records a flood of refused log-ins once per address and name a window", async () => {
    const console = await testConsole(stack, "audit_flood");
    for (let i = 0; i < 40; i++) {
      const answer = await console.request("/api/session", {
        ...json({ name: "ada", password: `guess ${i} guess` }),
        from: "10.66.0.1",
      });
      expect(answer.status).toBe(i < 5 ? 401 : 429);
    }
    const refusals = (await console.trail.page({ kind: "login-refused", limit: 100 })).entries.map((e) => e.what);
    expect(refusals.filter((what) => what === "wrong name or password")).toHaveLength(5);
    expect(refusals.filter((what) => what === "too many log-in attempts")).toHaveLength(1);
  });
});
