import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  expectedEmails,
  FAULT_GRACE_MS,
  judgeFailures,
  roomyTmpfs,
  runJourney,
  WRITES_REFUSED_AFTER_MS,
} from "../src/journey.ts";
import type { JourneyOptions } from "../src/types.ts";

const out = mkdtempSync(join(tmpdir(), "ferry-journey-test-"));
afterAll(() => {
  if (process.env.FERRY_KEEP_JOURNEY === undefined) rmSync(out, { recursive: true, force: true });
});

describe("judgeFailures", () => {
  const fault = {
    name: "a store restarted",
    phase: "phase 3",
    from: 10_000,
    to: 12_000,
    note: "",
    allows: { statuses: ["503", "error"], url: "http://b" },
  };
  const failures = [
    { at: 9_999, step: "cart", status: "409", url: "http://b" },
    { at: 10_000, step: "checkout", status: "503", url: "http://b" },
    { at: 16_999, step: "connection", status: "error", url: "http://b" },
    // In the window, but not what the fault may cost: another store, another status.
    { at: 11_000, step: "search", status: "503", url: "http://a" },
    { at: 11_000, step: "email", status: "500", url: "http://b" },
    { at: 17_001, step: "checkout", status: "400", url: "http://b" },
    { at: 17_002, step: "email", status: "500", url: "http://a" },
  ];
  const journey = {
    steps: {
      cart: { "201": 99, "409": 1 },
      checkout: { "201": 98, "400": 1, "503": 1 },
      email: { "200": 99, "500": 1 },
    },
    errors: 1,
    timeouts: 0,
  };

  it("charges what a fault may cost in its window (+5 s) to the fault, and any other failure is a problem", () => {
    const { problems, costs } = judgeFailures(failures, journey, undefined, [fault]);
    expect(costs.get(fault)).toEqual({ "checkout 503": 1, "connection error": 1 });
    expect(problems).toEqual([
      "cart: 1 answered 409 outside what a fault may cost",
      "search: 1 answered 503 outside what a fault may cost",
      "email: 2 answered 500 outside what a fault may cost",
      "checkout: 1 answered 400 outside what a fault may cost",
    ]);
  });

  it("closes a window whose end includes its grace (graceMs 0) at that end", () => {
    const refused = { ...fault, name: "writes refused", allows: { statuses: ["503"] }, graceMs: 0 };
    const { problems, costs } = judgeFailures(
      [
        { at: 12_000, step: "register", status: "503", url: "http://a" },
        { at: 12_001, step: "register", status: "503", url: "http://a" },
      ],
      journey,
      undefined,
      [refused],
    );
    expect(costs.get(refused)).toEqual({ "register 503": 1 });
    expect(problems).toEqual(["register: 1 answered 503 outside what a fault may cost"]);
  });

  it("says when each problem happened, in which phase, and on which store processes", () => {
    const events = [
      { at: 1_000, kind: "phase" as const, text: "phase 2 (dual writes)" },
      { at: 11_500, kind: "fault" as const, text: "something" },
      { at: 17_000, kind: "phase" as const, text: "phase 3 (shadow reads)" },
    ];
    const { problems } = judgeFailures(failures, journey, undefined, [fault], { started: 0, events });
    expect(problems).toEqual([
      "cart: 1 answered 409 outside what a fault may cost; at 10.0 s (phase 2 (dual writes)), on http://b",
      "search: 1 answered 503 outside what a fault may cost; at 11.0 s (phase 2 (dual writes)), on http://a",
      "email: 2 answered 500 outside what a fault may cost; at 11.0 s (phase 2 (dual writes)) to 17.0 s (phase 3 (shadow reads)), on http://a, http://b",
      "checkout: 1 answered 400 outside what a fault may cost; at 17.0 s (phase 3 (shadow reads)), on http://b",
    ]);
  });

  it("lets a client error pass at up to 3 times the control run's rate for its step, never a 5xx or a connection error", () => {
    const control = {
      steps: { cart: { "201": 200, "409": 1 }, checkout: { "201": 1000, "400": 1 }, email: { "500": 3 } },
      errors: 0,
      timeouts: 0,
    };
    const cut = { at: 20_001, step: "unanswered", status: "cut", url: "http://a" };
    const { problems } = judgeFailures(
      [...failures, { at: 20_000, step: "browse", status: "error", url: "http://a" }, cut],
      journey,
      control,
      [fault],
    );
    expect(problems).toEqual([
      "search: 1 answered 503 outside what a fault may cost (the control run: 0 of 0)",
      "email: 2 answered 500 outside what a fault may cost (the control run: 3 of 3)",
      // 1 in 100 against 1 in 1,001: ten times the control run's rate. The cart's 1 in 100 against 1 in 201 passes.
      "checkout: 1 answered 400 outside what a fault may cost (the control run: 1 of 1001)",
      "browse: 1 with a connection error outside what a fault may cost (the control run: 0 of 0)",
      "unanswered: 1 cut unanswered outside what a fault may cost (the control run: 0 of 0)",
    ]);
  });
});

describe("judgeFailures, the store's error codes", () => {
  it("says what the store answered a problem's requests with, most often first", () => {
    const journey = { steps: { cart: { "201": 10, "400": 3 } }, errors: 0, timeouts: 0 };
    const failures = [
      { at: 1, step: "cart", status: "400", url: "http://a", code: "out_of_stock" },
      { at: 2, step: "cart", status: "400", url: "http://a", code: "invalid" },
      { at: 3, step: "cart", status: "400", url: "http://a", code: "out_of_stock" },
    ];
    expect(judgeFailures(failures, journey, undefined, []).problems).toEqual([
      "cart: 3 answered 400 outside what a fault may cost; the store said out_of_stock (2), invalid (1)",
    ]);
  });
});

describe("expectedEmails", () => {
  it("wants the last email the store confirmed, or a change sent after it whose answer never came", () => {
    const at = 1;
    const wanted = expectedEmails([
      { kind: "user", at, userId: "1", username: "a", email: "a@example.com" },
      { kind: "user", at, userId: "2", username: "b", email: "b@example.com" },
      { kind: "user", at, userId: "3", username: "c", email: "c@example.com" },
      { kind: "email-sent", at, userId: "1", email: "a.1@example.org" },
      { kind: "email", at, userId: "1", email: "a.1@example.org" },
      { kind: "email-sent", at, userId: "1", email: "a.2@example.org" },
      { kind: "email", at, userId: "1", email: "a.2@example.org" },
      { kind: "email-sent", at, userId: "2", email: "b.1@example.org" },
      // A change for a shopper whose registration the load never saw confirmed: not checked.
      { kind: "email", at, userId: "9", email: "z@example.org" },
    ]);
    expect(Object.fromEntries([...wanted].map(([id, user]) => [id, [user.changes, user.emails]]))).toEqual({
      "1": [2, ["a.2@example.org"]],
      "2": [0, ["b@example.com", "b.1@example.org"]],
      "3": [0, ["c@example.com"]],
    });
  });
});

/**
 * A tiny journey stopped early (`options` says how): what it reported, what it printed, and whether it left a stack
 * folder behind or said it could not take its stack down.
 */
async function stoppedJourney(name: string, options: Partial<JourneyOptions>) {
  const stacks = () => readdirSync(shm).filter((entry) => entry.startsWith("ferry-journey-stack-"));
  const shm = roomyTmpfs() ?? tmpdir();
  const before = stacks();
  const lines: string[] = [];
  const result = await runJourney({
    users: 50,
    products: 20,
    orders: 100,
    seed: 1,
    phaseSeconds: 2,
    stores: 1,
    connections: 1,
    control: false,
    faults: false,
    deadlineMs: 600_000,
    out: join(out, name),
    ...options,
    say: (line) => {
      lines.push(line);
      options.say?.(line);
    },
  });
  expect(readFileSync(result.report, "utf8").split("\n")[0]).toBe("# ferry journey: stopped");
  // Its stack is down and its home removed.
  expect(stacks().filter((entry) => !before.includes(entry))).toEqual([]);
  expect(lines.some((line) => line.startsWith("stack down:"))).toBe(false);
  return { result, lines };
}

describe("pnpm journey's deadline", () => {
  it("stops everything it started and reports that it did not finish", async () => {
    const { result } = await stoppedJourney("deadline", { deadlineMs: 4_000 });
    expect(result.problems).toEqual([
      "the journey stopped: the journey did not finish within its deadline (4 s); everything it started is stopped",
    ]);
  });

  // A ceiling against hangs: the way to its store processes (stack, seed, analyze, generate --check, tables) takes
  // 25 s on a quiet machine and took 270 s in CI's run, where every package's tests and type-checks start at once.
  it("stops everything it started when interrupted (Ctrl-C), and says so", { timeout: 600_000 }, async () => {
    const interrupt = new AbortController();
    const { result, lines } = await stoppedJourney("interrupted", {
      signal: interrupt.signal,
      // Once its stack and its store process are up: as a user pressing Ctrl-C mid-way.
      say: (line) => {
        if (line.includes("store processes:")) interrupt.abort("SIGINT");
      },
    });
    expect(result.problems).toEqual([
      "the journey stopped: the journey was interrupted (SIGINT); everything it started is stopped",
    ]);
    // Its store process no longer answers.
    const urls = lines.flatMap((line) => line.match(/http:\/\/127\.0\.0\.1:\d+/g) ?? []);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});

describe("pnpm journey, at its CI size", () => {
  // A ceiling against hangs: 320 s alone, 558-658 s in fresh-clone CI runs where everything starts at once.
  it("moves the store from phase 1 to 5 under load, loses nothing, and reports it", {
    timeout: 1_500_000,
  }, async () => {
    const lines: string[] = [];
    const result = await runJourney({
      users: 300,
      products: 200,
      orders: 1_000,
      seed: 3,
      phaseSeconds: 6,
      stores: 2,
      connections: 2,
      // A steady load: flat out, it took half of CI's two cores from the other packages' tests for as long as it ran.
      rate: 40,
      control: true,
      faults: true,
      // Below the test's timeout: the journey stops its stack itself.
      deadlineMs: 1_440_000,
      out,
      say: (line) => lines.push(line),
    });
    // Everything it found wrong, with the report's path and (on a failure) its faults and timeline, so that a failure
    // says what happened even where the report's folder is gone (CI).
    const written = existsSync(result.report) ? readFileSync(result.report, "utf8") : "";
    const story = written.slice(
      Math.max(0, written.indexOf("## Faults")),
      written.indexOf("## The load, phase by phase"),
    );
    expect({ problems: result.problems, report: result.report }, story).toEqual({
      problems: [],
      report: join(out, "report.md"),
    });
    const report = readFileSync(result.report, "utf8");
    expect(report.split("\n")[0]).toBe("# ferry journey: every promise kept");
    const phases = [
      "phase 1 (MySQL only)",
      "phase 2 (dual writes, MySQL authoritative)",
      "phase 3 (MySQL authoritative, shadow reads from DynamoDB)",
      "phase 4 (DynamoDB authoritative, MySQL still written)",
      "phase 3 (the way back, MySQL authoritative again)",
      "phase 2 (the way back)",
      "phase 1 (the way back, MySQL only)",
      "phase 2 (again)",
      "phase 3 (again)",
      "phase 4 (again)",
      "phase 5 (DynamoDB only)",
    ];
    const load = report.slice(report.indexOf("## The load, phase by phase"), report.indexOf("Answers by step"));
    const rows = load.split("\n").filter((line) => /^\| phase \d/.test(line));
    expect(rows.map((line) => line.split(" | ")[0]?.slice(2))).toEqual(phases);
    // Every phase saw the load (requests/s above 0).
    for (const line of rows) expect(Number(line.split(" | ")[2])).toBeGreaterThan(0);
    // Validations: forward in 2 and 4, on the way back in 2, and forward again in 2 and 4; each clean.
    expect(
      [...report.matchAll(/^- Validation in phase (\d) \(full, under the load\): (\w+);/gm)].map(
        (m) => `${m[1]} ${m[2]}`,
      ),
    ).toEqual(["2 clean", "4 clean", "2 clean", "2 clean", "4 clean"]);
    expect(
      [...report.matchAll(/^- Shadow reads in phase 3: [\d,]+ compared .*?, (\d+) mismatched/gm)].map((m) => m[1]),
    ).toEqual(["0", "0"]);
    // The load placed orders, and each is where the replays looked for it: MySQL after the way back, DynamoDB at the end.
    const replays = [
      ...report.matchAll(
        /^- Replay of the load's log in phase (\d) .*?: ([\d,]+) orders .*; (\d+) missing or wrong\.$/gm,
      ),
    ];
    expect(replays.map((m) => [m[1], m[3]])).toEqual([
      ["1", "0"],
      ["5", "0"],
    ]);
    const [afterWayBack, atTheEnd] = replays.map((m) => Number(m[2]?.replaceAll(",", "")));
    // Shoppers registered and emails changed, each checked in both replays.
    const people = [
      ...report.matchAll(
        /^- Replay .*, ([\d,]+) shoppers it registered .*\(([\d,]+) changes it confirmed\); 0 missing/gm,
      ),
    ].map((m) => [Number(m[1]?.replaceAll(",", "")), Number(m[2]?.replaceAll(",", ""))]);
    expect(people).toHaveLength(2);
    // The second replay, at the end, checks the shoppers of the load's second run too.
    expect(people[1]?.[0]).toBeGreaterThan(people[0]?.[0] ?? 0);
    for (const [shoppers, changes] of people) {
      expect(shoppers).toBeGreaterThan(0);
      expect(changes).toBeGreaterThan(0);
    }
    expect(afterWayBack).toBeGreaterThan(0);
    expect(atTheEnd).toBeGreaterThan(afterWayBack ?? 0);
    // Each fault happened, in its phase; the backfill worker was killed mid-run (the CI size's run takes seconds).
    const faultRows = [...report.matchAll(/^\| ([^|]+?) \| (phase \d) \| [\d.]+ \| ([\d.]+) \| [^|]+ \|$/gm)];
    // On a loaded machine DynamoDB Local's restart can come near the 30-s write lease, or a process's last heartbeat
    // before it lag: then the row after the outage's charges the writes refused (503) from 5 s short of the lease until
    // every process took writes again (and its grace), and only when a process's health said it refused writes or the
    // outage came that close.
    const pastLease = faultRows.findIndex((m) => m[1]?.startsWith("writes refused past the write lease"));
    // The outage's window (s) with the fault's grace against the time a process may start refusing writes.
    const outage = Number(faultRows.find((m) => m[1] === "DynamoDB Local killed for 10 s")?.[3]);
    const refusedFrom = (WRITES_REFUSED_AFTER_MS - FAULT_GRACE_MS) / 1000;
    const back =
      /^\| [\d.]+ \| fault \| every store process takes writes [\d.]+ s after DynamoDB Local answered( \(one refused writes from [\d.]+ s into the outage: its write lease ran out\))? \|/m.exec(
        report,
      );
    expect(back).not.toBeNull();
    const refusedSeen = back?.[1] !== undefined;
    if (pastLease !== -1) {
      expect(faultRows[pastLease - 1]?.[1]).toBe("DynamoDB Local killed for 10 s");
      expect(refusedSeen || outage >= refusedFrom - 0.05).toBe(true);
      expect(faultRows[pastLease]?.[1]).toMatch(
        /^writes refused past the write lease \(DynamoDB Local down [\d.]+ s, the lease 30 s, writes taken again [\d.]+ s later\)$/,
      );
    } else {
      expect(refusedSeen).toBe(false);
      expect(outage).toBeLessThanOrEqual(refusedFrom + 0.05);
    }
    const faults = faultRows.filter((_, i) => i !== pastLease).map((m) => [m[1], m[2]]);
    expect(faults).toEqual([
      ["DynamoDB Local killed for 10 s", "phase 2"],
      [
        expect.stringMatching(/^backfill worker killed \(killed \(SIGKILL\) once the run had written [\d,]+ rows\)$/),
        "phase 2",
      ],
      ["store process restarted during 3 -> 4", "phase 3"],
      ["MySQL restarted", "phase 4"],
    ]);
    // The outage of DynamoDB (the control table too) in phase 2 cost nothing: every process wrote on within its lease.
    expect(report).toMatch(/^\| DynamoDB Local killed for 10 s \| phase 2 \| [\d.]+ \| [\d.]+ \| none \|$/m);
    expect(report).toMatch(/^\| [\d.]+ \| check \| outbox after DynamoDB Local's outage: empty/m);
    expect(report).toMatch(/^\| [\d.]+ \| check \| outbox after MySQL's restart: empty/m);
    const svg = readFileSync(join(out, "chart.svg"), "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/stroke-dasharray="4 3"/g)?.length).toBe(phases.length * 3);
    expect(existsSync(join(out, "journey-log.jsonl"))).toBe(true);
  });
});
