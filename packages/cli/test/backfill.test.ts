/**
 * `ferry backfill run | runs | status` as a user runs them (a separate process), on real MariaDB and DynamoDB Local:
 * refused with the reason in phase 1 and on bad input (exit 2, nothing written), the demo store moved in phase 2, the
 * runs listed; and a worker killed with SIGKILL mid-run, then run again: it resumes the same run from its checkpoints
 * and ends with every row's item, none missing and none twice.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  applyTables,
  BackfillLedger,
  createCodec,
  DynamoEntityStore,
  MysqlEntityStore,
  PhaseStore,
} from "@ferry/runtime";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { contract } from "@ferry/store-data";
import { beforeAll, describe, expect, it } from "vitest";
import { repoRoot, runCli } from "./run-cli.ts";

const stack = useTestStack();
const codec = createCodec(contract);
const env = (prefix: string) => ({
  MYSQL_URL: stack.mysqlUrl,
  DYNAMODB_ENDPOINT: stack.dynamodbEndpoint,
  FERRY_TABLE_PREFIX: prefix,
  JOB_COMPLETION_INDEX: undefined,
  AWS_BATCH_JOB_ARRAY_INDEX: undefined,
});

beforeAll(async () => {
  await seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } });
});

async function prefixAt(name: string, phase: 1 | 2): Promise<string> {
  const prefix = `${stack.tablePrefix}${name}_`;
  await applyTables(stack.dynamodb(), contract, { prefix });
  if (phase === 2)
    await new PhaseStore(stack.dynamodb(), { tablePrefix: prefix }).set(2, { who: "test", reason: "dual writes" });
  return prefix;
}

/** Rows of each entity on MySQL, and the keys of the items DynamoDB holds for it (each key once per item). */
async function counts(
  prefix: string,
): Promise<Array<{ entity: string; rows: number; items: number; missing: number }>> {
  const mysql = new MysqlEntityStore(await stack.mysql(), codec);
  const dynamodb = new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: prefix });
  const out = [];
  for (const entity of codec.entities) {
    let rows = 0;
    let missing = 0;
    let cursor: string | undefined;
    do {
      const page = await mysql.list(entity, { limit: 500, ...(cursor === undefined ? {} : { cursor }) });
      for (const row of page.items) {
        rows++;
        const key = Object.fromEntries(codec.entity(entity).identity.map((name) => [name, row[name]]));
        const item = await dynamodb.get(entity, key);
        if (item === undefined || codec.entity(entity).diff(row, item).length > 0) missing++;
      }
      cursor = page.cursor;
    } while (cursor !== undefined);
    out.push({ entity, rows, items: rows - missing, missing });
  }
  return out;
}

// Each test runs several CLI processes one after another (each a Node start and a stack connection): on CI's 2 cores
// with the whole suite running beside them, one took more than the default minute, and the bad-input test (seven CLI
// runs) took 162 s in one fresh-clone run and over 180 s in the next. A ceiling against hangs, not a speed goal.
describe("ferry backfill", { timeout: 600_000 }, () => {
  it("is refused in phase 1 with the reason: exit 2, no run recorded", async () => {
    const prefix = await prefixAt("p1", 1);
    const result = await runCli(["backfill", "run", "-q"], env(prefix));
    expect(result.stderr).toContain("error: the backfill cannot start: the phase is 1");
    expect(result.code).toBe(2);
    expect(await new BackfillLedger(stack.dynamodb(), { tablePrefix: prefix }).runs()).toEqual([]);
  });

  it("refuses bad input with one clear message and exit 2", async () => {
    const prefix = await prefixAt("bad", 2);
    const cases: Array<[string[], RegExp]> = [
      [["--entities", "User,Nope"], /the contract has no entity 'Nope'/],
      [["--rate", "0"], /--rate.*expected a whole number from 1/],
      [["--segment", "3", "--total-segments", "3"], /segment/i],
      [["--segment", "1"], /--segment needs --total-segments/],
      [["--contract", "packages/cli/test/no-such-contract.yaml"], /no-such-contract/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(["backfill", "run", "-q", ...args], env(prefix));
      expect(result.stderr, args.join(" ")).toMatch(message);
      expect(result.code, args.join(" ")).toBe(2);
    }
    const missing = await runCli(["backfill", "run", "-q"], env(`${stack.tablePrefix}absent_`));
    expect(missing.code).toBe(2);
    expect(await new BackfillLedger(stack.dynamodb(), { tablePrefix: prefix }).runs()).toEqual([]);
  });

  it("moves the demo store in phase 2, lists the run, and shows it as the last one", async () => {
    const prefix = await prefixAt("ok", 2);
    const result = await runCli(["backfill", "run", "-q", "--who", "tester"], env(prefix));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/backfill run \S+ finished: this worker wrote [\d,]+ rows, skipped 0 already there/);
    for (const entity of await counts(prefix)) expect(entity.missing, entity.entity).toBe(0);

    const runs = await runCli(["backfill", "runs", "--json"], env(prefix));
    expect(runs.code).toBe(0);
    const listed = JSON.parse(runs.stdout) as Array<{ state: string; who: string; written: number; rejected: number }>;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ state: "finished", who: "tester", rejected: 0 });
    const total = (await counts(prefix)).reduce((sum, entity) => sum + entity.rows, 0);
    expect(listed[0]?.written).toBe(total);

    const status = await runCli(["backfill", "status"], env(prefix));
    expect(status.code).toBe(0);
    expect(status.stdout).toContain("no run is open; the last one");
    expect(status.stdout).toContain("tester");

    // Again: every row's item is there and equal, so nothing is written.
    const again = await runCli(["backfill", "run", "-q"], env(prefix));
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`wrote 0 rows, skipped ${total.toLocaleString("en-US")} already there`);
  });

  it("killed with SIGKILL mid-run, then run again: resumes the same run and ends complete, nothing twice", async () => {
    const prefix = await prefixAt("kill", 2);
    const ledger = new BackfillLedger(stack.dynamodb(), { tablePrefix: prefix });
    const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
    const childEnv: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...process.env, ...env(prefix) }))
      if (value !== undefined) childEnv[key] = value;
    const child = spawn(
      process.execPath,
      ["--import", "tsx", bin, "backfill", "run", "-q", "--page-rows", "4", "--rate", "100"],
      { cwd: repoRoot, env: childEnv, stdio: "ignore" },
    );
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    // Wait until it has checkpointed some rows, then kill it where it stands.
    let runId: string | undefined;
    for (const deadline = Date.now() + 300_000; ; ) {
      const open = await ledger.current().catch(() => undefined);
      if (open !== undefined && open.written >= 40) {
        runId = open.id;
        break;
      }
      if (Date.now() > deadline) throw new Error("the backfill made no progress in 5 minutes");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill("SIGKILL");
    expect(await exited).toBeNull();
    const before = await ledger.progress(runId);
    expect(before.state).toBe("running");
    const total = (await counts(prefix)).reduce((sum, entity) => sum + entity.rows, 0);
    expect(before.written).toBeLessThan(total);

    const resumed = await runCli(["backfill", "run", "-q", "--json"], env(prefix));
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    const result = JSON.parse(resumed.stdout) as {
      runId: string;
      joined: boolean;
      report: { state: string; written: number; skipped: number };
    };
    expect(result.runId).toBe(runId);
    expect(result.joined).toBe(true);
    expect(result.report.state).toBe("finished");
    // Rows the killed worker wrote past its last checkpoint are found equal and skipped, not written twice.
    expect(result.report.written).toBeLessThanOrEqual(total);
    expect(result.report.written + result.report.skipped).toBeGreaterThanOrEqual(total);
    for (const entity of await counts(prefix)) expect(entity.missing, entity.entity).toBe(0);
  });

  it("stop ends every worker of the open run; a new worker is refused until run with --resume, which finishes it", async () => {
    const prefix = await prefixAt("stop", 2);
    const ledger = new BackfillLedger(stack.dynamodb(), { tablePrefix: prefix });
    const nothing = await runCli(["backfill", "stop"], env(prefix));
    expect(nothing.stderr).toContain("no backfill run is open");
    expect(nothing.code).toBe(2);

    // Slow (the demo store's rows take 90 s at 2 a second): the stop's own CLI process starts well before the worker
    // could finish, however loaded the machine (a cold CLI has taken over 15 s to start in CI). The stop ends the
    // worker, so the test takes no longer for it.
    const args = ["backfill", "run", "-q", "--page-rows", "4", "--rate", "2", "--lease-ms", "1500"];
    const worker = runCli(args, env(prefix));
    const progressBy = Date.now() + 300_000;
    for (;;) {
      const open = await ledger.current().catch(() => undefined);
      if (open !== undefined && open.written >= 8) break;
      if (Date.now() > progressBy) throw new Error("the backfill made no progress in 5 minutes");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const stop = await runCli(["backfill", "stop", "--who", "ada"], env(prefix));
    expect(stop.stderr).toBe("");
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/backfill run \S+ stopped by ada at /);
    const stopped = await worker;
    expect(stopped.stderr).toMatch(/stopped by ada at \S+: backfill run \S+ stays open/);
    expect(stopped.code).toBe(1);
    const open = await ledger.current();
    expect(open?.stopped?.who).toBe("ada");
    const total = (await counts(prefix)).reduce((sum, entity) => sum + entity.rows, 0);
    expect(open?.written).toBeLessThan(total);

    const refused = await runCli(["backfill", "run", "-q"], env(prefix));
    expect(refused.stderr).toMatch(/was stopped by ada .*--resume/s);
    expect(refused.code).toBe(2);
    const resumed = await runCli(["backfill", "run", "-q", "--resume", "--json"], env(prefix));
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    const result = JSON.parse(resumed.stdout) as { runId: string; report: { state: string } };
    expect(result.runId).toBe(open?.id);
    expect(result.report.state).toBe("finished");
    for (const entity of await counts(prefix)) expect(entity.missing, entity.entity).toBe(0);
  });

  it("three workers share one run; one is killed with SIGKILL, the other two take its segment over and finish", async () => {
    const prefix = await prefixAt("three", 2);
    const ledger = new BackfillLedger(stack.dynamodb(), { tablePrefix: prefix });
    const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
    const childEnv: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...process.env, ...env(prefix) }))
      if (value !== undefined) childEnv[key] = value;
    const worker = (name: string) => {
      const child = spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          bin,
          "backfill",
          "run",
          "-q",
          "--page-rows",
          "4",
          // Slow enough that all three hold a segment for a while, though they start seconds apart on a loaded machine
          // (the demo store is 9 segments of 20 rows: 36 s for one worker alone at 5 a second).
          "--rate",
          "5",
          "--lease-ms",
          "2000",
          "--rows-per-segment",
          "20",
          "--who",
          name,
        ],
        { cwd: repoRoot, env: childEnv, stdio: ["ignore", "ignore", "pipe"] },
      );
      let stderr = "";
      child.stderr?.on("data", (chunk) => {
        stderr += chunk;
      });
      const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
        child.once("exit", (code) => resolve({ code, stderr })),
      );
      return { child, exited };
    };
    const workers = [worker("w1"), worker("w2"), worker("w3")];
    let runId: string | undefined;
    const goingBy = Date.now() + 300_000;
    for (;;) {
      const open = await ledger.current().catch(() => undefined);
      if (open !== undefined && open.segmentsLeased >= 3 && open.written >= 20) {
        runId = open.id;
        break;
      }
      if (Date.now() > goingBy) {
        for (const w of workers) w.child.kill("SIGKILL");
        const ends = await Promise.all(workers.map((w) => w.exited));
        throw new Error(
          `three workers did not get going in 5 minutes: ${JSON.stringify(open)} ${JSON.stringify(ends)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    workers[0]?.child.kill("SIGKILL");
    expect((await workers[0]?.exited)?.code).toBeNull();
    for (const survivor of workers.slice(1)) {
      const { code, stderr } = (await survivor.exited) ?? { code: -1, stderr: "" };
      expect(stderr).toBe("");
      expect(code).toBe(0);
    }
    const report = await ledger.progress(runId);
    expect(report.state).toBe("finished");
    expect(report.segmentsDone).toBe(report.segments);
    for (const entity of await counts(prefix)) expect(entity.missing, entity.entity).toBe(0);
  }, 600_000);
});
