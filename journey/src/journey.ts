/**
 * The whole journey, the way a team would make it: a fresh private stack; the store's legacy database seeded; the
 * contract checked against it (`ferry analyze`, `ferry contract check`, `ferry generate --check`); the tables applied;
 * a fleet of store processes under a continuous mixed load from another process; then phase 2, the backfill, a
 * validation, phase 3 until the shadow reads have compared enough, phase 4 with a validation, phase 5. A control run
 * first: the same load on the same fleet with no migration, for as long, so that a failure the migration caused can
 * be told from one the load sees anyway. At the end the load's own log is replayed against DynamoDB (every order the
 * store said it placed is there, with its line; every cancel it confirmed is cancelled).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BackfillLedger,
  DEFAULT_WRITE_LEASE_MS,
  FleetMember,
  type Mismatch,
  MismatchLog,
  PhaseStore,
  readShadowCounts,
} from "@ferry/runtime";
import { createMysqlPool, describeError, dynamoDbClient, stackDown, stackUp, withDatabase } from "@ferry/stack";
import { SeededRandom } from "@ferry/stack/random";
import { contract, createStore, type Store } from "@ferry/store-data";
import { APPROVED_TEST_CARD } from "@ferry/store-web";
import { type FaultRecord, ServerFaults } from "./faults.ts";
import {
  type CliResult,
  ferry,
  type LoadConfig,
  type LoadProcess,
  type LoadSummary,
  type StoreProcess,
  startLoad,
  startStore,
} from "./processes.ts";
import { type JourneyReport, type Second, writeReport } from "./report.ts";
import type { JourneyOptions, OutboxSample, TimelineEvent, ValidationJson } from "./types.ts";

export type { JourneyOptions } from "./types.ts";

const DATABASE = "store";
const CARD = { cardNumber: APPROVED_TEST_CARD, cardExpiry: "12/39", cardCvc: "123" };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the journey found wrong; empty when it kept every promise. */
export interface JourneyResult {
  problems: string[];
  report: string;
}

export async function runJourney(options: JourneyOptions): Promise<JourneyResult> {
  if (
    options.rate !== undefined &&
    !(Number.isInteger(options.rate) && options.rate >= options.stores * options.connections)
  ) {
    throw new Error(
      `the load's rate is a whole number of requests a second, at least one for each connection; got ${options.rate}`,
    );
  }
  mkdirSync(options.out, { recursive: true });
  // The stack's home is not in the report's folder: whoever removes that folder never pulls the data from under
  // running servers; the journey removes its home itself once the stack is down.
  // In memory where the machine has a tmpfs (/dev/shm): DynamoDB Local keeps its tables on disk here (a fault kills
  // it and starts it again on them), and on a real disk its SQLite syncs every write, three times slower.
  const home = mkdtempSync(join(roomyTmpfs() ?? tmpdir(), "ferry-journey-stack-"));
  const events: TimelineEvent[] = [];
  const problems: string[] = [];
  const event = (kind: TimelineEvent["kind"], text: string) => {
    events.push({ at: Date.now(), kind, text });
    options.say(`${kind.padEnd(5)} ${text}`);
  };
  const steps: CliResult[] = [];
  const stores: StoreProcess[] = [];
  let faults: ServerFaults | undefined;
  const faultRecords: FaultRecord[] = [];
  const rng = new SeededRandom(options.seed);
  /** What runs in the background, stopped whatever happens. */
  let load: LoadProcess | undefined;
  let poller: { stop(): Promise<OutboxSample[]> } | undefined;
  const started = Date.now();
  /** Set once the deadline has passed: the teardown has begun, and the body starts nothing new. */
  let expired = false;
  let deadlineTimer: NodeJS.Timeout | undefined;
  const body = async (): Promise<JourneyResult> => {
    event("step", "stack: a private MariaDB and DynamoDB Local");
    // DynamoDB Local on disk: a fault kills it and starts it again on the same tables.
    const state = await stackUp({ home, persistDynamoDb: true });
    faults = new ServerFaults(state);
    const serverUrl = state.mysql?.url;
    const endpoint = state.dynamodb?.url;
    if (!serverUrl || !endpoint) throw new Error("the private stack did not come up");
    const mysqlUrl = withDatabase(serverUrl, DATABASE);
    const env = { MYSQL_URL: mysqlUrl, DYNAMODB_ENDPOINT: endpoint, FERRY_TABLE_PREFIX: "" };

    /** A store process that finished starting after the teardown began is stopped at once (nothing else would). */
    const keepStore = async (store: StoreProcess): Promise<StoreProcess> => {
      if (!expired) return store;
      await store.stop().catch(() => undefined);
      throw new Error("the journey is stopping: a store process started meanwhile is stopped");
    };
    /** Runs one CLI step; a step that fails is a problem, and the journey stops there. */
    const cli = async (what: string, args: string[], accept: number[] = [0]): Promise<CliResult> => {
      if (expired) throw new Error("the deadline has passed");
      const result = await ferry(args, env);
      steps.push(result);
      // What it printed, for whoever reads the report: steps/NN-<command>.txt (NN: its place in the journey).
      mkdirSync(join(options.out, "steps"), { recursive: true });
      writeFileSync(
        join(options.out, "steps", `${String(steps.length).padStart(2, "0")}-${args[0] ?? ""}.txt`),
        `$ ferry ${args.join(" ")}\nexit ${result.code} in ${result.seconds.toFixed(1)} s\n\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
      );
      event("step", `${what}: \`ferry ${args.join(" ")}\` exit ${result.code} in ${result.seconds.toFixed(1)} s`);
      if (!accept.includes(result.code)) {
        throw new Error(
          `${what} failed (exit ${result.code}): ${(result.stderr || result.stdout).trim().slice(-2_000)}`,
        );
      }
      return result;
    };

    // 1. The legacy database, and the design checked against it.
    await cli("seed", [
      "seed",
      "--users",
      String(options.users),
      "--products",
      String(options.products),
      "--orders",
      String(options.orders),
      "--seed",
      String(options.seed),
      "--quiet",
    ]);
    const draft = join(options.out, "draft-contract.yaml");
    await cli("analyze: a draft contract from the live schema and the recorded workload", [
      "analyze",
      "--database",
      DATABASE,
      "--workload",
      "contract/workload/store.log",
      "--out",
      draft,
    ]);
    await cli("analyze: the reviewed contract's facts still match the live schema", [
      "analyze",
      "--database",
      DATABASE,
      "--out",
      "contract/store.yaml",
      "--check",
    ]);
    await cli("contract check", ["contract", "check", "contract/store.yaml"]);
    await cli("generate: the committed package is what the contract generates", [
      "generate",
      "contract/store.yaml",
      "--check",
    ]);
    await cli("tables apply", ["tables", "apply", "--contract", "contract/store.yaml", "--quiet"]);

    // 2. The fleet, and what the load shops for.
    const secret = randomBytes(32).toString("base64url");
    const storeEnv = { ...env, STORE_SESSION_SECRET: secret };
    for (let i = 0; i < options.stores; i++) {
      stores.push(await keepStore(await startStore(storeEnv, (line) => options.say(`  ${line}`))));
    }
    event("step", `${options.stores} store processes: ${stores.map((s) => s.url).join(", ")}`);
    const catalog = await shoppable(stores[0]?.url ?? "", options.connections * options.stores);
    poller = pollStores(stores);

    const runLoad = (name: string, { append = false } = {}) => {
      const config: LoadConfig = {
        urls: stores.map((s) => s.url),
        connections: options.connections,
        totalConnections: options.connections * options.stores,
        rate: options.rate,
        ...catalog,
        log: join(options.out, `${name}-log.jsonl`),
        stats: join(options.out, `${name}-seconds.jsonl`),
        failures: join(options.out, `${name}-failures.jsonl`),
        card: CARD,
      };
      if (!append) {
        writeFileSync(config.log, "");
        writeFileSync(config.stats, "");
        writeFileSync(config.failures, "");
      }
      if (expired) throw new Error("the journey is stopping: no load is started");
      load = startLoad(config, (line) => options.say(`  ${line}`));
      return { config, load };
    };

    // 3. The control run: the same load, no migration.
    let control: { summary: LoadSummary; seconds: Second[] } | undefined;
    if (options.control) {
      event("step", `control run: the load for ${options.phaseSeconds * 5} s in phase 1, no migration`);
      const run = runLoad("control");
      await sleep(options.phaseSeconds * 5 * 1000);
      const summary = await run.load.stop();
      control = { summary, seconds: readLines<Second>(run.config.stats) };
      event("step", "control run ended");
    }

    // 4. The migration under the same load: 1 -> 4, back to 1, then 1 -> 5.
    let run = runLoad("journey");
    const loadStarted = Date.now();
    const validations: Array<{ phase: number; report: ValidationJson }> = [];
    const backfills: JourneyReport["backfills"] = [];
    const summaries: LoadSummary[] = [];
    // A move waits for the fleet at most 5 minutes (the default is 30 s): on a loaded machine (CI's 2 cores running
    // every suite) the fleet's outbox, after a store restarted, took longer than 30 s to replay.
    const phaseSet = (to: number, reason: string, extra: string[] = []) =>
      cli(`phase -> ${to}`, [
        "phase",
        "set",
        String(to),
        "--reason",
        `journey: ${reason}`,
        "--who",
        "journey",
        "--wait-ms",
        "300000",
        ...extra,
      ]);
    const validateIn = async (phase: number) => {
      const result = await cli(
        `validate (phase ${phase})`,
        ["validate", "--contract", "contract/store.yaml", "--json", "--quiet", "--who", "journey"],
        [0, 1],
      );
      const report = JSON.parse(result.stdout) as ValidationJson;
      validations.push({ phase, report });
      // Kept whole (its differences, key by key) beside the report.
      writeFileSync(join(options.out, `validation-${validations.length}-phase-${phase}.json`), result.stdout);
      if (!report.clean)
        problems.push(`the validation in phase ${phase} found ${report.totals.differences} differences`);
    };
    /**
     * A backfill run; with `killFirst`, a first worker is killed (SIGKILL) once the run has written that many rows,
     * and the next one must resume its run.
     */
    const backfill = async (killFirst?: number) => {
      // Short leases: the worker run after a killed one takes its segments over once their lease runs out.
      const args = ["backfill", "run", "--json", "--who", "journey", "--lease-ms", "5000"];
      if (killFirst !== undefined) {
        const from = Date.now();
        const client = dynamoDbClient(endpoint);
        const ledger = new BackfillLedger(client, { tablePrefix: "" });
        let written = 0;
        if (expired) throw new Error("the journey is stopping: no backfill worker is started");
        const killed = await ferry(args, env, {
          killWhen: async () => {
            written = (await ledger.current())?.written ?? 0;
            return written >= killFirst;
          },
        }).finally(() => client.destroy());
        steps.push(killed);
        const note =
          killed.code === 137
            ? `killed (SIGKILL) once the run had written ${written.toLocaleString("en-US")} rows`
            : `ended by itself (exit ${killed.code}) before the run had written ${killFirst} rows`;
        event("fault", `backfill worker ${note}; a new worker resumes the run`);
        faultRecords.push({
          name: "backfill worker killed",
          phase: "phase 2",
          from,
          to: from,
          note,
          allows: { statuses: [] },
        });
        if (killed.code !== 137) problems.push(`the backfill worker was not killed mid-run: it ${note}`);
      }
      const result = await cli("backfill", args);
      const { report, joined } = JSON.parse(result.stdout) as {
        report: JourneyReport["backfills"][number];
        joined: boolean;
      };
      backfills.push(report);
      if (report.state !== "finished") problems.push(`the backfill ended ${report.state}`);
      if (killFirst !== undefined && !joined)
        problems.push("the backfill after the kill did not resume the killed run");
    };
    let settledBefore = 0;
    let mismatchesBefore = 0;
    /** Phase 3 until the phase's time has passed and the guard rail has its comparisons; mismatches are problems. */
    const shadowPhase = async () => {
      const phase3Started = Date.now();
      let shadow = await shadowState(endpoint);
      while (
        Date.now() - phase3Started < options.phaseSeconds * 1000 ||
        (shadow.comparisons < shadow.minComparisons && Date.now() - phase3Started < 600_000)
      ) {
        await sleep(1_000);
        shadow = await shadowState(endpoint);
      }
      // The processes' own counters, live (the control table's are flushed every few seconds, and a difference is
      // counted only once it has been read again, up to three times over 5.25 s): after the rechecks under way have
      // ended (unless one is slow: that one counts in the next stay in phase 3).
      await sleep(RECHECKS_SPAN_MS);
      const settledSoFar = await scrapeTotal(stores, "ferry_shadow_settled_total");
      const mismatchesSoFar = await scrapeTotal(stores, "ferry_shadow_mismatches_total");
      // They run on from an earlier stay in phase 3: this stay's share.
      // (A store process restarted since starts its counters at 0 again: never below 0.)
      const settled = Math.max(0, settledSoFar - settledBefore);
      const mismatches = Math.max(shadow.mismatches, mismatchesSoFar - mismatchesBefore);
      settledBefore = settledSoFar;
      mismatchesBefore = mismatchesSoFar;
      event(
        "check",
        `shadow reads in phase 3: ${shadow.comparisons} compared, ${mismatches} mismatched, ${settled} differed for a moment and agreed when read again (the 3 -> 4 guard rail needs ${shadow.minComparisons})`,
      );
      if (mismatches > 0) {
        problems.push(`shadow reads found ${mismatches} mismatches in phase 3`);
        for (const mismatch of await latestMismatches(endpoint)) {
          problems.push(
            `mismatch: ${mismatch.entity} ${JSON.stringify(mismatch.key)}: ${mismatch.fields.map((f) => `${f.field} served ${f.served} shadow ${f.shadow}`).join("; ")}`,
          );
        }
      }
      return { ...shadow, mismatches, settled };
    };
    const replayed: JourneyReport["replays"] = [];
    /** The load's log so far replayed against the store that serves `phase` (the load has stopped). */
    const replay = async (phase: number) => {
      const log = readLines<Logged>(run.config.log);
      const result = await replayLog(log, mysqlUrl, endpoint);
      replayed.push({
        phase,
        orders: result.orders,
        cancels: result.cancels,
        users: result.users,
        emailChanges: result.emailChanges,
        missing: result.missing.length,
      });
      event(
        "check",
        `replay of the load's log in phase ${phase} (${phase === 1 ? "MySQL" : "DynamoDB"}): ${result.orders} orders, ${result.cancels} cancels, ${result.users} shoppers, ${result.emailChanges} email changes; ${result.missing.length} missing or wrong`,
      );
      for (const missing of result.missing.slice(0, 20)) problems.push(`replay in phase ${phase}: ${missing}`);
      if (result.missing.length > 20)
        problems.push(`replay in phase ${phase}: ... and ${result.missing.length - 20} more`);
    };
    /** Waits until no store process has a write waiting in its outbox (after a fault), at most 10 minutes (a ceiling). */
    const outboxEmpty = async (after: string) => {
      const from = Date.now();
      let depth = await scrapeTotal(stores, "ferry_outbox_depth");
      while (depth > 0 && Date.now() - from < 600_000) {
        await sleep(500);
        depth = await scrapeTotal(stores, "ferry_outbox_depth");
      }
      event(
        "check",
        `outbox after ${after}: ${depth === 0 ? "empty" : `${depth} entries still waiting`} (${((Date.now() - from) / 1000).toFixed(1)} s after the server was back)`,
      );
      if (depth > 0) problems.push(`the outbox still held ${depth} entries 10 minutes after ${after}`);
    };
    /** Runs `fault` at a random moment within the next `withinMs` (the rest of that time passes after it). */
    const sometimeWithin = async (withinMs: number, fault: () => Promise<void>) => {
      const at = rng.between(0, Math.max(0, Math.floor(withinMs)));
      const begun = Date.now();
      await sleep(at);
      await fault();
      await sleep(Math.max(0, withinMs - (Date.now() - begun)));
    };
    const phaseTime = () => sleep(options.phaseSeconds * 1000);
    const halfPhase = () => sleep((options.phaseSeconds * 1000) / 2);

    event("phase", "phase 1 (MySQL only): the load runs");
    await phaseTime();
    await phaseSet(2, "start dual writes");
    event("phase", "phase 2 (dual writes, MySQL authoritative)");
    if (options.faults) {
      await sometimeWithin((options.phaseSeconds * 1000) / 2, async () => {
        event("fault", "DynamoDB Local killed (SIGKILL), down for 10 s");
        // Whether a store process refused writes (its health says so) through the outage and until all take them again.
        const watch = watchWritable(stores);
        let outage: { downAt: number; upAt: number };
        let writableAt: number | undefined;
        try {
          outage = await (faults as ServerFaults).dynamoDbOutage(10_000);
          event(
            "fault",
            `DynamoDB Local started again on its data: answering after ${((outage.upAt - outage.downAt) / 1000).toFixed(1)} s (the write lease ${DEFAULT_WRITE_LEASE_MS / 1000} s)`,
          );
          writableAt = await watch.allWritable(300_000, () => expired);
        } finally {
          await watch.stop();
        }
        const { downAt, upAt } = outage;
        const refusedAt = watch.refusedAt();
        if (writableAt === undefined) {
          problems.push("a store process still refused writes 5 minutes after DynamoDB Local's outage");
        }
        event(
          "fault",
          `${writableAt === undefined ? "a store process still refuses writes" : `every store process takes writes ${((Math.max(writableAt, upAt) - upAt) / 1000).toFixed(1)} s after DynamoDB Local answered`}${refusedAt === undefined ? "" : ` (one refused writes from ${((refusedAt - downAt) / 1000).toFixed(1)} s into the outage: its write lease ran out)`}`,
        );
        faultRecords.push({
          name: "DynamoDB Local killed for 10 s",
          phase: "phase 2",
          from: downAt,
          to: upAt,
          note: "",
          // Nothing: MySQL serves every read and takes every write (their copies wait in the outbox), each process
          // within its write lease; no move can happen meanwhile (it would have to write the control table).
          allows: { statuses: [] },
        });
        // A process writes on within the write lease of its last heartbeat before the outage; past it, it refuses writes
        // by design (WritesSuspended, a 503), since a move may then pass it by, until a phase read and a heartbeat
        // renew it. On a loaded machine DynamoDB Local's restart alone can outlast the lease, and the last heartbeat
        // before the kill can lag: when a process's health said it refused writes, or the outage came within 5 s of the
        // lease, writes refused from 5 s short of the lease until every process took writes again (and the grace) are
        // that fault's cost.
        const leaseEnd = downAt + WRITES_REFUSED_AFTER_MS;
        const until = Math.max(upAt, writableAt ?? Date.now());
        if (refusedAt !== undefined || upAt + FAULT_GRACE_MS > leaseEnd) {
          faultRecords.push({
            name: "writes refused past the write lease",
            phase: "phase 2",
            // From 5 s short of the lease (a write refused before that is a problem, whatever the health said).
            from: leaseEnd,
            to: Math.max(leaseEnd, until + FAULT_GRACE_MS),
            graceMs: 0,
            note: `DynamoDB Local down ${((upAt - downAt) / 1000).toFixed(1)} s, the lease ${DEFAULT_WRITE_LEASE_MS / 1000} s, writes taken again ${((until - upAt) / 1000).toFixed(1)} s later`,
            // A write answered 503 (WritesSuspended), and what a visit whose write was refused meets next.
            allows: { statuses: ["503", ...CASCADES] },
          });
        }
        await outboxEmpty("DynamoDB Local's outage");
      });
      await backfill(rng.between(200, 1_000));
    } else {
      await halfPhase();
      await backfill();
    }
    await validateIn(2);
    await halfPhase();
    await phaseSet(3, "shadow reads");
    event("phase", "phase 3 (MySQL authoritative, shadow reads from DynamoDB)");
    const shadows = [await shadowPhase()];
    if (options.faults) {
      // A store process restarted while 3 -> 4 waits for the fleet.
      const move = phaseSet(4, "DynamoDB authoritative");
      // Observed at once: a refused move is thrown below, after the restart, never left unhandled meanwhile.
      const moved = move.then(
        () => undefined,
        (error: unknown) => error,
      );
      await sleep(rng.between(0, 1_500));
      const victim = stores.length - 1;
      const port = new URL(stores[victim]?.url ?? "").port;
      event(
        "fault",
        `store process ${victim + 1} restarted (SIGTERM, then started again on port ${port}) during 3 -> 4`,
      );
      const from = Date.now();
      await stores[victim]?.stop();
      stores[victim] = await keepStore(
        await startStore({ ...storeEnv, PORT: port }, (line) => options.say(`  ${line}`)),
      );
      faultRecords.push({
        name: "store process restarted during 3 -> 4",
        phase: "phase 3",
        from,
        to: Date.now(),
        note: "",
        allows: { statuses: ["error", "cut", ...CASCADES], url: stores[victim]?.url ?? "" },
      });
      event("fault", `store process ${victim + 1} serves again after ${((Date.now() - from) / 1000).toFixed(1)} s`);
      const refused = await moved;
      if (refused !== undefined) throw refused;
    } else await phaseSet(4, "DynamoDB authoritative");
    event("phase", "phase 4 (DynamoDB authoritative, MySQL still written)");
    if (options.faults) {
      await sometimeWithin((options.phaseSeconds * 1000) / 2, async () => {
        event("fault", "MySQL restarted (SIGTERM, its shutdown, started again)");
        const { downAt, upAt } = await (faults as ServerFaults).mysqlRestart();
        event("fault", `MySQL answers again after ${((upAt - downAt) / 1000).toFixed(1)} s`);
        // DynamoDB is authoritative: the shoppers should not notice.
        faultRecords.push({
          name: "MySQL restarted",
          phase: "phase 4",
          from: downAt,
          to: upAt,
          note: "",
          allows: { statuses: [] },
        });
        await outboxEmpty("MySQL's restart");
      });
    } else await halfPhase();
    await validateIn(4);
    await halfPhase();

    // The way back, under the same load: 4 -> 3 -> 2 -> 1, MySQL intact and the stores equal on the way.
    await phaseSet(3, "the way back: MySQL authoritative again");
    event("phase", "phase 3 (the way back, MySQL authoritative again)");
    await phaseTime();
    await phaseSet(2, "the way back: no shadow reads");
    event("phase", "phase 2 (the way back)");
    await halfPhase();
    await validateIn(2);
    await halfPhase();
    await phaseSet(1, "the way back: MySQL only");
    event("phase", "phase 1 (the way back, MySQL only)");
    await phaseTime();
    summaries.push(await run.load.stop());
    event("step", "the load paused: the replay reads a log that no longer grows");
    await replay(1);

    // And on to 5: DynamoDB missed phase 1's writes, so the backfill runs again (it re-syncs what changed).
    run = runLoad("journey", { append: true });
    event("step", "the load again");
    await halfPhase();
    await phaseSet(2, "dual writes again");
    event("phase", "phase 2 (again)");
    await halfPhase();
    await backfill();
    // The backfill copies MySQL's rows; an item whose row phase 1 deleted meanwhile is still in DynamoDB (the backfill
    // never meets it): a repair from MySQL removes it, before the validation that 3 -> 4 needs.
    const repaired = await cli(
      "validate --repair: what the way back to 1 left behind in DynamoDB",
      ["validate", "--contract", "contract/store.yaml", "--repair", "--who", "journey"],
      [0, 1],
    );
    if (repaired.code !== 0) problems.push("the repair after the backfill again left differences");
    event(
      "check",
      `repair after the backfill again: ${/^repaired on .*$/m.exec(repaired.stdout)?.[0] ?? "nothing to repair"}`,
    );
    await validateIn(2);
    await halfPhase();
    await phaseSet(3, "shadow reads again");
    event("phase", "phase 3 (again)");
    shadows.push(await shadowPhase());
    await phaseSet(4, "DynamoDB authoritative again");
    event("phase", "phase 4 (again)");
    await halfPhase();
    await validateIn(4);
    await halfPhase();
    await phaseSet(5, "DynamoDB only", ["--confirm"]);
    event("phase", "phase 5 (DynamoDB only)");
    await phaseTime();
    summaries.push(await run.load.stop());
    event("step", "the load stopped");
    const outbox = await poller.stop();
    poller = undefined;

    // 5. Nothing lost: the load's whole log replayed against DynamoDB.
    await replay(5);

    // 6. The load's failures against the control run's.
    const summary = mergeSummaries(summaries);
    const judged = judgeFailures(readLines<Failure>(run.config.failures), summary, control?.summary, faultRecords, {
      started,
      events,
    });
    problems.push(...judged.problems);

    const report: JourneyReport = {
      options: { ...options, say: undefined },
      started,
      loadStarted,
      events,
      seconds: readLines<Second>(run.config.stats),
      control,
      summary,
      outbox,
      backfills,
      validations,
      shadows,
      replays: replayed,
      faults: faultRecords.map((fault) => ({ ...fault, cost: judged.costs.get(fault) ?? {} })),
      steps: steps.map(({ args, code, seconds }) => ({ args, code, seconds })),
      problems,
    };
    const file = writeReport(options.out, report);
    return { problems, report: file };
  };
  try {
    const running = body();
    // Whatever the body meets after the deadline (servers going away under it) is not news.
    running.catch(() => undefined);
    const deadline = new Promise<never>((_, reject) => {
      const stop = (why: string) => {
        expired = true;
        reject(new Error(`${why}; everything it started is stopped`));
      };
      deadlineTimer = setTimeout(
        () => stop(`the journey did not finish within its deadline (${Math.round(options.deadlineMs / 1000)} s)`),
        options.deadlineMs,
      );
      const interrupted = () => stop(`the journey was interrupted (${String(options.signal?.reason ?? "aborted")})`);
      if (options.signal?.aborted) interrupted();
      else options.signal?.addEventListener("abort", interrupted, { once: true });
    });
    return await Promise.race([running, deadline]);
  } catch (error) {
    problems.push(`the journey stopped: ${describeError(error)}`);
    const file = join(options.out, "report.md");
    writeFileSync(
      file,
      `# ferry journey: stopped\n\n${problems.map((p) => `- ${p}`).join("\n")}\n\n## Timeline\n\n${events.map((e) => `- ${new Date(e.at).toISOString()} ${e.kind}: ${e.text}`).join("\n")}\n`,
    );
    return { problems, report: file };
  } finally {
    clearTimeout(deadlineTimer);
    load?.kill();
    await poller?.stop();
    await Promise.all(stores.map((s) => s.stop().catch(() => undefined)));
    await faults?.stop();
    await stackDown({ home }).then(
      () => rmSync(home, { recursive: true, force: true }),
      (error: unknown) => options.say(`stack down: ${describeError(error)} (its home is kept: ${home})`),
    );
  }
}

interface LoggedOrder {
  kind: "order";
  at: number;
  orderId: string;
  userId: string;
  productId: string;
  quantity: number;
  total: string;
}

interface LoggedCancel {
  /** "cancel-sent": the load sent it (its answer may never have come); "cancel": the store confirmed it. */
  kind: "cancel" | "cancel-sent";
  at: number;
  orderId: string;
}

interface LoggedUser {
  kind: "user";
  at: number;
  userId: string;
  username: string;
  email: string;
}

interface LoggedEmail {
  /** "email-sent": the load sent the change (its answer may never have come); "email": the store confirmed it. */
  kind: "email" | "email-sent";
  at: number;
  userId: string;
  email: string;
}

type Logged = LoggedOrder | LoggedCancel | LoggedUser | LoggedEmail;

/**
 * Each registered shopper's email as the load's log says it must be: the last one the store confirmed (the
 * registration's, or a change's), or one of the changes sent after it whose answer the load never saw.
 */
export function expectedEmails(
  log: Logged[],
): Map<string, { username: string; at: number; emails: string[]; changes: number }> {
  const users = new Map<string, { username: string; at: number; emails: string[]; changes: number }>();
  for (const entry of log) {
    if (entry.kind === "user") {
      users.set(entry.userId, { username: entry.username, at: entry.at, emails: [entry.email], changes: 0 });
      continue;
    }
    if (entry.kind !== "email" && entry.kind !== "email-sent") continue;
    const user = users.get(entry.userId);
    if (user === undefined) continue;
    // Confirmed: nothing before it stands any more. Sent: it may have been made, or not.
    if (entry.kind === "email") {
      user.emails = [entry.email];
      user.changes++;
    } else if (!user.emails.includes(entry.email)) user.emails.push(entry.email);
  }
  return users;
}

function readLines<T>(file: string): T[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as T);
}

/**
 * Leaf categories, products with stock to spare, and words of their names, from the store's own API. The products
 * with 50 or more in stock, up to MAX_PRODUCTS_PER_CONNECTION a connection: a connection buys its own products in turn,
 * and a long run (the default size's hour of load) sold 62-64 of each of 336 products net of cancels, more than some
 * had, when the list stopped at 20 a connection (2026-12-05).
 */
/** Enough for hours of load (an hour sold 62-64 of each of 20 a connection), and a load config of bounded size. */
const MAX_PRODUCTS_PER_CONNECTION = 200;

async function shoppable(url: string, connections: number): Promise<Pick<LoadConfig, "products" | "leaves" | "words">> {
  const tree = (await (await fetch(`${url}/api/categories`)).json()) as {
    categories: Array<{ id: string; children: Array<{ id: string }> }>;
  };
  const leaves = tree.categories.flatMap((root) => root.children.map((child) => child.id));
  const products: string[] = [];
  const words = new Set<string>();
  for (const leaf of leaves) {
    let cursor: string | undefined;
    do {
      const page = (await (
        await fetch(
          `${url}/api/categories/${leaf}/products?limit=100${cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`}`,
        )
      ).json()) as { items: Array<{ id: string; name: string; inventoryQuantity: number }>; cursor: string | null };
      for (const item of page.items) {
        if (item.inventoryQuantity >= 50) products.push(item.id);
        for (const word of item.name.toLowerCase().split(/[^a-z0-9]+/)) if (word.length >= 4) words.add(word);
      }
      cursor = page.cursor ?? undefined;
    } while (cursor !== undefined && products.length < connections * MAX_PRODUCTS_PER_CONNECTION);
    if (products.length >= connections * MAX_PRODUCTS_PER_CONNECTION) break;
  }
  if (products.length < connections) {
    throw new Error(
      `the seeded store has ${products.length} products with 50 or more in stock, fewer than the load's ${connections} connections: seed more products`,
    );
  }
  return { products, leaves, words: [...words].slice(0, 200) };
}

/** The shadow readers' counters since phase 3 was entered, and the 3 -> 4 guard rail's minimum of comparisons. */
async function shadowState(
  endpoint: string,
): Promise<{ comparisons: number; mismatches: number; minComparisons: number; errors: number; timeouts: number }> {
  const client = dynamoDbClient(endpoint);
  try {
    const counts = await readShadowCounts(client, "");
    const state = await new PhaseStore(client, { tablePrefix: "" }).get();
    return {
      comparisons: counts.comparisons,
      mismatches: counts.mismatches,
      errors: counts.errors,
      timeouts: counts.timeouts,
      minComparisons: state.minComparisons,
    };
  } finally {
    client.destroy();
  }
}

/** A counter's total over every store process (its /metrics), all labels summed. */
async function scrapeTotal(stores: StoreProcess[], name: string): Promise<number> {
  let total = 0;
  for (const store of stores) {
    const text = await (await fetch(`${store.url}/metrics`)).text();
    for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, "gm"))) total += Number(match[1]);
  }
  return total;
}

/**
 * Reads every store process's /healthz every 500 ms from now on: when one first said it refuses writes (`writable`
 * false: its write lease ran out), and, asked, when all take writes again. A health check that fails tells neither.
 */
function watchWritable(stores: StoreProcess[]): {
  refusedAt: () => number | undefined;
  allWritable: (timeoutMs: number, stopping: () => boolean) => Promise<number | undefined>;
  stop: () => Promise<void>;
} {
  let refusedAt: number | undefined;
  const writable = async (store: StoreProcess): Promise<boolean | undefined> => {
    try {
      const answer = await fetch(`${store.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
      const body = (await answer.json()) as { writable?: unknown };
      return typeof body.writable === "boolean" ? body.writable : undefined;
    } catch {
      return undefined;
    }
  };
  const read = async (): Promise<boolean> => {
    const asked = Date.now();
    const states = await Promise.all(stores.map(writable));
    if (states.includes(false)) refusedAt ??= asked;
    return states.every((state) => state === true);
  };
  let stopped = false;
  const watching = (async () => {
    while (!stopped) {
      await read();
      await sleep(500);
    }
  })();
  const stop = async () => {
    stopped = true;
    await watching;
  };
  return {
    refusedAt: () => refusedAt,
    allWritable: async (timeoutMs, stopping) => {
      await stop();
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (await read()) return Date.now();
        if (Date.now() > deadline || stopping()) return undefined;
        await sleep(500);
      }
    },
    stop,
  };
}

/** The mismatch log's latest entries (at most 10). */
async function latestMismatches(endpoint: string): Promise<Mismatch[]> {
  const client = dynamoDbClient(endpoint);
  try {
    return (await new MismatchLog(client, { tablePrefix: "" }).list({ limit: 10 })).mismatches;
  } finally {
    client.destroy();
  }
}

/** Reads every store process's /metrics once a second: the outbox depth (summed) and the phase they route by. */
function pollStores(stores: StoreProcess[]): { stop(): Promise<OutboxSample[]> } {
  const samples: OutboxSample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      let depth = 0;
      let phase = 0;
      for (const store of stores) {
        try {
          const text = await (await fetch(`${store.url}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
          for (const match of text.matchAll(/^ferry_outbox_depth(?:\{[^}]*\})? (\d+)$/gm)) depth += Number(match[1]);
          phase = Math.max(phase, Number(/^ferry_phase(?:\{[^}]*\})? (\d+)$/m.exec(text)?.[1] ?? 0));
        } catch {
          // a store restarting: its depth is unknown this second
        }
      }
      samples.push({ at: Date.now(), depth, phase });
      await sleep(1_000);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

/**
 * Every order the load was told was placed is in DynamoDB (phase 5 reads it alone) with its one line of the product
 * and quantity it bought; every order whose cancel was confirmed is cancelled, and the others are paid.
 */
async function replayLog(
  log: Logged[],
  mysqlUrl: string,
  endpoint: string,
): Promise<{ orders: number; cancels: number; users: number; emailChanges: number; missing: string[] }> {
  const mysql = createMysqlPool(mysqlUrl, { connectionLimit: 2 });
  const dynamodb = dynamoDbClient(endpoint);
  const fleet = new FleetMember({ contract, mysql, dynamodb, app: "journey-replay" });
  await fleet.start();
  try {
    const store: Store = createStore(fleet.storeOptions);
    const cancelled = new Set(log.filter((e): e is LoggedCancel => e.kind === "cancel").map((e) => e.orderId));
    // A cancel sent without its answer seen (the load stopped meanwhile) may or may not have been made.
    const maybe = new Set(log.filter((e): e is LoggedCancel => e.kind === "cancel-sent").map((e) => e.orderId));
    const orders = log.filter((e): e is LoggedOrder => e.kind === "order");
    const missing: string[] = [];
    for (let i = 0; i < orders.length; i += 16) {
      await Promise.all(
        orders.slice(i, i + 16).map(async (logged) => {
          const id = BigInt(logged.orderId);
          const order = await store.orders.get({ id });
          if (order === undefined) {
            missing.push(`order ${logged.orderId} (placed ${new Date(logged.at).toISOString()}) is not there`);
            return;
          }
          const want = cancelled.has(logged.orderId)
            ? ["cancelled"]
            : maybe.has(logged.orderId)
              ? ["paid", "cancelled"]
              : ["paid"];
          if (!want.includes(order.status)) {
            missing.push(`order ${logged.orderId} is ${order.status}, not ${want.join(" or ")}`);
          }
          if (order.totalAmount !== logged.total) {
            missing.push(`order ${logged.orderId} totals ${order.totalAmount}, not ${logged.total}`);
          }
          const lines = await store.orderItems.listOrderItemsByOrderId({ orderId: id });
          const line = lines.items.find((l) => l.productId === BigInt(logged.productId));
          if (lines.items.length !== 1 || line === undefined || line.quantity !== logged.quantity) {
            missing.push(
              `order ${logged.orderId} has lines ${JSON.stringify(lines.items.map((l) => [String(l.productId), l.quantity]))}, not one of product ${logged.productId} x ${logged.quantity}`,
            );
          }
        }),
      );
    }
    // Every shopper the store registered is there, found by the email it must have (the email's index moved with each
    // change), and no longer by its registration's when that changed.
    const users = [...expectedEmails(log)];
    for (let i = 0; i < users.length; i += 16) {
      await Promise.all(
        users.slice(i, i + 16).map(async ([userId, want]) => {
          const user = await store.users.get({ id: BigInt(userId) });
          if (user === undefined || user.username !== want.username) {
            missing.push(
              `user ${userId} (${want.username}, registered ${new Date(want.at).toISOString()}) is ${user === undefined ? "not there" : `${user.username}`}`,
            );
            return;
          }
          if (!want.emails.includes(user.email)) {
            missing.push(`user ${userId}'s email is ${user.email}, not ${want.emails.join(" or ")}`);
            return;
          }
          const registered = `${want.username}@example.com`;
          const [found, old] = await Promise.all([
            store.users.getUserByEmail({ email: user.email }),
            user.email === registered ? undefined : store.users.getUserByEmail({ email: registered }),
          ]);
          if (found?.id !== user.id) {
            missing.push(
              `user ${userId}'s email ${user.email} finds ${found === undefined ? "no one" : `user ${found.id}`}`,
            );
          }
          if (old !== undefined) missing.push(`user ${userId}'s old email ${registered} still finds user ${old.id}`);
        }),
      );
    }
    const emailChanges = users.reduce((sum, [, user]) => sum + user.changes, 0);
    return { orders: orders.length, cancels: cancelled.size, users: users.length, emailChanges, missing };
  } finally {
    await fleet.stop();
    await mysql.end();
    dynamodb.destroy();
  }
}

/** /dev/shm when it is there with 2 GiB free (a container's default is 64 MiB: too small for MariaDB). */
export function roomyTmpfs(): string | undefined {
  try {
    const stats = statfsSync("/dev/shm");
    return stats.bavail * stats.bsize >= 2 * 2 ** 30 ? "/dev/shm" : undefined;
  } catch {
    return undefined;
  }
}

/** Two stretches of the load as one: answers, errors and timeouts summed. */
export function mergeSummaries(summaries: LoadSummary[]): LoadSummary {
  const merged: LoadSummary = { steps: {}, errors: 0, timeouts: 0 };
  for (const summary of summaries) {
    merged.errors += summary.errors;
    merged.timeouts += summary.timeouts;
    for (const [step, answers] of Object.entries(summary.steps)) {
      const into = merged.steps[step] ?? {};
      for (const [status, count] of Object.entries(answers)) into[status] = (into[status] ?? 0) + count;
      merged.steps[step] = into;
    }
  }
  return merged;
}

/** One failed request of the load (load.mjs's failures file). */
export interface Failure {
  at: number;
  step: string;
  /** The HTTP status, "error" for a connection error, "cut" for a request whose connection closed unanswered. */
  status: string;
  /** The store process it was sent to. */
  url?: string;
  /** The store's error code, when it answered one (e.g. "out_of_stock"). */
  code?: string;
}

/** Client errors a visit meets after one of its requests failed (its cart empty, its order not placed, ...). */
const CASCADES = ["400", "401", "403", "404", "409"];

/** A fault's window is stretched by this much: the load's connections come back and its queue drains. */
export const FAULT_GRACE_MS = 5_000;

/** Into an outage of the control table, when a store process may start refusing writes: 5 s short of its lease. */
export const WRITES_REFUSED_AFTER_MS = DEFAULT_WRITE_LEASE_MS - 5_000;

/** A shadow difference is read again after 250 ms, 1 s and 4 s more (the ShadowReader's default): that, and a margin. */
const RECHECKS_SPAN_MS = 7_000;

/**
 * Sorts the journey's failed requests: one within a fault's window (from the fault to its server answering again,
 * plus FAULT_GRACE_MS) that the fault allows (its status, on its store) is that fault's cost. Any other 5xx or
 * connection error is a problem; any other client error is one unless the control run saw that step answer so, at no
 * less than a third of the journey's rate (the share of the step's answers; `journey` gives the journey's).
 */
export function judgeFailures(
  failures: Failure[],
  journey: LoadSummary,
  control: LoadSummary | undefined,
  faults: FaultRecord[],
  timeline?: { started: number; events: TimelineEvent[] },
): { problems: string[]; costs: Map<FaultRecord, Record<string, number>> } {
  const costs = new Map<FaultRecord, Record<string, number>>();
  const outside = new Map<
    string,
    { count: number; first: number; last: number; urls: Set<string>; codes: Map<string, number> }
  >();
  for (const failure of failures) {
    const fault = faults.find(
      (f) =>
        failure.at >= f.from &&
        failure.at <= f.to + (f.graceMs ?? FAULT_GRACE_MS) &&
        f.allows.statuses.includes(failure.status) &&
        (f.allows.url === undefined || f.allows.url === failure.url),
    );
    const kind = `${failure.step} ${failure.status}`;
    if (fault !== undefined) {
      const cost = costs.get(fault) ?? {};
      cost[kind] = (cost[kind] ?? 0) + 1;
      costs.set(fault, cost);
    } else {
      const seen = outside.get(kind) ?? {
        count: 0,
        first: failure.at,
        last: failure.at,
        urls: new Set<string>(),
        codes: new Map<string, number>(),
      };
      seen.count++;
      if (failure.code !== undefined) seen.codes.set(failure.code, (seen.codes.get(failure.code) ?? 0) + 1);
      seen.first = Math.min(seen.first, failure.at);
      seen.last = Math.max(seen.last, failure.at);
      if (failure.url !== undefined) seen.urls.add(failure.url);
      outside.set(kind, seen);
    }
  }
  /** When, on the journey's clock, and in which phase of its timeline. */
  const when = (at: number) => {
    if (timeline === undefined) return "";
    const phase = timeline.events.filter((e) => e.kind === "phase" && e.at <= at).at(-1);
    return `${((at - timeline.started) / 1000).toFixed(1)} s${phase === undefined ? "" : ` (${phase.text})`}`;
  };
  const total = (summary: LoadSummary | undefined, step: string) =>
    Object.values(summary?.steps[step] ?? {}).reduce((sum, count) => sum + count, 0);
  const problems: string[] = [];
  for (const [kind, { count, first, last, urls, codes }] of outside) {
    const [step = "", status = ""] = kind.split(" ");
    const seen = control?.steps[step]?.[status] ?? 0;
    const journeyRate = count / Math.max(1, total(journey, step));
    const controlRate = seen / Math.max(1, total(control, step));
    if (status === "error" || status === "cut" || status.startsWith("5") || controlRate * 3 < journeyRate) {
      const answered =
        status === "error" ? "with a connection error" : status === "cut" ? "cut unanswered" : `answered ${status}`;
      const span =
        timeline === undefined
          ? ""
          : `; at ${first === last ? when(first) : `${when(first)} to ${when(last)}`}, on ${[...urls].sort().join(", ") || "no store"}`;
      const said =
        codes.size === 0
          ? ""
          : `; the store said ${[...codes]
              .sort((a, b) => b[1] - a[1])
              .map(([code, n]) => `${code} (${n})`)
              .join(", ")}`;
      problems.push(
        `${step}: ${count} ${answered} outside what a fault may cost${control === undefined ? "" : ` (the control run: ${seen} of ${total(control, step)})`}${span}${said}`,
      );
    }
  }
  return { problems, costs };
}
