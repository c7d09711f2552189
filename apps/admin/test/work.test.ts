/**
 * What the console does to the stores, on real MariaDB and DynamoDB Local: a backfill started, stopped and resumed
 * from it; a validation run from it that finds what was broken on DynamoDB; a repair from it that mends it. The same
 * runtime functions as the CLI, recorded in the audit trail with who did it.
 */
import {
  applyTables,
  BackfillLedger,
  createCodec,
  DynamoEntityStore,
  type EntityValue,
  getValidationReport,
  MysqlEntityStore,
} from "@ferry/runtime";
import { createMysqlPool } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { contract } from "@ferry/store-data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleStores } from "../src/index.ts";
import { form, json, readable, testConsole } from "./console.ts";

const stack = useTestStack();
const codec = createCodec(contract);
let pool: ReturnType<typeof createMysqlPool>;

beforeAll(async () => {
  await seedStore({
    mysqlUrl: stack.mysqlUrl,
    plan: { kind: "synthetic", users: 150, products: 30, orders: 40, seed: 7 },
  });
  pool = createMysqlPool(stack.mysqlUrl, { connectionLimit: 8 });
});
afterAll(async () => {
  await pool?.end();
});

/** A console of its own (table prefix `name`) with the app's stores, and the contract's tables made. */
async function consoleWithStores(name: string) {
  const tablePrefix = `${stack.tablePrefix}${name}_`;
  await applyTables(stack.dynamodb(), contract, { prefix: tablePrefix });
  const stores = consoleStores({
    contract,
    mysql: pool,
    client: stack.dynamodb(),
    tablePrefix,
    // Pages of 5 rows: a stop lands after a page, not after the whole table; a worker sees it within 500 ms.
    backfillTuning: { pageRows: 5, leaseMs: 1500 },
  });
  const console = await testConsole(stack, name, { stores });
  return { console, tablePrefix, ledger: new BackfillLedger(stack.dynamodb(), { tablePrefix }) };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 240_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Worker {
  kind: string;
  state: string;
  message: string;
  who: string;
  runId?: string;
}

// Each test waits for a backfill, a validation or a repair, each up to 4 minutes on loaded cores: a ceiling, not a goal.
describe("the console's work on the stores", { timeout: 900_000 }, () => {
  it("starts a backfill, stops it for every worker, resumes it, and it finishes; each step is in the audit trail", async () => {
    const { console, ledger } = await consoleWithStores("bf");
    const ada = await console.logIn("ada");
    const val = await console.logIn("val");
    const worker = async () =>
      ((await (await console.request("/api/backfill", { cookie: ada })).json()) as { worker: Worker | null }).worker;

    // Phase 1: refused with the runtime's reason, nothing recorded.
    const early = await console.request("/api/backfill/start", { cookie: ada, ...json({}) });
    expect(early.status).toBe(409);
    expect(((await early.json()) as { error: { message: string } }).error.message).toMatch(
      /^the backfill cannot start: the phase is 1/,
    );
    expect(await ledger.runs()).toEqual([]);
    // A viewer may not act.
    expect((await console.request("/api/backfill/start", { cookie: val, ...json({}) })).status).toBe(403);
    expect((await console.request("/backfill/start", { cookie: val, ...form({}) })).status).toBe(403);
    const viewerPage = readable(await (await console.request("/backfill", { cookie: val })).text());
    expect(viewerPage).toContain("Starting, stopping and resuming a run needs the operator role.");
    expect(viewerPage).not.toContain("Start a backfill");

    await console.phases.set(2, { who: "ada", force: true, reason: "test setup" });
    // Bad input: the page again, the message next to the field, what was typed kept; nothing started.
    const bad = await console.request("/backfill/start", {
      cookie: ada,
      ...form({ entities: "User", rate: "fast" }),
    });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(readable(badHtml)).toContain(
      "Run it from here The rate is a whole number of items per second, from 1 to 10,000,000. Entities (none ticked: every entity)",
    );
    expect(readable(badHtml)).toContain(
      "At most this many items per second (optional) The rate is a whole number of items per second, from 1 to 10,000,000. Start a backfill",
    );
    // The refusal in phase 1 was answered; this console's worker never ran.
    expect(readable(badHtml)).not.toContain("This console's worker");
    expect(badHtml).toContain('value="fast"');
    expect(badHtml).toMatch(/id="entity-User" name="entities" value="User" checked/);
    const unknown = await console.request("/api/backfill/start", { cookie: ada, ...json({ entities: ["Nope"] }) });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({
      error: {
        code: "invalid",
        message: "the contract has no entity 'Nope'",
        fields: { entities: "the contract has no entity 'Nope'" },
      },
    });
    expect(await ledger.runs()).toEqual([]);

    // Started from the form: Users only, slowly, so that it can be stopped on the way.
    const started = await console.request("/backfill/start", {
      cookie: ada,
      ...form({ entities: "User", rate: "10" }),
    });
    expect(started.status).toBe(303);
    expect(started.headers.get("location")).toBe("/backfill?done=started");
    // The console's clock (the trail's) moves on between the steps, so that the trail keeps their order.
    console.clock.now += 1000;
    const page = readable(await (await console.request("/backfill?done=started", { cookie: ada })).text());
    expect(page).toContain("The backfill started: this console's worker is on it.");
    expect(page).toMatch(/This console's worker: running · started .* by ada · working on run \S+/);
    const open = await until("rows written", async () => {
      const current = await ledger.current();
      return current !== undefined && current.written >= 10 ? current : undefined;
    });
    expect(open.entities).toEqual(["User"]);
    expect(open.who).toBe("ada");
    expect(open.contract).toBe("store");
    // A second start while this console's worker runs is refused.
    const twice = await console.request("/api/backfill/start", { cookie: ada, ...json({}) });
    expect(twice.status).toBe(409);

    const stop = await console.request("/backfill/stop", { cookie: ada, ...form({}) });
    expect(stop.status).toBe(303);
    console.clock.now += 1000;
    const stopped = await until("the worker to stop", async () => {
      const now = await worker();
      return now?.state === "stopped" ? now : undefined;
    });
    expect(stopped.message).toMatch(new RegExp(`^stopped by ada: run ${open.id} stays open`));
    const held = await ledger.current();
    expect(held?.stopped?.who).toBe("ada");
    expect(held?.state).toBe("running");
    expect(held?.written).toBeLessThan(150);
    const stoppedPage = readable(await (await console.request("/backfill", { cookie: ada })).text());
    expect(stoppedPage).toContain(`Stopped by ada at`);
    expect(stoppedPage).toContain(`Resume run ${open.id}`);
    // Stopping what is stopped keeps it so; a start now joins nothing: the open run is stopped.
    const refused = await console.request("/api/backfill/start", { cookie: ada, ...json({ entities: ["User"] }) });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
      new RegExp(`^backfill run ${open.id} was stopped by ada`),
    );

    const resumed = await console.request("/api/backfill/resume", { cookie: ada, ...json({}) });
    expect(resumed.status).toBe(202);
    expect(await resumed.json()).toEqual({ runId: open.id, joined: true, resumed: true });
    const done = await until("the run to finish", async () => {
      const now = await worker();
      return now?.state === "done" ? now : undefined;
    });
    expect(done.message).toMatch(new RegExp(`^run ${open.id} finished: this worker wrote \\d+ rows`));
    const [run] = await ledger.runs(1);
    expect(run?.state).toBe("finished");
    expect(run?.written).toBe(150);
    expect(run?.stopped).toBeUndefined();
    expect((await console.request("/api/backfill/stop", { cookie: ada, ...json({}) })).status).toBe(409);

    // Recorded by the ledger itself, as a run driven from the CLI is.
    const trail = await console.trail.page({ kind: "backfill" });
    expect(trail.entries.map((entry) => [entry.who, entry.what]).reverse()).toEqual([
      ["ada", `backfill run ${open.id} started (User, at most 10 items/s)`],
      ["ada", `backfill run ${open.id} stopped (its workers give their segments back after the page under way)`],
      ["ada", `backfill run ${open.id} resumed`],
      ["ada", `backfill run ${open.id} finished: 150 rows written, 0 skipped, 0 rejected`],
    ]);
  });

  it("runs a validation that finds what was broken, repairs it, and validates clean; refused in phase 5", async () => {
    const { console, tablePrefix } = await consoleWithStores("check");
    const ada = await console.logIn("ada");
    const val = await console.logIn("val");
    await console.phases.set(2, { who: "ada", force: true, reason: "test setup" });
    expect((await console.request("/api/backfill/start", { cookie: ada, ...json({}) })).status).toBe(202);
    await until("the backfill to finish", async () => {
      const body = (await (await console.request("/api/backfill", { cookie: ada })).json()) as { worker: Worker };
      if (body.worker.state === "failed") throw new Error(body.worker.message);
      return body.worker.state === "done" ? true : undefined;
    });

    // Broken on DynamoDB behind the app's back: one user gone, one with another first name.
    const mysql = new MysqlEntityStore(pool, codec);
    const dynamodb = new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix });
    const users = (await mysql.list("User", { limit: 2 })).items as EntityValue[];
    const [gone, changed] = users as [EntityValue, EntityValue];
    await dynamodb.delete("User", { id: gone.id });
    await dynamodb.update("User", { id: changed.id }, { firstName: "Tampered" });

    const check = async () =>
      (
        (await (await console.request("/api/validation", { cookie: ada })).json()) as {
          running: Worker & { reportId?: string };
        }
      ).running;
    // Bad input and the viewer's refusal write nothing.
    const bad = await console.request("/api/validation/run", { cookie: ada, ...json({ sample: 2 }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { fields: unknown } }).error.fields).toEqual({
      sample: "The sample is a fraction of the rows: more than 0 and at most 1 (e.g. 0.1).",
    });
    const badForm = await console.request("/validation/run", {
      cookie: ada,
      ...form({ entities: "Nope", sample: "" }),
    });
    expect(badForm.status).toBe(400);
    expect(readable(await badForm.text())).toContain("the contract has no entity 'Nope'");
    expect((await console.request("/api/validation/run", { cookie: val, ...json({}) })).status).toBe(403);
    expect((await console.request("/validation/repair", { cookie: val, ...form({}) })).status).toBe(403);
    expect(await check()).toBeNull();

    // The console's clock (the trail's) moves on between the steps, so that the trail keeps their order.
    const step = () => {
      console.clock.now += 1000;
    };
    const run = await console.request("/validation/run", { cookie: ada, ...form({ entities: "User" }) });
    step();
    expect(run.status).toBe(303);
    expect(run.headers.get("location")).toBe("/validation?started=validation");
    const validated = await until("the validation", async () => {
      const now = await check();
      return now?.state === "done" ? now : undefined;
    });
    step();
    const report = await getValidationReport(stack.dynamodb(), tablePrefix, validated.reportId ?? "");
    expect(report?.who).toBe("ada");
    expect(report?.entities.map((entity) => [entity.entity, entity.missing, entity.mismatched, entity.extra])).toEqual([
      ["User", 1, 1, 0],
    ]);
    expect(validated.message).toBe(`report ${report?.id}: 2 differences (1 missing, 0 extra, 1 mismatched)`);
    const reportPage = readable(
      await (await console.request(`/validation/${encodeURIComponent(report?.id ?? "")}`, { cookie: ada })).text(),
    );
    expect(reportPage).toContain("Repair User and validate again");
    const viewerReport = readable(
      await (await console.request(`/validation/${encodeURIComponent(report?.id ?? "")}`, { cookie: val })).text(),
    );
    expect(viewerReport).not.toContain("Repair User and validate again");

    const repair = await console.request("/validation/repair", { cookie: ada, ...form({ entities: "User" }) });
    step();
    expect(repair.status).toBe(303);
    const repaired = await until("the repair", async () => {
      const now = await check();
      return now?.state === "done" && now.kind === "repair" ? now : undefined;
    });
    expect(repaired.message).toMatch(/^report \S+: 2 repaired, 0 failed; after: clean$/);
    expect(await dynamodb.get("User", { id: gone.id })).toEqual(await mysql.get("User", { id: gone.id }));
    expect((await dynamodb.get("User", { id: changed.id }))?.firstName).toBe(
      (await mysql.get("User", { id: changed.id }))?.firstName,
    );

    const trail = await console.trail.page({});
    const actions = trail.entries
      .filter((entry) => entry.kind === "validation" || entry.kind === "repair")
      .map((entry) => [entry.who, entry.kind, entry.what.replace(/report \S+?#[0-9a-f]+/, "report R")])
      .reverse();
    expect(actions).toEqual([
      ["ada", "validation", "validation started (User)"],
      ["ada", "validation", "validation done: report R: 2 differences (1 missing, 0 extra, 1 mismatched)"],
      ["ada", "repair", "repair started (User)"],
      ["ada", "repair", "repair done: report R: 2 repaired, 0 failed; after: clean"],
    ]);

    await console.phases.set(5, { who: "ada", force: true, confirm: true, reason: "test setup" });
    const late = await console.request("/api/validation/repair", { cookie: ada, ...json({}) });
    expect(late.status).toBe(409);
    expect(((await late.json()) as { error: { message: string } }).error.message).toBe(
      "the phase is 5: MySQL is no longer written, so there is no authoritative copy to repair from",
    );
  });

  it("closing the console stops its worker (the run stays open, another worker goes on with it) and starts nothing more", async () => {
    const { console, ledger } = await consoleWithStores("close");
    const ada = await console.logIn("ada");
    await console.phases.set(2, { who: "ada", force: true, reason: "test setup" });
    const started = await console.request("/api/backfill/start", {
      cookie: ada,
      ...json({ entities: ["User"], rate: 10 }),
    });
    expect(started.status).toBe(202);
    await until("rows written", async () => {
      const current = await ledger.current();
      return current !== undefined && current.written >= 10 ? current : undefined;
    });
    await console.close();
    const worker = ((await (await console.request("/api/backfill", { cookie: ada })).json()) as { worker: Worker })
      .worker;
    expect(worker.state).toBe("stopped");
    expect(worker.message).toMatch(/^stopped as this console closed: run \S+ stays open/);
    const open = await ledger.current();
    expect(open?.state).toBe("running");
    expect(open?.stopped).toBeUndefined();
    expect(open?.segmentsLeased).toBe(0);
    const refused = await console.request("/api/backfill/start", { cookie: ada, ...json({}) });
    expect(refused.status).toBe(503);
    expect((await console.request("/api/validation/run", { cookie: ada, ...json({}) })).status).toBe(503);

    // Another console (a restart) offers to work on the open run, and finishes it.
    const { console: again } = await consoleWithStores("close");
    const ada2 = await again.logIn("ada");
    const page = readable(await (await again.request("/backfill", { cookie: ada2 })).text());
    expect(page).toContain("Stop run");
    expect(page).toContain("Work on it from this console");
    // Someone stops it after the page was shown: the page's click (it saw the run running) does not undo that stop.
    const stopped = await ledger.stop(open?.id ?? "", "bea");
    const stale = await again.request("/backfill/resume", { cookie: ada2, ...form({ seen: "none" }) });
    expect(stale.status).toBe(409);
    expect(readable(await stale.text())).toContain(
      `Backfill run ${open?.id} was stopped by bea at ${stopped.stopped?.at} since this page was shown; nothing was done.`,
    );
    expect((await ledger.current())?.stopped?.who).toBe("bea");
    await ledger.resume(open?.id ?? "", "bea");
    const joined = await again.request("/backfill/resume", { cookie: ada2, ...form({ seen: "none" }) });
    expect(joined.status).toBe(303);
    expect(joined.headers.get("location")).toBe("/backfill?done=joined");
    const notes = await again.trail.page({ kind: "backfill" });
    // (The console's entries carry its test clock, the ledger's the real one: found, not ordered, here.)
    const joins = notes.entries.filter((entry) => entry.what.endsWith("joined it"));
    expect(joins.map((entry) => [entry.who, entry.what])).toEqual([
      ["ada", `backfill run ${open?.id}: a worker of the console joined it`],
    ]);
    await until("the run to finish", async () => ((await ledger.runs(1))[0]?.state === "finished" ? true : undefined));
    // Every user once: rows the closed console's worker wrote after its last checkpoint are found there and skipped.
    const [run] = await ledger.runs(1);
    expect((run?.written ?? 0) + (run?.skipped ?? 0)).toBe(150);
    expect(run?.rejected).toBe(0);
  });

  it("without the stores it watches only: acting answers 503 and the pages say why", async () => {
    const console = await testConsole(stack, "watch");
    const ada = await console.logIn("ada");
    for (const path of ["/api/backfill/start", "/api/backfill/stop", "/api/validation/run", "/api/validation/repair"]) {
      const answer = await console.request(path, { cookie: ada, ...json({}) });
      expect(answer.status, path).toBe(503);
      expect(((await answer.json()) as { error: { code: string } }).error.code, path).toBe("no_stores");
    }
    expect(readable(await (await console.request("/backfill", { cookie: ada })).text())).toContain(
      "This console was started without the app's stores; it shows runs but cannot start one.",
    );
    expect(readable(await (await console.request("/validation", { cookie: ada })).text())).toContain(
      "This console was started without the app's stores; run pnpm ferry validate instead.",
    );
  });
});
