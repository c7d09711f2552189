import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { CachedPhase, PHASES, PhaseStore, recordBackfillStatus } from "@ferry/runtime";
import { useTestStack } from "@ferry/stack/testing";
import { afterAll, describe, expect, it } from "vitest";
import { phaseCommand } from "../src/commands/phase.ts";
import { type CliResult, type Env, runCli, runInProcess } from "./run-cli.ts";

const stack = useTestStack();
const emptyHome = mkdtempSync(join(tmpdir(), "ferry-phase-home-"));
afterAll(() => rmSync(emptyHome, { recursive: true, force: true }));

/** The environment a user has: the test stack's DynamoDB and a table prefix of this test's own. */
function environment(prefix: string): Env {
  return { DYNAMODB_ENDPOINT: stack.dynamodbEndpoint, FERRY_TABLE_PREFIX: prefix, FERRY_HOME: emptyHome };
}

/** `ferry phase ...` in this process (see runInProcess). */
function ferryPhase(args: string[], env: Env): Promise<CliResult> {
  return runInProcess(phaseCommand, ["phase", ...args], env);
}

describe("ferry phase", () => {
  it("get shows phase 1 and the defaults before anything was set, as text and as JSON", async () => {
    const env = environment(`${stack.tablePrefix}get_`);
    const text = await ferryPhase(["get"], env);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe("");
    expect(text.stdout).toBe(
      [
        "phase 1: MySQL only",
        "  flags          WRITE_MYSQL on, WRITE_DDB off, READ_MYSQL on, READ_DDB off",
        "  authoritative  MySQL",
        "  version        0",
        "  shadow reads   100% of phase-3 reads are compared",
        "  3 -> 4 needs   a mismatch rate below 0.1% over at least 1000 comparisons",
        "  last changed   never (phase 1 until someone sets it)",
        "",
      ].join("\n"),
    );
    const json = await ferryPhase(["get", "--json"], env);
    expect(JSON.parse(json.stdout)).toEqual({
      phase: 1,
      name: "MySQL only",
      flags: PHASES[1].flags,
      shadowSampleRate: 1,
      mismatchThreshold: 0.001,
      minComparisons: 1000,
      version: 0,
    });
  });

  it("set moves one step, get and history show who did it; refusals and conflicts exit 1 with the reason", async () => {
    const prefix = `${stack.tablePrefix}set_`;
    const env = environment(prefix);
    const set = await ferryPhase(["set", "2", "--who", "alice@ops", "--reason", "start dual writes"], env);
    expect(set).toMatchObject({ code: 0, stdout: "phase 1 -> 2 (dual write, MySQL read), version 1\n" });
    expect(set.stderr).toContain("`ferry phase fleet` shows when all have");

    const get = await ferryPhase(["get"], env);
    expect(get.stdout).toContain("phase 2: dual write, MySQL read\n");
    expect(get.stdout).toMatch(/ {2}last changed {3}\d{4}-\d\d-\d\dT.*Z by alice@ops\n/);
    expect(get.stdout).toContain("\n  dual writes    since version 1 (backfills and validations of this run count)\n");

    const skip = await ferryPhase(["set", "4", "--who", "alice@ops"], env);
    expect(skip.code).toBe(1);
    expect(skip.stdout).toBe("");
    expect(skip.stderr).toBe(
      "error: phase 2 -> 4 refused: moves go one step at a time (2 -> 3)\n  move one phase at a time, or force it with --force --reason TEXT\n",
    );
    const noBackfill = await ferryPhase(["set", "3", "--who", "alice@ops"], env);
    expect(noBackfill.code).toBe(1);
    expect(noBackfill.stderr).toContain(
      "error: phase 2 -> 3 refused: it needs a finished backfill, and none has been recorded\n",
    );
    const noReason = await ferryPhase(["set", "4", "--force"], env);
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toContain("error: phase 2 -> 4 refused: a forced move needs a reason\n");
    const stale = await ferryPhase(["set", "1", "--expected-version", "0"], env);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain(
      "error: someone else changed the phase first: expected version 0, but it is now version 1",
    );

    // The default --who is $USER@hostname.
    await recordBackfillStatus(stack.dynamodb(), prefix, { state: "finished" });
    const three = await ferryPhase(["set", "3"], { ...env, USER: "bob" });
    expect(three).toMatchObject({ code: 0, stdout: "phase 2 -> 3 (dual write, shadow read), version 2\n" });
    const forced = await ferryPhase(["set", "4", "--force", "--reason", "validated by hand", "--who", "carol"], env);
    // Announced as version 3, committed as version 4.
    expect(forced).toMatchObject({ code: 0, stdout: "phase 3 -> 4 (dual write, DynamoDB read), version 4, forced\n" });
    const unconfirmed = await ferryPhase(["set", "5", "--who", "carol"], env);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toContain("needs explicit confirmation\n  add --confirm");
    const bad = await ferryPhase(["set", "6"], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("expected a whole number from 1 to 5");

    const history = await ferryPhase(["history"], env);
    expect(history.code).toBe(0);
    expect(history.stdout.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<at>")).toBe(
      [
        "v4  <at>  carol  phase 3 -> 4 (forced): validated by hand",
        "v3  <at>  carol  announced phase 3 -> 4 (forced): validated by hand",
        `v2  <at>  bob@${hostname()}  phase 2 -> 3`,
        "v1  <at>  alice@ops  phase 1 -> 2: start dual writes",
        "",
      ].join("\n"),
    );
    const json = JSON.parse((await ferryPhase(["history", "--json"], env)).stdout) as {
      entries: { version: number; flags: unknown; forced: boolean }[];
      cursor?: string;
    };
    expect(json.cursor).toBeUndefined();
    expect(json.entries.map((e) => [e.version, e.forced])).toEqual([
      [4, true],
      [3, true],
      [2, false],
      [1, false],
    ]);
    expect(json.entries[0]?.flags).toEqual(PHASES[4].flags);
  });

  it("history pages with --limit and --cursor", async () => {
    const prefix = `${stack.tablePrefix}history_`;
    const env = environment(prefix);
    const store = new PhaseStore(stack.dynamodb(), { tablePrefix: prefix });
    for (const to of [2, 1, 2] as const) await store.set(to, { who: "x" });
    const first = await ferryPhase(["history", "--limit", "2"], env);
    expect(first.stdout.split("\n").map((line) => line.slice(0, 2))).toEqual(["v3", "v2", ""]);
    const cursor = /^more: ferry phase history --cursor (\S+)\n$/.exec(first.stderr)?.[1];
    expect(cursor).toBeDefined();
    const second = await ferryPhase(["history", "--limit", "2", "--cursor", cursor ?? ""], env);
    expect(second.stdout.split("\n").map((line) => line.slice(0, 2))).toEqual(["v1", ""]);
    expect(second.stderr).toBe("");
  });

  it("set 5 with --confirm, then nothing leaves 5", async () => {
    const prefix = `${stack.tablePrefix}final_`;
    const env = environment(prefix);
    const store = new PhaseStore(stack.dynamodb(), { tablePrefix: prefix });
    await store.set(4, { who: "x", force: true, reason: "setup" });
    const five = await ferryPhase(["set", "5", "--confirm", "--who", "dana"], env);
    // 1 -> 4 and 4 -> 5 each went through the barrier (announced, then committed): no process ran, none was waited for.
    expect(five).toMatchObject({ code: 0, stdout: "phase 4 -> 5 (DynamoDB only), version 4\n" });
    expect(five.stderr).toMatch(
      /^phase 4 -> 5 changes the authoritative store: announced \(version 3\); every process holds new writes and finishes those under phase 4, until \S+Z at the latest\nevery live process \(0\) is ready; checking the preconditions again and committing\nthe writes every process held now run under phase 5; `ferry phase fleet` shows the fleet\n$/,
    );
    const back = await ferryPhase(["set", "4", "--force", "--reason", "oops", "--who", "dana"], env);
    expect(back.code).toBe(1);
    expect(back.stderr).toContain("error: phase 5 -> 4 refused: nothing leaves phase 5");
  });

  it("set shows what a move of the authoritative store waits for, and fails clearly when the fleet is not ready", async () => {
    const prefix = `${stack.tablePrefix}barrier_`;
    const env = environment(prefix);
    const store = new PhaseStore(stack.dynamodb(), { tablePrefix: prefix });
    await store.set(3, { who: "x", force: true, reason: "setup" });
    // A process that reads the phase once and never again: it never takes the announcement.
    const silent = new CachedPhase(new PhaseStore(stack.dynamodb(), { tablePrefix: prefix }), {
      app: "store",
      instanceId: "i-silent",
      refreshMs: 3_600_000,
    });
    await silent.start();
    try {
      const args = ["set", "4", "--force", "--reason", "cutover", "--who", "dana", "--wait-ms", "2500"];
      const result = await ferryPhase([...args, "--stale-after", "3600000"], env);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      const waiting = `store@${hostname()} (i-silent) has not taken the announcement yet`;
      expect(result.stderr).toMatch(
        new RegExp(
          `^phase 3 -> 4 changes the authoritative store: announced \\(version 2\\); every process holds new writes and finishes those under phase 3, until (\\S+Z) at the latest\\nwaiting for: ${escapeRegExp(waiting)}\\nerror: phase 3 -> 4 cancelled: not every live process was ready before the deadline \\(\\1\\): ${escapeRegExp(waiting)}; the phase stays 3\\n {2}see \`ferry phase fleet\`: stop or fix the processes named, or give them longer \\(--wait-ms\\), then try again\\n$`,
        ),
      );
      expect(await store.get()).toMatchObject({ phase: 3, version: 3 });
      expect((await store.history({ limit: 1 })).entries[0]).toMatchObject({ change: "cancel", from: 3, to: 4 });
    } finally {
      await silent.stop();
    }
  });

  it("fleet lists the running instances and whether all run the current version", async () => {
    const prefix = `${stack.tablePrefix}fleet_`;
    const env = environment(prefix);
    const empty = await ferryPhase(["fleet"], env);
    expect(empty).toMatchObject({ code: 0, stdout: "phase 1 (version 0): 0 live instances\n" });

    const cached = new CachedPhase(new PhaseStore(stack.dynamodb(), { tablePrefix: prefix }), {
      app: "store",
      instanceId: "i-1",
      refreshMs: 600_000,
    });
    await cached.start();
    try {
      const text = await ferryPhase(["fleet", "--stale-after", "600000"], env);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(
        new RegExp(
          `^phase 1 \\(version 0\\): 1 live instance, all run the current version\\n {2}i-1 {2}store {2}${hostname()} {2}version 0 {2}last seen \\S+Z\\n$`,
        ),
      );
      await ferryPhase(["set", "2", "--who", "x"], env);
      const json = JSON.parse((await ferryPhase(["fleet", "--json", "--stale-after", "600000"], env)).stdout);
      expect(json).toMatchObject({
        phase: 2,
        version: 1,
        allCurrent: false,
        instances: [{ instanceId: "i-1", app: "store", versionSeen: 0, current: false }],
      });
    } finally {
      await cached.stop();
    }
  });

  it("as a separate process: a refusal exits 1 with the reason and no stack trace", async () => {
    const env = environment(`${stack.tablePrefix}process_`);
    const refused = await runCli(["phase", "set", "3", "--who", "eve"], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toBe(
      "error: phase 1 -> 3 refused: moves go one step at a time (1 -> 2)\n  move one phase at a time, or force it with --force --reason TEXT\n",
    );
    const down = await runCli(["phase", "get", "--dynamodb-endpoint", "http://127.0.0.1:1"], env);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("error: cannot reach DynamoDB at http://127.0.0.1:1 to read the phase");
    expect(down.stderr).not.toContain("    at ");
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
